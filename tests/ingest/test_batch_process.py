"""batch_process: each message stored once, with its fields, in its own workspace."""

import pytest

from accounts.models import Workspace
from feed.models import Event
from ingest.store import batch_process
from people.models import Person
from tests.factories import person_of
from tests.factories import stored_message as message

pytestmark = pytest.mark.django_db


def test_events_keep_the_message_fields_and_hide_page_views(ws, issued):
    source = issued.source
    track = message(
        ws,
        "track",
        user_id="u1",
        event="Order Completed",
        properties={"total": 27.5},
        context={"ip": "8.8.8.8"},
        minute=3,
    ) | {"source_id": source.pk, "received_at": "2026-01-01T00:05:00+00:00"}
    page = message(ws, "page", anonymous_id="a1", name="Home", minute=4)
    screen = message(ws, "screen", anonymous_id="a1", name="Settings", minute=5)
    batch_process([track, page, screen])
    stored = Event.objects.get(message_id=track["message_id"])
    assert (stored.type, stored.name, stored.properties, stored.context) == (
        "track",
        "Order Completed",
        {"total": 27.5},
        {"ip": "8.8.8.8"},
    )
    assert stored.source == source and not stored.hidden and stored.raw == track["raw"]
    assert stored.timestamp.minute == 3 and stored.received_at.minute == 5
    assert stored.identity.person == person_of(ws, "u1")
    assert Event.objects.get(message_id=page["message_id"]).hidden
    assert Event.objects.get(message_id=screen["message_id"]).name == "Settings"
    assert list(Event.objects.for_workspace(ws).visible().newest_first()) == [
        Event.objects.get(message_id=screen["message_id"]),
        stored,
    ]


@pytest.fixture
def issued(workspace, owner):
    from accounts.services import source_create

    return source_create(workspace=workspace, name="Segment", created_by=owner)


@pytest.fixture
def ws(workspace) -> Workspace:
    return workspace


def test_a_message_sent_again_is_stored_once_and_counted_once(ws):
    identify = message(ws, "identify", user_id="u1", traits={"email": "a@x.io"})
    track = message(ws, "track", user_id="u1", event="E", minute=1)
    batch_process([identify, track, track])
    batch_process([track, identify | {"traits": {"email": "changed@x.io"}}])
    assert Event.objects.for_workspace(ws).count() == 2
    person = person_of(ws, "u1")
    # A re-sent messageId is the same message: its (different) payload is not applied again.
    assert (person.event_count, person.email) == (2, "a@x.io")


def test_one_batch_can_hold_several_workspaces_without_mixing_them(ws):
    other = Workspace.objects.create(name="Other")
    batch_process(
        [
            message(ws, "identify", user_id="u1", traits={"email": "ws@x.io"}, message_id="same"),
            message(
                other, "identify", user_id="u1", traits={"email": "other@x.io"}, message_id="same"
            ),
        ]
    )
    assert person_of(ws, "u1").email == "ws@x.io"
    assert person_of(other, "u1").email == "other@x.io"
    assert Person.objects.for_workspace(ws).count() == 1
    assert Event.objects.for_workspace(other).get().identity.person.workspace == other


def test_an_empty_batch_and_a_batch_of_duplicates_write_nothing(ws, django_assert_max_num_queries):
    batch_process([])
    seen = message(ws, "track", anonymous_id="a1", event="E")
    batch_process([seen])
    with django_assert_max_num_queries(4):
        batch_process([seen, seen])
    assert Event.objects.for_workspace(ws).count() == 1


def test_awkward_values_survive_the_bulk_path_unchanged(ws):
    awkward = ["tab\there", "new\nline", "back\\slash", 'quote"s', "ünï 🎉", "\\N", "comma,semi;"]
    traits = {"note": 'a\\b\t"c"\n', "nested": {"list": [1, "\\x", None]}, "email": "é@x.io"}
    batch = [
        message(ws, "identify", user_id=f"{value}-{i}", traits=traits, properties={"v": value})
        for i in range(10)
        for value in awkward
    ]
    assert len(batch) >= 50  # large enough for the COPY path on PostgreSQL
    batch_process(batch)
    person = person_of(ws, "\\N-3")
    assert person.traits == {"note": 'a\\b\t"c"\n', "nested": {"list": [1, "\\x", None]}}
    assert person.email == "é@x.io"
    stored = Event.objects.get(message_id=batch[1]["message_id"])
    assert stored.properties == {"v": "new\nline"}
    assert stored.identity.value == "new\nline-0"
