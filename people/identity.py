"""Who is who: the identity rules, applied to a batch of messages in a fixed number of queries.

Every rule is a join (commutative, associative, idempotent): any order and any number of repeats
of the same messages give the same people, identities, traits, groups and event attribution.

The rules:
- An id (userId, anonymousId, previousId) is one `Identity` per workspace, `user` once sent as one.
- Junk ids (`JUNK_IDS`: "", "null", "undefined", ...) are absent: kept message, no link, a warning.
- An event stays on the identity it was sent with (userId, else anonymousId, else previousId).
- alias(previousId, userId) is a hard link: one person forever (repeats, chains, self: harmless).
- userId U with anonymousId A is a soft link A -> U: it never joins two user ids.
- Only a free anonymous id (never a userId, never aliased) follows a soft link: its earliest one.
- `Identity.linked_*` say why an id is where it is: its earliest soft link or alias.
- A person is one hard cluster plus the free ids whose earliest soft link points into it.
- A merge moves identities, never events; the emptied row keeps `merged_into` the survivor.
- A person holds at most WINDSOR_PERSON_IDS_MAX ids; a link past it is refused (people/id_limit.py).
- Per trait key, and for the group, the newer (timestamp, messageId) wins.
- A sync (Engage's audience and computed-trait calls: `context.personas`) and an imported message
  (`context.windsor_import`) set traits but never move first or last seen (`moves_last_seen`):
  last seen is the customer doing something. They still count as stored messages.
- A boolean trait is an audience only when its newest value came from a sync; a plain identify's
  `churned: true` is a trait. Entries stored before syncs were told apart (3 elements) keep the
  old rule: boolean with a snake_case key.
- A person's columns are recomputed from all its identities whenever one of them changes,
  `search_text` (people/search_text.py) with them.
- A message's time is its skew-corrected `timestamp`, else its `received_at`.

Design: docs/design/identity.md
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from core.bulk import bulk_insert, bulk_update, rows_read
from core.lookups import equals_unindexed
from core.messages import Message
from people.id_limit import Refusal, person_ids_max, refusals_record
from people.models import Audience, Group, Identity, Person
from people.rows import IDENTITY_COLUMNS, IdentityRow, PersonRow, identity_rows
from people.search_text import search_text_of, search_traits_cached

logger = logging.getLogger(__name__)

JUNK_IDS = frozenset(
    {
        "",
        "null",
        "undefined",
        "0",
        "-1",
        "anonymous",
        "none",
        "nil",
        "nan",
        "unknown",
        "[object object]",
    }
)
USER = Identity.Kind.USER
ANONYMOUS = Identity.Kind.ANONYMOUS
RESERVED = frozenset({"email", "phone", "avatar", "name"})
FIRST_NAME = ("firstName", "first_name")
LAST_NAME = ("lastName", "last_name")
SNAKE_CASE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")

# (timestamp ISO in UTC, messageId): orders two messages the same way whatever the arrival order.
Version = tuple[str, str]

# What marks a sync: Segment Engage (Personas) puts `context.personas` {computation_class,
# computation_key, computation_id, space_id, namespace} on every audience and computed-trait call
# it sends (the identify and the "Audience Entered/Exited" tracks alike; see the recorded
# tests/fixtures/segment/segment-destination-examples.jsonl).
SYNC_CONTEXT_KEY = "personas"
# What marks a server-side import (issue 30 will set it on every message it stores): the import
# keeps each message's own context and adds this key. A sender setting it only stops its own
# messages from moving first/last seen.
IMPORT_CONTEXT_KEY = "windsor_import"


def is_sync(message: Message) -> bool:
    """An Engage (Personas) audience or computed-trait sync: a non-empty `context.personas`."""
    personas = message.context.get(SYNC_CONTEXT_KEY)
    return isinstance(personas, dict) and bool(personas)


def moves_last_seen(message: Message) -> bool:
    """Whether the message is the customer doing something: not a sync, not an import. Only such
    messages move an identity's (and so a person's) first and last seen."""
    return not is_sync(message) and not message.context.get(IMPORT_CONTEXT_KEY)


def usable_id(value: Any) -> str | None:
    """The id as a string, or None when it is absent or junk."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in JUNK_IDS:
        return None
    return text[:255]


