"""Test data, built once: messages in each of the shapes they take on their way in, the people
factory, and the readings of people the identity tests compare.

The shapes of a message, from the sender to the worker:
- `wire_message`: the JSON a sender puts on the wire (a Segment track unless told otherwise).
- `parsed_message` / `queued_message`: a wire message as the edge parses it (`message_parse`), and
  that as the queue, a dead letter and an inbox batch keep it (its dict form).
- `typed_message` / `stored_message`: a validated message built field by field, and its dict
  form: what `batch_process` stores. On a fixed clock by default (the identity scenarios read in
  minutes), on the live one for the pages that show recent events.
"""

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Source, Workspace
from core.messages import Message
from feed.models import Event
from ingest.segment import message_parse
from people.models import Group, Identity, Person

__all__ = [
    "BASE_TIME",
    "RECEIVED",
    "PeopleFactory",
    "canonical_state",
    "ids_of",
    "parsed_message",
    "person_of",
    "queued_message",
    "stored",
    "stored_message",
    "typed_message",
    "wire_message",
]

# The fixed clock of the identity scenarios: `minute=n` is BASE_TIME + n minutes.
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
# When the edge received the parsed messages below.
RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

_counter = itertools.count(1)
_ids = itertools.count(1)

# The optional Segment fields copied into `raw` under their wire names when given.
_WIRE_NAMES = {
    "event": "event",
    "name": "name",
    "properties": "properties",
    "traits": "traits",
    "previous_id": "previousId",
    "group_id": "groupId",
}


def wire_message(message_id: str = "m", **fields: Any) -> dict[str, Any]:
    """A track as a sender puts it on the wire; `fields` (wire names) add to it or replace."""
    return {"type": "track", "event": "E", "userId": "u", "messageId": message_id, **fields}


def parsed_message(
    source: Source, message_id: str, *, received_at: datetime = RECEIVED, **raw: Any
) -> Message:
    """A track from `source` (`raw`, wire names, adds or replaces fields) as the edge parses it."""
    body = {"type": "track", "event": "E", "userId": "u-1", "messageId": message_id, **raw}
    return message_parse(
        body, workspace_id=source.workspace_id, source_id=source.pk, received_at=received_at
    )


def queued_message(
    source: Source, message_id: str, *, received_at: datetime = RECEIVED, **raw: Any
) -> dict[str, Any]:
    """`parsed_message` as the queue carries it (and a dead letter or an inbox batch keeps it)."""
    return parsed_message(source, message_id, received_at=received_at, **raw).as_dict()


def typed_message(
    workspace: Workspace | int,
    type: str,
    *,
    minute: int = 0,
    live: bool = False,
    source_id: int | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    previous_id: str | None = None,
    group_id: str | None = None,
    event: str | None = None,
    name: str | None = None,
    traits: dict | None = None,
    properties: dict | None = None,
    context: dict | None = None,
    timestamp: datetime | None = None,
    received_at: datetime | None = None,
    message_id: str | None = None,
) -> Message:
    """One validated message, as the identity rules and the event writer read it.

    Its clock: sent and received at BASE_TIME + `minute`, with ids `m-1`, `m-2`... in the order
    built. `live=True` or a `timestamp` puts it on the live clock instead: sent at `timestamp`
    (default now), received now, with ids unique across runs."""
    if live or timestamp is not None:
        now = timezone.now()
        timestamp = timestamp or now
        received_at = received_at or now
        message_id = message_id or f"test-{next(_counter)}-{uuid.uuid4()}"
    else:
        timestamp = BASE_TIME + timedelta(minutes=minute)
        received_at = received_at or timestamp
        message_id = message_id or f"m-{next(_counter)}"
    optional = {
        "event": event,
        "name": name,
        "properties": properties,
        "traits": traits,
        "previous_id": previous_id,
        "group_id": group_id,
    }
    raw: dict[str, Any] = {
        "type": type,
        "messageId": message_id,
        "userId": user_id,
        "anonymousId": anonymous_id,
        "timestamp": timestamp.isoformat(),
    }
    raw.update({_WIRE_NAMES[k]: v for k, v in optional.items() if v is not None})
    return Message(
        workspace_id=workspace if isinstance(workspace, int) else workspace.pk,
        source_id=source_id,
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
        timestamp=timestamp,
        received_at=received_at,
        raw=raw,
    )


