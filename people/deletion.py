"""Forgetting a person for good (a GDPR/CCPA erasure request), and suppressing their ids.

Deleting a person removes the person, the rows merged into it, their identities, their events and
the copies of their messages (rejected-message log, dead letters) in one transaction under the
workspace's write lock taken exclusive, in a fixed number of queries. Delete and suppress also
records the ids so the worker drops their messages (people/suppression.py). Segment's forwarded
`delete` messages are applied here too (`message_delete`). Owners and admins delete and suppress,
only owners lift (`Membership.can`), checked here; the audit log names the ids, never the
person's traits.

Design: docs/design/erasure.md
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AuditEntry, Membership, RejectedMessage, Source, Workspace
from accounts.team import Capability, NotAllowed, audit_record
from core.locks import workspaces_lock
from core.lookups import contains_any, equals_unindexed, one_of
from core.messages import Message
from people.identity import usable_id
from people.models import DeleteReceipt, Identity, Person, Suppression
from people.signals import person_erasing, person_ids_erasing

# Message keys that carry an id; a `delete` names its person by userId and/or anonymousId.
DELETE_TYPE = "delete"
DELETE_ID_KEYS = ("user_id", "anonymous_id")
AUDIT_TARGET_IDS = 10
EVENT_LABEL = "feed.Event"
Action = AuditEntry.Action


@dataclass(frozen=True)
class Deleted:
    """What a deletion removed: the ids (kind, value) and row counts, never the person's data."""

    ids: list[tuple[str, str]] = field(default_factory=list)
    people: int = 0
    events: int = 0
    # Copies of their messages kept outside the feed: the sources' logs, ingest's dead letters.
    rejections: int = 0
    dead_letters: int = 0

    def audit_detail(self) -> dict[str, Any]:
        return {
            "ids": [f"{kind}:{value}" for kind, value in self.ids],
            "people": self.people,
            "events": self.events,
            "rejections": self.rejections,
            "dead_letters": self.dead_letters,
        }

    def audit_target(self, person_id: int | None = None) -> str:
        shown = ", ".join(f"{kind}:{value}" for kind, value in self.ids[:AUDIT_TARGET_IDS])
        more = len(self.ids) - AUDIT_TARGET_IDS
        ids = f"{shown} and {more} more" if more > 0 else shown or "no ids"
        return f"Person #{person_id} ({ids})" if person_id else ids


# The id keys of a message as sent (camelCase) and as queued or dead-lettered (snake_case).
EXCERPT_ID_KEYS = ("userId", "anonymousId", "previousId", "user_id", "anonymous_id", "previous_id")


def excerpt_needles(values: list[str]) -> list[str]:
    """How an id value shows in an excerpt (ingest.segment.excerpt: ASCII JSON, `": "` and `", "`
    separators): as a quoted JSON string, so that the id "7" does not match every excerpt holding
    a 7; and, for a value a sender may have sent as a number (the identity rules make 987654321
    the id "987654321"), as that number under an id key, followed by the end of the value, so
    that 98765432 or a property 987654321 is not theirs."""
    needles = [json.dumps(value) for value in values]
    for value in values:
        if _json_number(value):
            needles += [f'"{key}": {value}{end}' for key in EXCERPT_ID_KEYS for end in ",}"]
    return needles


def _json_number(value: str) -> bool:
    """Whether `value` is how a JSON number sent as an id reads once made a string (str(int),
    str(float): the form both `ingest.segment` and the excerpt's encoder write)."""
    try:
        number = json.loads(value)
    except ValueError:
        return False
    return type(number) in (int, float) and json.dumps(number) == value


def _rejections_forget(*, workspace_id: int, values: list[str]) -> int:
    """Delete the workspace's source-log rows whose excerpt shows one of the values: one DELETE."""
    rows = RejectedMessage.objects.filter(
        contains_any("excerpt", excerpt_needles(values)),
        source__in=Source.objects.filter(workspace_id=workspace_id).values("pk"),
    )
    return rows.delete()[0]


def _ids_forget(*, workspace_id: int, values: list[str]) -> int:
    """Have the apps above delete their copies of messages holding the values (ingest's dead
    letters, people/signals.py); how many rows they deleted."""
    replies = person_ids_erasing.send(sender=Person, workspace_id=workspace_id, values=values)
    return sum(deleted for _, deleted in replies)


