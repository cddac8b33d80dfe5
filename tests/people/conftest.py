"""Message factories shaped like the ingest -> worker contract, and a canonical view of people."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accounts.models import Workspace
from feed.models import Event
from people.models import Group, Identity, Person
from windsor.messages import Message

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
_counter = itertools.count(1)


def at(minutes: int) -> str:
    return (BASE_TIME + timedelta(minutes=minutes)).isoformat()


def typed_message(
    workspace: Workspace | int,
    type: str,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    previous_id: str | None = None,
    group_id: str | None = None,
    event: str | None = None,
    name: str | None = None,
    traits: dict | None = None,
    properties: dict | None = None,
    context: dict | None = None,
    minute: int = 0,
    message_id: str | None = None,
) -> Message:
    """One validated message, as the identity rules and the event writer read it."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    message_id = message_id or f"m-{next(_counter)}"
    raw = {"type": type, "messageId": message_id, "userId": user_id, "anonymousId": anonymous_id}
    moment = BASE_TIME + timedelta(minutes=minute)
    return Message(
        workspace_id=workspace_id,
        source_id=None,
        type=type,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        previous_id=previous_id,
        group_id=group_id,
        event=event,
        name=name,
        properties=properties or {},
        traits=traits or {},
        context=context or {},
        timestamp=moment,
        received_at=moment,
        raw=raw,
    )


def message(workspace: Workspace | int, type: str, **fields: Any) -> dict[str, Any]:
    """`typed_message` as the queue carries it: what `ingest.segment` hands to `batch_process`."""
    return typed_message(workspace, type, **fields).as_dict()


def person_of(workspace: Workspace | int, value: str) -> Person:
    return Identity.objects.select_related("person").get(workspace=workspace, value=value).person


def ids_of(person: Person) -> set[str]:
    return set(person.identities.values_list("value", flat=True))


def canonical_state(workspace: Workspace | int) -> dict[str, Any]:
    """Everything a user can see about people, without primary keys or arrival order."""
    people = {}
    for person in Person.objects.filter(workspace=workspace).current().select_related("group"):
        ids = frozenset(person.identities.values_list("value", flat=True))
        people[ids] = {
            "email": person.email,
            "name": person.name,
            "phone": person.phone,
            "avatar": person.avatar,
            "traits": person.traits,
            "audiences": person.audiences,
            "group": person.group.group_id if person.group else None,
            "is_identified": person.is_identified,
            "first_seen": person.first_seen,
            "last_seen": person.last_seen,
            "event_count": person.event_count,
            "identities": sorted(
                person.identities.values_list(
                    "value", "kind", "aliased", "linked_at", "linked_by_message_id", "linked_to"
                ),
                key=lambda row: row[0],
            ),
        }
    person_ids = {
        p.pk: frozenset(p.identities.values_list("value", flat=True))
        for p in Person.objects.filter(workspace=workspace).current()
    }
    attribution = {
        e.message_id: (person_ids[e.identity.person_id] if e.identity else None)
        for e in Event.objects.filter(workspace=workspace).select_related("identity")
    }
    groups = {g.group_id: (g.name, g.traits) for g in Group.objects.filter(workspace=workspace)}
    return {"people": people, "attribution": attribution, "groups": groups}


@pytest.fixture
def ws(db) -> Workspace:
    return Workspace.objects.create(name="Identity tests")