def version_of(moment: datetime, message_id: str) -> Version:
    # Fixed-width UTC ISO strings compare in time order, so versions stay JSON-friendly.
    return (moment.isoformat(timespec="microseconds"), message_id)


def versions_apply(
    versions: dict, values: dict, version: Version, *, synced: bool | None = None
) -> bool:
    """Merge `values` sent at `version` into `versions` key by key; True if anything changed.

    `synced` (identities' traits only): a 4th element, 1 when the message was a sync, else 0;
    groups' entries keep 3 elements."""
    changed = False
    tail = [] if synced is None else [int(synced)]
    for key, value in values.items():
        current = versions.get(key)
        if current is None or (current[1], current[2]) < version:
            versions[key] = [value, version[0], version[1], *tail]
            changed = True
    return changed


def is_audience(key: str, entry: list) -> bool:
    """A trait entry [value, ts, mid, synced] that is an audience: a boolean from a sync. An entry
    of 3 elements was stored before syncs were told apart: the old rule (a boolean with a
    snake_case key) keeps the audiences it made (see docs/design/identity.md)."""
    if not isinstance(entry[0], bool):
        return False
    if len(entry) > 3:
        return bool(entry[3])
    return bool(SNAKE_CASE.match(key))


def versions_join(many: list[dict]) -> dict:
    """Per key, the newest [value, ts, mid] across several `trait_versions`."""
    joined: dict = {}
    for versions in many:
        for key, entry in versions.items():
            current = joined.get(key)
            if current is None or (current[1], current[2]) < (entry[1], entry[2]):
                joined[key] = entry
    return joined


def _column(value: Any, limit: int) -> str | None:
    # A column holds text: booleans and structures are not an email, phone or name.
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text[:limit] or None


def _newest(joined: dict, keys: tuple[str, ...]) -> Any:
    entries = [joined[k] for k in keys if k in joined]
    if not entries:
        return None
    return max(entries, key=lambda e: (e[1], e[2]))[0]


def person_summary(
    identities: list[IdentityRow], groups: dict[str, Group], search_traits: list[str] | tuple = ()
) -> dict[str, Any]:
    """The derived fields of a person, from all of its identities (see the module rules);
    `search_traits`: the workspace's trait keys whose text values search finds."""
    joined = versions_join([i.trait_versions for i in identities])
    name = _column(joined["name"][0], 500) if "name" in joined else None
    if not name:
        parts = [
            _column(_newest(joined, FIRST_NAME), 250),
            _column(_newest(joined, LAST_NAME), 250),
        ]
        name = " ".join(p for p in parts if p) or None
    audiences = {k: e[0] for k, e in sorted(joined.items()) if is_audience(k, e)}
    traits = {
        k: e[0] for k, e in sorted(joined.items()) if k not in RESERVED and k not in audiences
    }
    group_versions = [i.group_version for i in identities if i.group_version]
    newest_group = max(group_versions, key=lambda g: (g[1], g[2]))[0] if group_versions else None
    email = _column(joined["email"][0], 320) if "email" in joined else None
    phone = _column(joined["phone"][0], 100) if "phone" in joined else None
    return {
        "email": email,
        "phone": phone,
        "avatar": _column(joined["avatar"][0], 2000) if "avatar" in joined else None,
        "name": name,
        "search_text": search_text_of(
            name=name, email=email, phone=phone, traits=traits, keys=search_traits
        ),
        "traits": traits,
        "audiences": audiences,
        "group_id": groups[newest_group].pk if newest_group in groups else None,
        "is_identified": any(i.kind == USER for i in identities),
        **_seen(identities),
    }