def _erase(*, workspace_id: int, person_ids: list[int]) -> Deleted:
    """Delete these people of the workspace, the people merged into them, their identities and
    their events: a fixed number of statements whatever the number of rows (bulk, no loops)."""
    if not person_ids:
        return Deleted()
    # Scoped to the workspace: a person id from elsewhere deletes nothing.
    people = Person.objects.filter(workspace_id=workspace_id).filter(
        Q(pk__in=person_ids) | Q(merged_into__in=person_ids)
    )
    doomed = list(people.values_list("pk", flat=True))
    identities = Identity.objects.filter(workspace_id=workspace_id, person_id__in=doomed)
    ids = sorted(identities.values_list("kind", "value"))
    # What the apps above keep about these identities and their events (feed's activity rollups)
    # goes first, while the rows are still there to say what they were (people/signals.py).
    person_erasing.send(sender=Person, identities=identities)
    values = sorted({value for _, value in ids})
    rejections = _rejections_forget(workspace_id=workspace_id, values=values) if values else 0
    dead_letters = _ids_forget(workspace_id=workspace_id, values=values) if values else 0
    # Deleting the identities deletes their events (Event.identity cascades): Django's collector
    # reads the identities' pks and deletes the events in one statement, then the identities.
    # Other rows cascade with them too (feed's per-identity rollups), so the events are counted
    # by their label: a string, as people/ may not import feed/.
    _, per_model = identities.delete()
    Person.objects.filter(workspace_id=workspace_id, pk__in=doomed).delete()
    return Deleted(
        ids=ids,
        people=len(doomed),
        events=per_model.get(EVENT_LABEL, 0),
        rejections=rejections,
        dead_letters=dead_letters,
    )


def _require(allowed: bool, why: str) -> None:
    if not allowed:
        raise NotAllowed(why)


@transaction.atomic
def person_delete(
    *, workspace: Workspace, person: Person, actor: Membership, suppress: bool = False
) -> Deleted:
    """Delete a person (the Delete button), and with `suppress` keep their ids out for good."""
    _require(
        actor.workspace_id == workspace.pk and actor.can(Capability.DELETE_PEOPLE),
        "Only owners and admins delete people.",
    )
    workspaces_lock([workspace.pk])
    deleted = _erase(workspace_id=workspace.pk, person_ids=[person.pk])
    if not deleted.people:
        return deleted  # deleted meanwhile (two tabs), or not of this workspace
    if suppress:
        Suppression.objects.bulk_create(
            [
                Suppression(workspace=workspace, kind=kind, value=value, created_by=actor.user)
                for kind, value in deleted.ids
            ],
            ignore_conflicts=True,
        )
    audit_record(
        workspace=workspace,
        actor=actor.user,
        action=Action.PERSON_SUPPRESSED if suppress else Action.PERSON_DELETED,
        target=deleted.audit_target(person.pk),
        detail={"person_id": person.pk, **deleted.audit_detail()},
    )
    return deleted


@transaction.atomic
def suppression_lift(*, workspace: Workspace, suppression: Suppression, actor: Membership) -> None:
    """Let the id's messages in again (from now on; what was dropped stays dropped)."""
    _require(
        actor.workspace_id == workspace.pk and actor.can(Capability.OWNER),
        "Only owners lift a suppression.",
    )
    lifted, _ = Suppression.objects.for_workspace(workspace).filter(pk=suppression.pk).delete()
    if lifted:
        audit_record(
            workspace=workspace,
            actor=actor.user,
            action=AuditEntry.Action.SUPPRESSION_LIFTED,
            target=str(suppression),
            detail={"ids": [str(suppression)]},
        )


# --- Segment's `delete` messages (the worker) -------------------------------------------------


def deletes_apart(messages: list[Message]) -> list[tuple[list[Message], Message | None]]:
    """The batch as runs of ordinary messages, each followed by the `delete` that ends it (None
    after the last run), so that each delete applies where it stands in the batch."""
    runs: list[tuple[list[Message], Message | None]] = []
    run: list[Message] = []
    for message in messages:
        if message.type == DELETE_TYPE:
            runs.append((run, message))
            run = []
        else:
            run.append(message)
    if run or not runs:
        runs.append((run, None))
    return runs