def stored_message(workspace: Workspace | int, type: str, **fields: Any) -> dict[str, Any]:
    """`typed_message` as the queue carries it to the worker: what `batch_process` stores."""
    return typed_message(workspace, type, **fields).as_dict()


def stored() -> list[str]:
    """The message ids of every stored event, sorted."""
    return sorted(Event.objects.values_list("message_id", flat=True))


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


# People, identities and events made with the ORM directly: the People pages read these rows
# whatever service wrote them.


@dataclass
class PeopleFactory:
    workspace: Workspace
    now: datetime

    def group(self, *, group_id: str = "acme", name: str = "Acme Inc", **traits) -> Group:
        return Group.objects.create(
            workspace=self.workspace, group_id=group_id, name=name, traits={"name": name, **traits}
        )

    def person(
        self,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        email: str | None = None,
        name: str | None = None,
        phone: str | None = None,
        avatar: str | None = None,
        traits: dict | None = None,
        audiences: dict | None = None,
        group: Group | None = None,
        minutes_ago: int = 0,
        event_count: int = 0,
    ) -> Person:
        seen = self.now - timedelta(minutes=minutes_ago)
        if user_id is None and anonymous_id is None:
            user_id = f"user-{next(_ids)}"
        person = Person.objects.create(
            workspace=self.workspace,
            email=email,
            name=name,
            phone=phone,
            avatar=avatar,
            traits={
                **{k: v for k, v in {"email": email, "name": name}.items() if v},
                **(traits or {}),
            },
            audiences=audiences or {},
            group=group,
            is_identified=user_id is not None,
            first_seen=seen - timedelta(days=3),
            last_seen=seen,
            event_count=event_count,
        )
        for value, kind in ((user_id, "user"), (anonymous_id, "anonymous")):
            if value:
                Identity.objects.create(
                    workspace=self.workspace,
                    value=value,
                    kind=kind,
                    person=person,
                    first_seen=person.first_seen,
                    last_seen=seen,
                    linked_at=person.first_seen,
                    linked_by_message_id=f"msg-link-{value}",
                )
        return person

    def event(
        self,
        person: Person,
        *,
        type: str = "track",
        name: str = "Order Completed",
        properties: dict | None = None,
        minutes_ago: int = 0,
    ) -> Event:
        identity = person.identities.order_by("id").first()
        message_id = str(uuid.uuid4())
        moment = self.now - timedelta(minutes=minutes_ago)
        raw = {"type": type, "messageId": message_id, "properties": properties or {}}
        if type == "track":
            raw["event"] = name
        elif type in {"page", "screen"}:
            raw["name"] = name
        event = Event.objects.create(
            workspace=self.workspace,
            identity=identity,
            type=type,
            name=name,
            properties=properties or {},
            message_id=message_id,
            timestamp=moment,
            received_at=moment,
            hidden=type == "page",
            raw=raw,
        )
        Person.objects.filter(pk=person.pk).update(event_count=person.event_count + 1)
        person.event_count += 1
        return event


# Segment filters (segments/filters.py) in their dict form, as URLs and the API carry them.


def condition(field: str, operator: str, value: Any = None, **rest: Any) -> dict[str, Any]:
    """One filter condition: `condition("trait", "equals", "Pro", key="plan")`."""
    out = {"field": field, "operator": operator, **rest}
    if value is not None:
        out["value"] = value
    return out


def filter_of(*conditions: dict[str, Any], op: str = "and") -> Any:
    """A parsed filter (a segments.filters.Group) of these conditions or groups."""
    from segments.filters import filter_parse

    return filter_parse({"op": op, "conditions": list(conditions)})
