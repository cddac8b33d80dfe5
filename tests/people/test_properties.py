"""Order and duplicates do not matter: any delivery of the same messages gives the same people.

Hypothesis generates message sets over a few users, anonymous ids and junk ids (identifies with
conflicting traits and timestamps, aliases, groups, tracks, Engage syncs), delivers them twice
in two random orders, with random duplicates, in random batch sizes, into two workspaces, and
compares the full resulting state with each other and with a reference computed straight from
the identity rules
(people/identity.py's docstring; docs/design/identity.md in full).
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people.identity import usable_id
from tests.factories import canonical_state
from tests.people.streams import deliver, delivery, messages

pytestmark = pytest.mark.django_db


def expected_people(messages: list[dict]) -> dict[frozenset, dict]:
    """The people the module rules describe, computed from the set of messages alone."""
    parent: dict[str, str] = {}

    def find(value: str) -> str:
        while parent.setdefault(value, value) != value:
            value = parent[value]
        return value

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    users, aliased, links = set(), set(), {}
    for m in messages:
        user, anonymous = usable_id(m["user_id"]), usable_id(m["anonymous_id"])
        previous = usable_id(m["previous_id"])
        for value in (user, anonymous, previous):
            if value:
                find(value)
        if user:
            users.add(user)
        if m["type"] == "alias" and user and previous and user != previous:
            aliased |= {user, previous}
            union(previous, user)
        if user and anonymous and user != anonymous:
            link = (m["timestamp"], m["message_id"], user)
            links[anonymous] = min(links.get(anonymous, link), link)
    for anonymous, (_, _, user) in links.items():
        if anonymous not in users and anonymous not in aliased:
            union(anonymous, user)
    clusters: dict[str, set[str]] = {}
    for value in list(parent):
        clusters.setdefault(find(value), set()).add(value)
    people = {}
    for members in clusters.values():
        mine = [
            m
            for m in messages
            if (
                usable_id(m["user_id"])
                or usable_id(m["anonymous_id"])
                or (m["type"] == "alias" and usable_id(m["previous_id"]))
            )
            in members
        ]
        # key -> (value, whether a sync sent it): a boolean is an audience only from a sync.
        newest: dict = {}
        group = None
        for m in sorted(mine, key=lambda m: (m["timestamp"], m["message_id"])):
            sync = bool(m["context"].get("personas"))
            newest.update({k: (v, sync) for k, v in m["context"].get("traits", {}).items()})
            if m["type"] == "identify":
                newest.update({k: (v, sync) for k, v in m["traits"].items()})
            if m["type"] == "group" and usable_id(m["group_id"]):
                group = m["group_id"]
        audiences = {k: v for k, (v, sync) in newest.items() if isinstance(v, bool) and sync}
        email = newest.get("email", (None,))[0]
        # Syncs never move first or last seen: the customer did nothing.
        active = [m["timestamp"] for m in mine if not m["context"].get("personas")]
        people[frozenset(members)] = {
            "email": email if isinstance(email, str) else None,
            "audiences": audiences,
            "traits": {k: v for k, (v, _) in newest.items() if k != "email" and k not in audiences},
            "group": group,
            "first_seen": min(active, default=None),
            "last_seen": max(active, default=None),
            "event_count": len(mine),
            "is_identified": bool(members & users),
        }
    return people


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_delivery_order_with_duplicates_gives_the_same_people(data: st.DataObject) -> None:
    sent = data.draw(messages())
    first = canonical_state(deliver(data.draw(delivery(sent))))
    second = canonical_state(deliver(data.draw(delivery(sent))))
    assert first == second
    expected = expected_people(sent)
    assert set(first["people"]) == set(expected)
    for ids, person in first["people"].items():
        assert person["email"] == expected[ids]["email"]
        assert person["audiences"] == expected[ids]["audiences"]
        assert person["traits"] == expected[ids]["traits"]
        assert person["group"] == expected[ids]["group"]
        seen = (person["first_seen"], person["last_seen"])
        assert tuple(s and s.isoformat() for s in seen) == (
            expected[ids]["first_seen"],
            expected[ids]["last_seen"],
        )
        assert person["event_count"] == expected[ids]["event_count"]
        assert person["is_identified"] == expected[ids]["is_identified"]