def _seen(identities: list[IdentityRow]) -> dict[str, Any]:
    """A person's first and last seen and event count, from its identities."""
    firsts = [i.first_seen for i in identities if i.first_seen]
    lasts = [i.last_seen for i in identities if i.last_seen]
    return {
        "first_seen": min(firsts) if firsts else None,
        "last_seen": max(lasts) if lasts else None,
        "event_count": sum(i.event_count for i in identities),
    }


def identities_read(workspace_id: int, values: set[str]) -> list[IdentityRow]:
    """Every identity of every person holding one of these id values: merges and recomputing a
    person need all of its ids.

    One round trip; the persons' ids are gathered first into an array (an init plan), so both
    lookups are index scans: as one IN (subquery), with stale statistics (right after a burst)
    PostgreSQL planned a nested loop over the workspace's identities, seconds per batch. The ids
    are found by the unique (value, workspace) index, one descent each, the workspace only
    filtering them (`workspace_id + 0`, see core/lookups.py `equals_unindexed`).
    """
    if not values:
        return []
    if connection.vendor != "postgresql":
        touched = Identity.objects.filter(
            equals_unindexed("workspace_id", workspace_id), value__in=values
        ).values("person_id")
        return identity_rows(
            list(Identity.objects.filter(person_id__in=touched).values_list(*IDENTITY_COLUMNS))
        )
    table = Identity._meta.db_table
    columns = ", ".join(
        connection.ops.quote_name(Identity._meta.get_field(name).column)
        for name in IDENTITY_COLUMNS
    )
    return identity_rows(
        rows_read(
            f"SELECT {columns} FROM {table} WHERE person_id = ANY(ARRAY("  # noqa: S608 (names)
            f"SELECT DISTINCT person_id FROM {table} WHERE workspace_id + 0 = %s"
            " AND value = ANY(%s)))",
            [workspace_id, list(values)],
        )
    )


PERSON_FIELDS = [
    "email",
    "phone",
    "avatar",
    "name",
    "traits",
    "audiences",
    "search_text",
    "group",
    "is_identified",
    "first_seen",
    "last_seen",
    "event_count",
    "updated_at",
]
# What events alone change, on a person (and, but for updated_at, on an identity).
SEEN_FIELDS = ["first_seen", "last_seen", "event_count", "updated_at"]
IDENTITY_FIELDS = [
    "kind",
    "person",
    "aliased",
    "trait_versions",
    "group_version",
    "first_seen",
    "last_seen",
    "event_count",
    "linked_at",
    "linked_by_message_id",
    "linked_by_type",
    "linked_to",
]
# Why an id is on its person: (when, by which messageId, the other id, that message's type).
Link = tuple[datetime, str, str, str]


@dataclass(eq=False)
class PersonState:
    """A person while a batch is applied: which id values it holds, and what became of it."""

    pk: int | None
    members: set[str] = field(default_factory=set)
    merged_into: "PersonState | None" = None
    # Something of it changed (it needs a write) / its ids changed (recompute all its columns).
    touched: bool = False
    reshaped: bool = False

    def survivor(self) -> "PersonState":
        person = self
        while person.merged_into is not None:
            person = person.merged_into
        return person


@dataclass
class Applied:
    """What the batch decided for one message: the identity its event belongs to, and warnings."""

    identity: IdentityRow | None
    warnings: list[str]


