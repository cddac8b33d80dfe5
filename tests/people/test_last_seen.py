"""Last seen means the customer did something: Engage syncs (`context.personas`) and imports set
traits but never move first or last seen; a boolean trait is an audience only from a sync."""

import json
from pathlib import Path

import pytest

from core.messages import message_decode
from ingest.store import batch_process
from people.identity import is_audience, is_sync, moves_last_seen
from people.models import Audience, Identity
from tests.factories import BASE_TIME, person_of, stored_message, typed_message

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "segment"
# What Engage puts on an audience sync (tests/fixtures/segment/segment-destination-examples.jsonl).
PERSONAS = {
    "computation_class": "audience",
    "computation_id": "aud_1",
    "computation_key": "big_spenders",
    "namespace": "spa_1",
    "space_id": "spa_1",
}
SYNC = {"personas": PERSONAS}


def minutes(moment) -> int | None:
    return None if moment is None else int((moment - BASE_TIME).total_seconds() // 60)


def test_the_recorded_engage_sync_is_a_sync_and_the_other_calls_are_not():
    lines = (FIXTURES / "segment-destination-examples.jsonl").read_text().splitlines()
    bodies = [json.loads(line)["body"] for line in lines]
    syncs = [b["messageId"] for b in bodies if (b.get("context") or {}).get("personas")]
    assert syncs == ["engage-aud-1"]
    for body in bodies:
        message = typed_message(0, body["type"], context=body.get("context") or {})
        assert is_sync(message) is (body["messageId"] in syncs)
        assert moves_last_seen(message) is (body["messageId"] not in syncs)


@pytest.mark.parametrize("personas", [None, {}, "audience", ["x"]])
def test_only_a_personas_object_with_fields_marks_a_sync(personas):
    message = typed_message(0, "identify", context={"personas": personas})
    assert not is_sync(message)
    assert moves_last_seen(message)


def test_an_imported_message_does_not_move_last_seen():
    imported = typed_message(0, "track", context={"windsor_import": {"file": "a.gz", "line": 3}})
    assert not is_sync(imported)
    assert not moves_last_seen(imported)


def test_an_audience_sync_after_the_last_visit_does_not_move_last_seen(ws):
    batch_process(
        [
            stored_message(ws, "track", user_id="u1", event="Signed Up", minute=1),
            stored_message(ws, "page", user_id="u1", name="Home", minute=5),
            # Two weeks of silence, then Engage says the customer left an audience.
            stored_message(
                ws,
                "identify",
                user_id="u1",
                traits={"big_spenders": False},
                context=SYNC,
                minute=60,
            ),
            stored_message(
                ws, "track", user_id="u1", event="Audience Exited", context=SYNC, minute=61
            ),
        ]
    )
    person = person_of(ws, "u1")
    assert (minutes(person.first_seen), minutes(person.last_seen)) == (1, 5)
    assert person.event_count == 4
    assert person.audiences == {"big_spenders": False}
    identity = Identity.objects.get(workspace=ws, value="u1")
    assert minutes(identity.last_seen) == 5


def test_a_person_known_only_from_syncs_has_no_first_or_last_seen(ws):
    batch_process(
        [
            stored_message(
                ws, "identify", user_id="u1", traits={"big_spenders": True}, context=SYNC, minute=3
            ),
            stored_message(ws, "identify", user_id="u1", traits={"ltv": 120}, context=SYNC),
        ]
    )
    person = person_of(ws, "u1")
    assert (person.first_seen, person.last_seen, person.event_count) == (None, None, 2)
    assert person.audiences == {"big_spenders": True}
    # A computed trait that is not a boolean is a trait, from a sync or not.
    assert person.traits == {"ltv": 120}
    # Then the customer comes back: their visit is their first and last seen.
    batch_process([stored_message(ws, "page", user_id="u1", name="Home", minute=2)])
    person = person_of(ws, "u1")
    assert (minutes(person.first_seen), minutes(person.last_seen)) == (2, 2)


def test_a_plain_boolean_trait_is_a_trait_not_an_audience(ws):
    batch_process(
        [stored_message(ws, "identify", user_id="u1", traits={"churned": True, "beta_user": False})]
    )
    person = person_of(ws, "u1")
    assert person.audiences == {}
    assert person.traits == {"churned": True, "beta_user": False}
    assert not Audience.objects.filter(workspace=ws).exists()


def test_the_newest_value_decides_whether_a_key_is_an_audience_in_any_order():
    from accounts.models import Workspace

    messages = [
        stored_message(
            0, "identify", user_id="u1", traits={"big_spenders": True}, context=SYNC, minute=1
        ),
        # A newer plain identify of the same key: a trait from then on.
        stored_message(0, "identify", user_id="u1", traits={"big_spenders": False}, minute=2),
        stored_message(
            0, "identify", user_id="u1", traits={"vip_users": True}, context=SYNC, minute=0
        ),
        stored_message(0, "identify", user_id="u1", traits={"vip_users": False}, minute=-1),
    ]
    seen = []
    for order in (messages, messages[::-1]):
        workspace = Workspace.objects.create(name="order")
        batch_process([{**m, "workspace_id": workspace.pk} for m in order])
        person = person_of(workspace, "u1")
        seen.append((person.audiences, person.traits))
    assert seen[0] == seen[1] == ({"vip_users": True}, {"big_spenders": False})


def test_an_audience_the_sync_removed_still_shows_as_not_in_it(ws):
    batch_process(
        [
            stored_message(
                ws, "identify", user_id="u1", traits={"big_spenders": True}, context=SYNC, minute=1
            ),
            stored_message(
                ws, "identify", user_id="u1", traits={"big_spenders": False}, context=SYNC, minute=2
            ),
        ]
    )
    assert person_of(ws, "u1").audiences == {"big_spenders": False}
    assert list(Audience.objects.filter(workspace=ws).values_list("name", flat=True)) == [
        "big_spenders"
    ]


def test_trait_entries_stored_before_syncs_were_told_apart_keep_the_old_rule(ws):
    # Rows written before this rule hold [value, ts, messageId]: a snake_case boolean stays the
    # audience it was, until a newer message rewrites the key.
    assert is_audience("vip_users", [True, "2026-01-01T00:00:00.000000+00:00", "m-1"])
    assert not is_audience("isAdmin", [True, "2026-01-01T00:00:00.000000+00:00", "m-1"])
    assert not is_audience("vip_users", [True, "2026-01-01T00:00:00.000000+00:00", "m-1", 0])
    assert is_audience("isAdmin", [True, "2026-01-01T00:00:00.000000+00:00", "m-1", 1])
    assert not is_audience("vip_users", ["yes", "2026-01-01T00:00:00.000000+00:00", "m-1", 1])

    batch_process([stored_message(ws, "identify", user_id="u1", traits={"plan": "pro"}, minute=1)])
    identity = Identity.objects.get(workspace=ws, value="u1")
    identity.trait_versions["vip_users"] = [True, "2025-01-01T00:00:00.000000+00:00", "old"]
    identity.save(update_fields=["trait_versions"])
    # Any new message of the person recomputes it from its identities, old entries included.
    batch_process([stored_message(ws, "identify", user_id="u1", traits={"plan": "max"}, minute=2)])
    person = person_of(ws, "u1")
    assert person.audiences == {"vip_users": True}
    assert person.traits == {"plan": "max"}


def test_a_sync_keeps_its_mark_through_the_queue_s_dict_form(ws):
    # Dead letters and older records travel as dicts: the mark is the message's own context.
    message = message_decode(stored_message(ws, "identify", user_id="u1", context=SYNC))
    assert is_sync(message)
