"""Message factories shaped like the ingest -> worker contract, and a canonical view of people."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accounts.models import Workspace
from core.messages import Message
from feed.models import Event
from people.models import Group, Identity, Person
from tests import messages

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
_counter = itertools.count(1)


def at(minutes: int) -> str:
    return (BASE_TIME + timedelta(minutes=minutes)).isoformat()


def typed_message(
    workspace: Workspace | int,
    type: str,
    *,
    minute: int = 0,
    message_id: str | None = None,
    **fields: Any,
) -> Message:
    """One validated message at BASE_TIME + `minute`, sent and received then."""
    moment = BASE_TIME + timedelta(minutes=minute)
    return messages.typed_message(
        workspace,
        type,
        timestamp=moment,
        received_at=moment,
        message_id=message_id or f"m-{next(_counter)}",
        **fields,
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