class IdentityBatch:
    """The identity rules for one workspace, applied to many messages with bulk reads and writes.

    Use: `batch = IdentityBatch(workspace_id, messages)`; `batch.load()`; `batch.apply(m)` for
    each (new) message; `batch.save()`. Identities in `Applied` have their pk after `save()`.
    """

    def __init__(self, workspace_id: int, messages: list[Message]) -> None:
        self.workspace_id = workspace_id
        self.messages = messages
        self.identities: dict[str, IdentityRow] = {}
        self.person_of: dict[str, PersonState] = {}
        self.people: list[PersonState] = []
        self.groups: dict[str, Group] = {}
        # Ids whose row changed beyond first/last seen and counts (written whole), and ids that
        # only saw events (written narrow: most of a stream is tracks and pages of known ids).
        self.dirty_identities: set[str] = set()
        self.seen_identities: set[str] = set()
        self.dirty_groups: set[str] = set()
        # The bound on a person's ids, and the links it refused (people/id_limit.py).
        self.ids_max = person_ids_max()
        self.refused: list[tuple[Message, str, str, PersonState]] = []
        # The workspace's indexed trait keys: asked once, by the first person rewritten whole.
        self.search_traits: list[str] | None = None

    def _search_traits(self) -> list[str]:
        if self.search_traits is None:
            self.search_traits = search_traits_cached(self.workspace_id)
        return self.search_traits

    # -- loading ---------------------------------------------------------------------------

    def load(self, loaded: list[IdentityRow] | None = None) -> None:
        """Read what the batch's rules need. `loaded`: `identities_read` of the batch's ids, as
        `people.locking.batch_lock` read it last, under the locks (one read fewer)."""
        values: set[str] = set()
        group_ids: set[str] = set()
        for m in self.messages:
            for raw in (m.user_id, m.anonymous_id, m.previous_id):
                value = usable_id(raw)
                if value:
                    values.add(value)
            if m.type == "group" and usable_id(m.group_id):
                group_ids.add(usable_id(m.group_id))
        if values:
            people: dict[int, PersonState] = {}
            if loaded is None:
                loaded = identities_read(self.workspace_id, values)
            for identity in loaded:
                person = people.get(identity.person_id)
                if person is None:
                    person = people[identity.person_id] = PersonState(pk=identity.person_id)
                    self.people.append(person)
                person.members.add(identity.value)
                self.identities[identity.value] = identity
                self.person_of[identity.value] = person
                if identity.group_version:
                    group_ids.add(identity.group_version[0])
        if group_ids:
            for group in Group.objects.filter(
                workspace_id=self.workspace_id, group_id__in=group_ids
            ):
                self.groups[group.group_id] = group

    # -- small moves -----------------------------------------------------------------------

    def _new_person(self) -> PersonState:
        person = PersonState(pk=None, touched=True, reshaped=True)
        self.people.append(person)
        return person

    def _ensure(self, value: str, kind: str) -> IdentityRow:
        identity = self.identities.get(value)
        if identity is None:
            identity = IdentityRow(workspace_id=self.workspace_id, value=value, kind=kind)
            self.identities[value] = identity
            person = self._new_person()
            person.members.add(value)
            self.person_of[value] = person
            self.dirty_identities.add(value)
        return identity

    def _move(self, value: str, to: PersonState) -> None:
        old = self.person_of[value]
        if old is to:
            return
        old.members.discard(value)
        to.members.add(value)
        self.person_of[value] = to
        self.dirty_identities.add(value)
        old.touched = to.touched = old.reshaped = to.reshaped = True
        if not old.members:
            old.merged_into = to

    def _merge(self, loser: PersonState, survivor: PersonState) -> None:
        if loser is survivor:
            return
        for value in loser.members:
            self.person_of[value] = survivor
            self.dirty_identities.add(value)
        survivor.members |= loser.members
        loser.members = set()
        loser.merged_into = survivor
        survivor.touched = survivor.reshaped = True

    def _is_free(self, identity: IdentityRow) -> bool:
        return identity.kind == ANONYMOUS and not identity.aliased

    def _ensure_user(self, value: str) -> IdentityRow:
        identity = self._ensure(value, USER)
        if identity.kind == ANONYMOUS:
            # A free id following a soft link leaves that person: user ids are never joined by a
            # soft link. Alone on its placeholder it simply stays there.
            if self._is_free(identity) and identity.linked_to:
                self._move(value, self._new_person())
                self._set_link(identity, None)
            identity.kind = USER
            self.dirty_identities.add(value)
            self.person_of[value].touched = True
        return identity

    def _soft_link(
        self, anonymous_id: str, user_id: str, message: Message, warnings: list[str]
    ) -> None:
        identity = self._ensure(anonymous_id, ANONYMOUS)
        link = (message.timestamp, message.message_id, user_id, message.type)
        # Only a free id follows (and records) its soft link; once it is a user id or aliased it
        # never becomes free again, so ignoring later links keeps the result order-independent.
        if not self._is_free(identity) or not self._is_earlier(identity, link):
            return
        target = self.person_of[user_id]
        if self.person_of[anonymous_id] is not target and not self._room(target, 1):
            if not identity.linked_to:
                # Alone, it keeps the link it would follow: the calls that keep carrying both
                # ids are not refused (and recorded) again.
                self._set_link(identity, link)
            self._refuse(message, "anonymousId", anonymous_id, target, warnings)
            return
        self._set_link(identity, link)
        self._move(anonymous_id, target)

    def _alias_link(self, identity: IdentityRow, moment: datetime, mid: str, other: str) -> None:
        """Mark an id as named in an alias; its link becomes the earliest alias naming it."""
        if not identity.aliased:
            identity.aliased = True
            self._set_link(identity, (moment, mid, other, "alias"))
        else:
            self._earlier_link(identity, (moment, mid, other, "alias"))

    def _earlier_link(self, identity: IdentityRow, link: Link) -> bool:
        if not self._is_earlier(identity, link):
            return False
        self._set_link(identity, link)
        return True

    def _is_earlier(self, identity: IdentityRow, link: Link) -> bool:
        return (
            identity.linked_at is None
            or (
                identity.linked_at,
                identity.linked_by_message_id,
                identity.linked_to,
            )
            > link[:3]
        )

    def _room(self, person: PersonState, joining: int) -> bool:
        """Whether `joining` more ids keep the person within the bound."""
        return len(person.members) + joining <= self.ids_max

    def _refuse(
        self, message: Message, role: str, value: str, person: PersonState, warnings: list[str]
    ) -> None:
        warnings.append(
            f"{role} {value[:40]!r} not linked: a person holds at most {self.ids_max} ids"
        )
        self.refused.append((message, role, value, person))

    def _set_link(self, identity: IdentityRow, link: Link | None) -> None:
        (
            identity.linked_at,
            identity.linked_by_message_id,
            identity.linked_to,
            identity.linked_by_type,
        ) = link or (None, "", "", "")
        self.dirty_identities.add(identity.value)

    def _seen(self, identity: IdentityRow, moment: datetime, message: Message) -> None:
        if moves_last_seen(message):
            if identity.first_seen is None or moment < identity.first_seen:
                identity.first_seen = moment
            if identity.last_seen is None or moment > identity.last_seen:
                identity.last_seen = moment
        identity.event_count += 1
        self.seen_identities.add(identity.value)
        self.person_of[identity.value].touched = True

    # -- the rules -------------------------------------------------------------------------

    def apply(self, message: Message) -> Applied:
        """Apply one new message (the caller skips messages already stored)."""
        warnings: list[str] = []
        user_id = self._usable("user_id", message.user_id, warnings)
        anonymous_id = self._usable("anonymous_id", message.anonymous_id, warnings)
        moment = message.timestamp
        if user_id:
            self._ensure_user(user_id)
        if user_id and anonymous_id and anonymous_id != user_id:
            self._soft_link(anonymous_id, user_id, message, warnings)
        kind = message.type
        if kind == "alias":
            return self.alias(message, user_id, anonymous_id, moment, warnings)
        if kind == "identify":
            return self.identify(message, user_id or anonymous_id, moment, warnings)
        if kind == "group":
            return self.group(message, user_id or anonymous_id, moment, warnings)
        return self.track(message, user_id or anonymous_id, moment, warnings)

    def identify(
        self, message: Message, key: str | None, moment: datetime, warnings: list[str]
    ) -> Applied:
        """Traits (and context.traits) onto the identity the call was sent with."""
        traits = {**_context_traits(message), **message.traits}
        return self._record(message, key, moment, warnings, traits)

    def track(
        self, message: Message, key: str | None, moment: datetime, warnings: list[str]
    ) -> Applied:
        """track/page/screen: an event on the id; context.traits fill traits the same way."""
        traits = _context_traits(message)
        return self._record(message, key, moment, warnings, traits)

    def group(
        self, message: Message, key: str | None, moment: datetime, warnings: list[str]
    ) -> Applied:
        """The newer groupId (by timestamp) is the person's one group; traits go on the Group."""
        applied = self.track(message, key, moment, warnings)
        group_id = self._usable("group_id", message.group_id, warnings)
        if not group_id:
            return applied
        version = version_of(moment, message.message_id)
        group = self.groups.get(group_id)
        if group is None:
            group = self.groups[group_id] = Group(
                workspace_id=self.workspace_id, group_id=group_id, traits={}, trait_versions={}
            )
            self.dirty_groups.add(group_id)
        if versions_apply(group.trait_versions, message.traits, version):
            self.dirty_groups.add(group_id)
        identity = applied.identity
        if identity is not None:
            current = identity.group_version
            if current is None or (current[1], current[2]) < version:
                identity.group_version = [group_id, *version]
                self.dirty_identities.add(identity.value)
        return applied

    def alias(
        self,
        message: Message,
        user_id: str | None,
        anonymous_id: str | None,
        moment: datetime,
        warnings: list[str],
    ) -> Applied:
        """Merge previousId's person into userId's (hard link), creating either as needed."""
        previous_id = self._usable("previous_id", message.previous_id, warnings)
        if previous_id:
            # Every usable id gets an identity, even when the alias cannot apply.
            self._ensure(previous_id, ANONYMOUS)
        if previous_id and user_id and previous_id != user_id:
            mid = message.message_id
            previous = self.identities[previous_id]
            was_free = self._is_free(previous)
            source, target = self.person_of[previous_id], self.person_of[user_id]
            # A free id brings only itself: the user it was softly following stays apart.
            joining = 1 if was_free else len(source.members)
            if source is not target and not self._room(target, joining):
                # Both stay as they are; the bound is blamed on the larger of the two.
                if was_free or len(target.members) >= len(source.members):
                    self._refuse(message, "previousId", previous_id, target, warnings)
                else:
                    self._refuse(message, "userId", user_id, source, warnings)
            else:
                self._alias_link(self.identities[user_id], moment, mid, previous_id)
                self._alias_link(previous, moment, mid, user_id)
                if was_free:
                    self._move(previous_id, target)
                else:
                    self._merge(source, target)
        elif previous_id is None or user_id is None:
            warnings.append("alias not applied: it needs a usable previousId and userId")
        key = user_id or anonymous_id or previous_id
        return self._record(message, key, moment, warnings, _context_traits(message))

    def _record(
        self,
        message: Message,
        key: str | None,
        moment: datetime,
        warnings: list[str],
        traits: dict,
    ) -> Applied:
        if key is None:
            warnings.append("no usable userId or anonymousId: the event belongs to nobody")
            return Applied(None, warnings)
        identity = self._ensure(key, ANONYMOUS)
        self._seen(identity, moment, message)
        if traits and versions_apply(
            identity.trait_versions,
            traits,
            version_of(moment, message.message_id),
            synced=is_sync(message),
        ):
            self.dirty_identities.add(identity.value)
        if warnings:
            logger.warning("message %s: %s", message.message_id, "; ".join(warnings))
        return Applied(identity, warnings)

    def _usable(self, key: str, raw: str | None, warnings: list[str]) -> str | None:
        value = usable_id(raw)
        if raw is not None and value is None:
            warnings.append(f"{key} {str(raw)[:40]!r} ignored: not a usable id")
        return value

    # -- writing ---------------------------------------------------------------------------

    def save(self) -> None:
        now = timezone.now()
        for group_id in self.dirty_groups:
            group = self.groups[group_id]
            group.traits = {k: v[0] for k, v in sorted(group.trait_versions.items())}
            group.name = _column(group.traits.get("name"), 500) or ""
            group.updated_at = now
        new_groups = [self.groups[g] for g in self.dirty_groups if self.groups[g].pk is None]
        old_groups = [self.groups[g] for g in self.dirty_groups if self.groups[g].pk is not None]
        bulk_insert(Group, new_groups, with_ids=True)
        bulk_update(Group, old_groups, ["traits", "trait_versions", "name", "updated_at"])

        new_people: list[tuple[PersonState, PersonRow]] = []
        old_people: list[PersonRow] = []
        seen_people: list[PersonRow] = []
        for state in self.people:
            if not state.touched or not state.members:
                continue
            identities = [self.identities[v] for v in state.members]
            if not state.reshaped and self.dirty_identities.isdisjoint(state.members):
                # Only events arrived for its ids: the other columns cannot have changed.
                seen_people.append(
                    PersonRow(id=state.pk, workspace_id=self.workspace_id, **_seen(identities))
                )
                continue
            summary = person_summary(identities, self.groups, self._search_traits())
            person = PersonRow(
                id=state.pk, workspace_id=self.workspace_id, updated_at=now, **summary
            )
            if state.pk is None:
                new_people.append((state, person))
            else:
                old_people.append(person)
        bulk_insert(Person, [person for _, person in new_people], with_ids=True)
        for state, person in new_people:
            state.pk = person.pk
        # One statement for both: the seen-only rows write only SEEN_FIELDS (core/bulk.py).
        bulk_update(Person, old_people, PERSON_FIELDS, narrow=seen_people, narrow_names=SEEN_FIELDS)
        _audiences_record(
            self.workspace_id,
            {name for person in old_people for name in person.audiences}
            | {name for _, person in new_people for name in person.audiences},
        )

        new_identities: list[IdentityRow] = []
        old_identities: list[IdentityRow] = []
        for value in self.dirty_identities:
            identity = self.identities[value]
            identity.person_id = self.person_of[value].pk
            (new_identities if identity.pk is None else old_identities).append(identity)
        bulk_insert(Identity, new_identities, with_ids=True)
        bulk_update(Identity, old_identities, IDENTITY_FIELDS)
        bulk_update(
            Identity,
            [self.identities[v] for v in self.seen_identities - self.dirty_identities],
            SEEN_FIELDS[:-1],
        )

        self._save_merges(now)
        refusals_record(
            [
                Refusal(message, role, value, person.survivor().pk)
                for message, role, value, person in self.refused
                if person.survivor().pk is not None
            ]
        )

    def _save_merges(self, now: datetime) -> None:
        """Point emptied person rows (and rows merged into them before) at their survivor.

        Two statements and a read whatever the number of merges in the batch.
        """
        survivor_of = {
            s.pk: s.survivor().pk
            for s in self.people
            if s.pk is not None and not s.members and s.merged_into
        }
        if not survivor_of:
            return
        rows = [
            Person(pk=loser, merged_into_id=survivor, merged_at=now, updated_at=now)
            for loser, survivor in survivor_of.items()
        ]
        # Rows merged into a loser earlier now redirect to the survivor too (keeping merged_at).
        earlier = Person.objects.filter(
            workspace_id=self.workspace_id, merged_into__in=list(survivor_of)
        ).values_list("pk", "merged_into_id", "merged_at")
        redirects = [
            Person(pk=pk, merged_into_id=survivor_of[loser], merged_at=merged_at, updated_at=now)
            for pk, loser, merged_at in earlier
            if pk not in survivor_of
        ]
        bulk_update(Person, rows + redirects, ["merged_into", "merged_at", "updated_at"])


def _context_traits(message: Message) -> dict:
    return _dict(message.context.get("traits"))


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _audiences_record(workspace_id: int, names: set[str]) -> None:
    """Remember the audience names of the people just saved, for the People page's filter: one
    statement per batch, and names already known are left alone."""
    rows = [
        Audience(workspace_id=workspace_id, name=name)
        for name in sorted(names)
        if len(name) <= Audience.NAME_MAX_LENGTH  # longer names cannot be typed into the filter
    ]
    if rows:
        Audience.objects.bulk_create(rows, ignore_conflicts=True)