def message_delete(*, message: Message) -> Deleted:
    """Apply a `delete` Segment forwarded: delete whoever holds its ids (no suppression).

    The worker calls it inside its batch transaction, under the workspace lock (exclusive for a
    batch that carries a `delete`, ingest/store.py). The message is
    not stored as an event: an event would belong to an identity of the person it erases (and
    die with it), or keep the erased user's id in the Feed. Its messageId is kept as a
    `DeleteReceipt` instead, so a re-sent delete does not erase the person that later messages
    started. A delete that erases someone gets its own audit entry; one for ids nobody holds
    (Segment forwards every deletion of its workspace, most for users this destination never
    saw) only adds to its source's count of the day (`_unmatched_count`).
    """
    workspace_id = message.workspace_id
    values = {v for key in DELETE_ID_KEYS if (v := usable_id(getattr(message, key)))}
    source = Source.objects.filter(pk=message.source_id).first()
    if source is not None and not source.may_erase:
        _refused_in_worker(source=source, message=message)
        return Deleted()
    if _already_applied(workspace_id, message.message_id):
        return Deleted()
    DeleteReceipt.objects.create(workspace_id=workspace_id, message_id=message.message_id)
    person_ids = (
        list(
            Identity.objects.filter(
                one_of("value", values), equals_unindexed("workspace_id", workspace_id)
            )
            .values_list("person_id", flat=True)
            .distinct()
        )
        if values
        else []
    )
    deleted = _erase(workspace_id=workspace_id, person_ids=person_ids)
    label = f"Source {source.name} ({source.token_prefix}…)" if source else "A deleted source"
    actor_label = f"{label}: Segment delete"[:254]
    if not deleted.people:
        _unmatched_count(workspace_id=workspace_id, source_id=message.source_id, label=actor_label)
        return deleted
    audit_record(
        workspace=Workspace(pk=workspace_id),
        actor=None,
        actor_label=actor_label,
        action=AuditEntry.Action.PERSON_DELETED,
        target=deleted.audit_target(),
        detail={
            "message_id": message.message_id,
            "source_id": message.source_id,
            "requested_ids": sorted(values),
            **deleted.audit_detail(),
        },
    )
    return deleted


def _refused_in_worker(*, source: Source, message: Message) -> None:
    """The edge refuses a delete from a source that may not erase (ingest/erasure_rule.py); one
    that reaches the worker anyway was queued before an admin forbade the source, or by a server
    older than the rule. It is refused here too, in the source's log like the edge's refusals,
    with its ids as the excerpt's JSON (so erasing that person later forgets the row)."""
    ids = {"userId": message.user_id, "anonymousId": message.anonymous_id}
    RejectedMessage.objects.create(
        source=source,
        received_at=message.received_at,
        reason=(
            "This source was not allowed to erase people when the worker reached this delete: "
            "it was not applied."
        ),
        excerpt=json.dumps(
            {"type": "delete", "messageId": message.message_id, **ids}, ensure_ascii=True
        )[:500],
    )


def _already_applied(workspace_id: int, message_id: str) -> bool:
    """Whether this delete was applied before: a receipt, or (applied before receipts were kept)
    an audit entry naming its messageId."""
    if DeleteReceipt.objects.filter(workspace_id=workspace_id, message_id=message_id).exists():
        return True
    return AuditEntry.objects.filter(
        workspace_id=workspace_id,
        action=AuditEntry.Action.PERSON_DELETED,
        detail__message_id=message_id,
    ).exists()


def _unmatched_count(*, workspace_id: int, source_id: int | None, label: str) -> None:
    """Count a delete for ids nobody held on its source's entry of the day (UTC), never one entry
    each: a flood of them must not push the team's entries off the audit log. The ids are not
    listed (nobody held them). Safe to read and write back: deletes run with the workspace's
    lock taken exclusive (ingest/store.py)."""
    now = timezone.now()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    entry = (
        AuditEntry.objects.filter(
            workspace_id=workspace_id,
            action=AuditEntry.Action.ERASURES_UNMATCHED,
            created_at__gte=day,
            detail__source_id=source_id,
        )
        .order_by("-id")
        .first()
    )
    count = entry.detail.get("count", 0) + 1 if entry else 1
    target = f"Deletes for ids held by no one on {day.date().isoformat()}: {count}"
    if entry is None:
        audit_record(
            workspace=Workspace(pk=workspace_id),
            actor=None,
            actor_label=label,
            action=AuditEntry.Action.ERASURES_UNMATCHED,
            target=target,
            detail={"source_id": source_id, "day": day.date().isoformat(), "count": count},
        )
        return
    entry.detail["count"] = count
    entry.target = target
    entry.save(update_fields=["detail", "target"])
