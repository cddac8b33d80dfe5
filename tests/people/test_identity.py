"""The identity scenario list: each rule, in the orders senders really deliver."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feed.models import Event
from feed.services import events_write
from ingest.store import batch_process
from people.identity import IdentityBatch, usable_id
from people.models import Group, Identity, Person
from tests.factories import (
    BASE_TIME,
    canonical_state,
    ids_of,
    person_of,
    stored_message,
    typed_message,
)
from tests.recorded import recorded

pytestmark = pytest.mark.django_db
# Statements per batch without merges or group calls, whatever its size, at most (SAVEPOINT and
# RELEASE count): the savepoint pair (2); the workspace and storing locks, one SELECT (1); the
# stored messageIds read (1); the batch locks (people/locking.py: the ids' people read, the
# creating lock, the new ids' keys, the people's rows, then the identities read under them: 5);
# for people an insert (sequence + COPY: 2) and one UPDATE from one JSON parameter for the rows
# rewritten whole and the seen-only rows together (core/bulk.py `narrow`: 1); for identities an
# insert (2) and two UPDATEs (whole rows; seen-only rows: 2); the events COPY with the lock of the
# rows it references before it (which also turns the per-row triggers off) and the SET that turns
# them on again after it (core/keyshare.py: 3); the three counter upserts (feed/rollups.py:
# identity activity, per-day event counts, workspace activity: 3). That is 22: no slack, so that
# one more statement per batch (a second identity read, say) fails. Group calls add the groups'
# read, row locks and writes; reads once per process (core/keyshare.py's constraints) or per TTL
# (people/search_text.py's keys) are done by each test's first batch.
MAX_QUERIES_PER_BATCH = 22


def both_orders(ws_factory, messages: list[dict]) -> tuple[dict, dict]:
    """Canonical state after the messages in order, and in reverse order, in two workspaces."""
    first, second = ws_factory(), ws_factory()
    batch_process([{**m, "workspace_id": first.pk} for m in messages])
    for m in reversed(messages):
        batch_process([{**m, "workspace_id": second.pk}])
    return canonical_state(first), canonical_state(second)


@pytest.fixture
def new_ws(db):
    from accounts.models import Workspace

    return lambda: Workspace.objects.create(name="w")


def test_track_before_identify_lands_on_a_placeholder_that_identify_completes(ws):
    batch_process([stored_message(ws, "track", user_id="u1", event="Signed Up", minute=1)])
    placeholder = person_of(ws, "u1")
    assert placeholder.email is None and not placeholder.has_email
    batch_process(
        [
            stored_message(
                ws, "identify", user_id="u1", traits={"email": "a@x.io", "name": "Ann"}, minute=2
            )
        ]
    )
    person = person_of(ws, "u1")
    assert person.pk == placeholder.pk
    assert (person.email, person.name, person.event_count) == ("a@x.io", "Ann", 2)
    assert Event.objects.for_workspace(ws).for_person(person).count() == 2


def test_anonymous_events_follow_the_visitor_once_identified(ws):
    batch_process(
        [
            stored_message(ws, "page", anonymous_id="anon-1", name="Home", minute=1),
            stored_message(ws, "track", anonymous_id="anon-1", event="Clicked", minute=2),
        ]
    )
    batch_process(
        [
            stored_message(
                ws,
                "identify",
                user_id="u1",
                anonymous_id="anon-1",
                traits={"email": "a@x.io"},
                minute=3,
            )
        ]
    )
    person = person_of(ws, "u1")
    assert ids_of(person) == {"u1", "anon-1"}
    assert person.first_seen.minute == 1 and person.last_seen.minute == 3
    assert Event.objects.for_workspace(ws).for_person(person).count() == 3
    assert Event.objects.for_workspace(ws).for_person(person).visible().count() == 2
    assert Person.objects.for_workspace(ws).current().count() == 1
    placeholder = Person.objects.for_workspace(ws).exclude(pk=person.pk).get()
    assert placeholder.merged_into == person


def test_alias_before_identify_links_both_ids_to_one_person(ws):
    batch_process([stored_message(ws, "alias", previous_id="anon-1", user_id="u1", minute=1)])
    batch_process(
        [
            stored_message(ws, "track", anonymous_id="anon-1", event="Viewed", minute=0),
            stored_message(ws, "identify", user_id="u1", traits={"email": "a@x.io"}, minute=2),
        ]
    )
    assert person_of(ws, "anon-1") == person_of(ws, "u1")
    assert person_of(ws, "u1").email == "a@x.io"
    assert Person.objects.for_workspace(ws).current().count() == 1


def test_alias_with_both_people_known_merges_traits_events_and_first_seen(ws):
    batch_process(
        [
            stored_message(
                ws,
                "identify",
                user_id="old",
                traits={"email": "old@x.io", "plan": "free", "city": "Oslo"},
                minute=1,
            ),
            stored_message(ws, "track", user_id="old", event="A", minute=2),
            stored_message(
                ws, "identify", user_id="new", traits={"email": "new@x.io", "plan": "pro"}, minute=5
            ),
            stored_message(
                ws, "group", user_id="old", group_id="g1", traits={"name": "Initech"}, minute=3
            ),
        ]
    )
    loser, survivor = person_of(ws, "old"), person_of(ws, "new")
    batch_process([stored_message(ws, "alias", previous_id="old", user_id="new", minute=6)])
    person = person_of(ws, "old")
    assert person.pk == survivor.pk
    assert ids_of(person) == {"old", "new"}
    assert person.email == "new@x.io"
    assert person.traits == {"plan": "pro", "city": "Oslo"}
    assert person.group.group_id == "g1"
    assert person.first_seen.minute == 1 and person.last_seen.minute == 6
    assert Event.objects.for_workspace(ws).for_person(person).count() == 5
    loser.refresh_from_db()
    assert loser.merged_into_id == survivor.pk and loser.merged_at is not None


def test_alias_chain_ends_as_one_person_in_any_order(new_ws):
    messages = [
        stored_message(0, "alias", previous_id="a", user_id="b", minute=1),
        stored_message(0, "alias", previous_id="b", user_id="c", minute=2),
        stored_message(0, "identify", user_id="a", traits={"email": "a@x.io"}, minute=0),
        stored_message(0, "track", anonymous_id="anon", user_id="c", event="E", minute=3),
    ]
    forward, backward = both_orders(new_ws, messages)
    assert forward == backward
    assert list(forward["people"]) == [frozenset({"a", "b", "c", "anon"})]


def test_chained_merges_redirect_old_rows_to_the_final_person(ws):
    for value in ("a", "b", "c"):
        batch_process([stored_message(ws, "identify", user_id=value, minute=1)])
    a, b = person_of(ws, "a"), person_of(ws, "b")
    batch_process([stored_message(ws, "alias", previous_id="a", user_id="b", minute=2)])
    batch_process([stored_message(ws, "alias", previous_id="b", user_id="c", minute=3)])
    final = person_of(ws, "a")
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.merged_into == final and b.merged_into == final


def test_alias_to_itself_changes_nothing(ws):
    batch_process([stored_message(ws, "identify", user_id="u1", traits={"email": "a@x.io"})])
    batch_process([stored_message(ws, "alias", previous_id="u1", user_id="u1", minute=1)])
    assert ids_of(person_of(ws, "u1")) == {"u1"}
    assert Person.objects.for_workspace(ws).count() == 1


def test_repeated_alias_and_duplicate_messages_are_stored_once(ws):
    alias = stored_message(ws, "alias", previous_id="anon", user_id="u1", minute=1)
    again = stored_message(ws, "alias", previous_id="anon", user_id="u1", minute=2)
    batch_process([alias, alias, again])
    batch_process([alias, again])
    person = person_of(ws, "u1")
    assert ids_of(person) == {"u1", "anon"}
    assert person.event_count == 2
    assert Event.objects.for_workspace(ws).count() == 2


def test_old_identify_delivered_late_does_not_overwrite_newer_traits(ws):
    batch_process(
        [stored_message(ws, "identify", user_id="u1", traits={"email": "new@x.io"}, minute=10)]
    )
    batch_process(
        [
            stored_message(
                ws, "identify", user_id="u1", traits={"email": "old@x.io", "plan": "free"}, minute=5
            )
        ]
    )
    person = person_of(ws, "u1")
    assert person.email == "new@x.io"
    # Keys the newer identify did not send still arrive: partial updates merge key by key.
    assert person.traits == {"plan": "free"}
    assert person.first_seen.minute == 5 and person.last_seen.minute == 10


def test_equal_timestamps_are_broken_by_message_id(new_ws):
    messages = [
        stored_message(0, "identify", user_id="u1", traits={"email": "a@x.io"}, message_id="b-2"),
        stored_message(0, "identify", user_id="u1", traits={"email": "b@x.io"}, message_id="a-1"),
    ]
    forward, backward = both_orders(new_ws, messages)
    assert forward == backward
    assert forward["people"][frozenset({"u1"})]["email"] == "a@x.io"


def test_group_change_keeps_the_newer_group_by_timestamp(new_ws):
    messages = [
        stored_message(
            0, "group", user_id="u1", group_id="g1", traits={"name": "Initech"}, minute=1
        ),
        stored_message(
            0,
            "group",
            user_id="u1",
            group_id="g2",
            traits={"name": "Hooli", "plan": "pro"},
            minute=2,
        ),
        stored_message(
            0, "group", user_id="u2", group_id="g2", traits={"plan": "enterprise"}, minute=3
        ),
    ]
    forward, backward = both_orders(new_ws, messages)
    assert forward == backward
    assert forward["people"][frozenset({"u1"})]["group"] == "g2"
    assert forward["groups"]["g2"] == ("Hooli", {"name": "Hooli", "plan": "enterprise"})
    assert forward["groups"]["g1"] == ("Initech", {"name": "Initech"})


def test_engage_audience_true_then_false_ends_false_in_any_order(new_ws):
    personas = {"computation_class": "audience", "computation_key": "big_spenders"}
    messages = [
        stored_message(
            0,
            "identify",
            user_id="u1",
            traits={"big_spenders": True},
            context={"personas": personas},
            minute=1,
        ),
        stored_message(
            0,
            "identify",
            user_id="u1",
            traits={"big_spenders": False},
            context={"personas": personas},
            minute=2,
        ),
        stored_message(
            0, "identify", user_id="u1", traits={"email": "a@x.io", "isAdmin": True}, minute=0
        ),
    ]
    forward, backward = both_orders(new_ws, messages)
    assert forward == backward
    person = forward["people"][frozenset({"u1"})]
    assert person["audiences"] == {"big_spenders": False}
    assert person["traits"] == {"isAdmin": True}


# The fixed query count is PostgreSQL's COPY path; SQLite splits statements by its variable limit.
@pytest.mark.services
def test_engage_first_sync_burst_is_one_batch_of_bulk_writes(ws):
    # Engage marks its syncs with context.personas (people/identity.py `is_sync`).
    sync = {"personas": {"computation_class": "audience", "computation_key": "high_value"}}

    def member(user_id: str) -> dict:
        return stored_message(
            ws, "identify", user_id=user_id, traits={"high_value": True}, context=sync, minute=1
        )

    burst = [member(f"member-{i}") for i in range(300)]
    small = [member(f"other-{i}") for i in range(3)]
    with CaptureQueriesContext(connection) as big_batch:
        batch_process(burst)
    with CaptureQueriesContext(connection) as small_batch:
        batch_process(small)
    assert len(big_batch.captured_queries) <= MAX_QUERIES_PER_BATCH
    assert len(small_batch.captured_queries) <= MAX_QUERIES_PER_BATCH
    assert Person.objects.for_workspace(ws).filter(audiences__high_value=True).count() == 303


# The fixed query count is PostgreSQL's COPY path; SQLite splits statements by its variable limit.
@pytest.mark.services
def test_common_batches_cost_the_same_queries_whatever_their_size(ws):
    def mixed(prefix: str, n: int, minute: int = 0) -> list[dict]:
        out = []
        for i in range(n):
            out += [
                stored_message(
                    ws, "page", anonymous_id=f"{prefix}-anon-{i}", name="Home", minute=minute + 1
                ),
                stored_message(
                    ws,
                    "identify",
                    user_id=f"{prefix}-{i}",
                    anonymous_id=f"{prefix}-anon-{i}",
                    traits={"email": f"{i}@x.io"},
                    minute=minute + 2,
                ),
                stored_message(
                    ws, "track", user_id=f"{prefix}-{i}", event="Bought", minute=minute + 3
                ),
            ]
        return out

    def known(minute: int) -> list[dict]:
        # Known people of both kinds in every batch, whatever the messageIds' order: "warm" ones
        # re-identify later than before (rows rewritten whole), "idle" ones only do things (the
        # seen-only rows).
        idle = [stored_message(ws, "track", user_id="idle-0", event="Bought", minute=minute)]
        return mixed("warm", 2, minute) + idle

    # The first batch COPYs its events: core/keyshare.py reads their foreign keys once a process.
    batch_process(mixed("warm", 2) + mixed("idle", 1) + mixed("first", 20))
    with CaptureQueriesContext(connection) as small:
        batch_process(mixed("s", 2) + known(10))
    with CaptureQueriesContext(connection) as big:
        batch_process(mixed("b", 100) + known(20))
    assert len(big.captured_queries) <= MAX_QUERIES_PER_BATCH
    assert len(small.captured_queries) <= MAX_QUERIES_PER_BATCH


def test_two_users_sharing_a_device_stay_apart_and_the_visitor_follows_the_first(new_ws):
    messages = [
        stored_message(0, "track", anonymous_id="device", event="Opened", minute=0),
        stored_message(0, "identify", user_id="alice", anonymous_id="device", minute=1),
        stored_message(0, "identify", user_id="bob", anonymous_id="device", minute=2),
    ]
    forward, backward = both_orders(new_ws, messages)
    assert forward == backward
    assert set(forward["people"]) == {frozenset({"alice", "device"}), frozenset({"bob"})}


def test_an_anonymous_id_later_used_as_user_id_becomes_its_own_person(new_ws):
    messages = [
        stored_message(0, "identify", user_id="alice", anonymous_id="x", minute=1),
        stored_message(0, "track", user_id="x", event="E", minute=2),
    ]
    forward, backward = both_orders(new_ws, messages)
    assert forward == backward
    assert set(forward["people"]) == {frozenset({"alice"}), frozenset({"x"})}


def test_alias_of_a_followed_visitor_takes_only_the_visitor(new_ws):
    messages = [
        stored_message(0, "identify", user_id="alice", anonymous_id="device", minute=1),
        stored_message(0, "alias", previous_id="device", user_id="bob", minute=2),
    ]
    forward, backward = both_orders(new_ws, messages)
    assert forward == backward
    assert set(forward["people"]) == {frozenset({"alice"}), frozenset({"bob", "device"})}


def test_reserved_traits_become_columns_from_either_name_form(ws):
    batch_process(
        [
            stored_message(
                ws,
                "identify",
                user_id="u1",
                traits={
                    "firstName": "Ann",
                    "lastName": "Lee",
                    "phone": "+1 415",
                    "avatar": "https://a/1.png",
                },
            ),
            stored_message(
                ws,
                "identify",
                user_id="u2",
                traits={"first_name": "Bo", "last_name": "Ek", "email": " bo@x.io "},
            ),
            stored_message(ws, "identify", user_id="u3", traits={"name": "Cy", "firstName": "C"}),
        ]
    )
    one, two, three = (person_of(ws, v) for v in ("u1", "u2", "u3"))
    assert (one.name, one.phone, one.avatar, one.email) == (
        "Ann Lee",
        "+1 415",
        "https://a/1.png",
        None,
    )
    assert (two.name, two.email) == ("Bo Ek", "bo@x.io")
    assert three.name == "Cy"
    assert "email" not in two.traits and two.traits["first_name"] == "Bo"
    assert Person.objects.for_workspace(ws).filter(email__isnull=True).count() == 2


def test_context_traits_on_track_fill_traits_with_the_same_rule(ws):
    batch_process(
        [
            stored_message(ws, "identify", user_id="u1", traits={"email": "new@x.io"}, minute=5),
            stored_message(
                ws,
                "track",
                user_id="u1",
                event="E",
                context={"traits": {"email": "old@x.io", "plan": "pro"}},
                minute=1,
            ),
        ]
    )
    person = person_of(ws, "u1")
    assert (person.email, person.traits) == ("new@x.io", {"plan": "pro"})


@pytest.mark.parametrize(
    "junk", ["null", "undefined", "0", "anonymous", "", " NULL ", "[object Object]"]
)
def test_junk_ids_never_merge_people_but_the_message_is_kept(ws, junk):
    batch_process(
        [
            stored_message(
                ws, "identify", user_id=junk, anonymous_id="a1", traits={"email": "a@x.io"}
            ),
            stored_message(
                ws, "identify", user_id=junk, anonymous_id="a2", traits={"email": "b@x.io"}
            ),
            stored_message(ws, "alias", previous_id=junk, user_id="u1", message_id=f"alias-{junk}"),
            stored_message(ws, "track", user_id=junk, event="Lost", message_id=f"lost-{junk}"),
        ]
    )
    assert person_of(ws, "a1") != person_of(ws, "a2")
    assert ids_of(person_of(ws, "u1")) == {"u1"}
    assert not Identity.objects.for_workspace(ws).filter(value__in=[junk, junk.strip()]).exists()
    assert Event.objects.for_workspace(ws).count() == 4
    alias = Event.objects.get(message_id=f"alias-{junk}")
    assert any("previous_id" in w for w in alias.warnings)
    lost = Event.objects.get(message_id=f"lost-{junk}")
    assert lost.identity is None and lost.warnings


def test_usable_id_drops_only_junk():
    assert usable_id(" u1 ") == "u1"
    assert usable_id(42) == "42"
    assert usable_id("Undefined") is None
    assert usable_id(None) is None
    assert usable_id("00") == "00"


def _from_fixture(ws, body: dict) -> dict:
    """A Segment Spec message as ingest.segment would hand it over (enough for these fixtures)."""
    return stored_message(
        ws,
        body["type"],
        user_id=body.get("userId"),
        anonymous_id=body.get("anonymousId"),
        previous_id=body.get("previousId"),
        group_id=body.get("groupId"),
        event=body.get("event"),
        name=body.get("name"),
        traits=body.get("traits"),
        properties=body.get("properties"),
        context=body.get("context"),
        message_id=body["messageId"],
    ) | {
        "timestamp": body["timestamp"],
        "received_at": body.get("receivedAt") or body["timestamp"],
        "raw": body,
    }


def test_segment_destination_examples_build_people_and_audiences(ws):
    requests = recorded("segment-destination-examples")
    batch_process([_from_fixture(ws, request.body) for request in requests])
    peter = person_of(ws, "97980cfea0067")
    assert (peter.name, peter.email) == ("Peter Gibbons", "peter@example.com")
    assert peter.group == Group.objects.get(workspace=ws, group_id="0e8c78ea9d97a7b8185e8632")
    assert peter.group.name == "Initech"
    assert ids_of(person_of(ws, "507f191e81")) == {"507f191e81", "39239-239239-239239-23923"}
    assert person_of(ws, "u123").audiences == {"order_completed_last_30days": True}
    assert Event.objects.for_workspace(ws).filter(type="page").get().hidden


def test_identities_record_the_link_that_put_them_on_their_person(new_ws):
    messages = [
        stored_message(
            0, "identify", user_id="u1", anonymous_id="visitor", minute=2, message_id="late"
        ),
        stored_message(
            0, "track", user_id="u1", anonymous_id="visitor", minute=1, message_id="early"
        ),
        stored_message(
            0, "identify", user_id="u2", anonymous_id="device", minute=1, message_id="soft"
        ),
        stored_message(
            0, "alias", previous_id="device", user_id="u3", minute=3, message_id="alias"
        ),
    ]
    forward, backward = both_orders(new_ws, messages)
    assert forward == backward
    links = {
        value: (aliased, mid, to)
        for person in forward["people"].values()
        for value, _, aliased, _, mid, to in person["identities"]
    }
    assert links["visitor"] == (False, "early", "u1")
    # Named in an alias, the device follows the alias, not its earlier soft link.
    assert links["device"] == (True, "alias", "u3")
    assert links["u3"] == (True, "alias", "device")
    assert links["u1"] == (False, "", "")


@pytest.mark.services
def test_many_merges_in_one_batch_still_cost_a_fixed_number_of_queries(ws):
    batch_process(
        [
            stored_message(ws, "identify", user_id=f"{side}-{i}", minute=1)
            for i in range(60)
            for side in "ab"
        ]
    )
    # Rows already merged into the future losers must follow them to the survivors.
    batch_process([stored_message(ws, "identify", user_id=f"c-{i}", minute=2) for i in range(60)])
    batch_process(
        [stored_message(ws, "alias", previous_id=f"c-{i}", user_id=f"a-{i}") for i in range(60)]
    )
    aliases = [
        stored_message(ws, "alias", previous_id=f"a-{i}", user_id=f"b-{i}") for i in range(60)
    ]
    with CaptureQueriesContext(connection) as merges:
        batch_process(aliases)
    assert len(merges.captured_queries) <= MAX_QUERIES_PER_BATCH + 2
    for i in range(60):
        survivor = person_of(ws, f"b-{i}")
        assert ids_of(survivor) == {f"a-{i}", f"b-{i}", f"c-{i}"}
        assert Person.objects.for_workspace(ws).filter(merged_into=survivor).count() == 2
    assert not Person.objects.for_workspace(ws).filter(merged_into__merged_into__isnull=False)


def test_the_rules_and_the_event_writer_read_the_typed_message(ws):
    messages = [
        typed_message(ws, "identify", user_id="u1", traits={"email": "a@x.io"}, minute=1),
        typed_message(ws, "track", user_id="u1", anonymous_id="a1", event="Paid", minute=2),
    ]
    batch = IdentityBatch(ws.pk, messages)
    batch.load()
    applied = [batch.apply(m) for m in messages]
    batch.save()
    events_write(messages, [a.identity for a in applied], [a.warnings for a in applied])

    assert person_of(ws, "a1").email == "a@x.io"
    event = Event.objects.select_related("identity").get(message_id=messages[1].message_id)
    assert (event.name, event.identity.value) == ("Paid", "u1")
    assert event.timestamp == event.received_at == BASE_TIME + timedelta(minutes=2)


def test_a_known_id_that_only_saw_events_keeps_its_columns_and_counts_them(ws):
    # The common case gets a narrow write (first/last seen and counts only): nothing else of the
    # person may be lost by it, and a trait sent in context.traits is not "only an event".
    batch_process(
        [
            stored_message(
                ws, "identify", user_id="u1", traits={"email": "a@x.io", "plan": "pro"}, minute=1
            )
        ]
    )
    batch_process([stored_message(ws, "track", user_id="u1", event="Clicked", minute=5)])
    person = person_of(ws, "u1")
    assert (person.email, person.traits, person.event_count) == ("a@x.io", {"plan": "pro"}, 2)
    assert person.last_seen == BASE_TIME + timedelta(minutes=5)
    identity = Identity.objects.get(workspace=ws, value="u1")
    assert (identity.event_count, identity.last_seen) == (2, person.last_seen)

    batch_process(
        [
            stored_message(
                ws,
                "track",
                user_id="u1",
                event="Upgraded",
                context={"traits": {"plan": "max"}},
                minute=6,
            )
        ]
    )
    person = person_of(ws, "u1")
    assert (person.traits, person.event_count) == ({"plan": "max"}, 3)
    assert Identity.objects.get(workspace=ws, value="u1").trait_versions["plan"][0] == "max"


def test_the_person_an_id_leaves_is_recomputed_without_it(ws):
    # anon-1 follows u1 by a soft link; a later userId call makes it a user id, which leaves u1's
    # person: u1's person must lose anon-1's traits and events though none of its own ids changed.
    batch_process(
        [
            stored_message(
                ws,
                "page",
                anonymous_id="anon-1",
                name="Home",
                context={"traits": {"color": "red"}},
                minute=1,
            ),
            stored_message(
                ws, "identify", user_id="u1", anonymous_id="anon-1", traits={"email": "a@x.io"}
            ),
        ]
    )
    assert person_of(ws, "u1").traits == {"color": "red"}
    batch_process([stored_message(ws, "track", user_id="anon-1", event="E", minute=3)])
    person = person_of(ws, "u1")
    assert ids_of(person) == {"u1"}
    assert (person.traits, person.email) == ({}, "a@x.io")
