"""Segment's forwarded user deletions (`type: delete`), from the recorded shapes, on every path."""

import pytest

from accounts.models import AuditEntry, Source
from accounts.services import source_erasure_set
from feed.models import Event
from ingest.segment import InvalidMessage, message_parse
from people.models import Identity, Person
from tests.http import post
from tests.ingest.deletions import USER, deletions, gone, seed, send_recorded

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def may_erase(request) -> None:
    """These tests send Segment's deletes: their source is allowed to erase (off by default)."""
    if "issued" in request.fixturenames:
        issued = request.getfixturevalue("issued")
        source_erasure_set(source=issued.source, allowed=True)


# (path, how the recorded message is wrapped): every way a message reaches us.
WAYS = {
    "raw-message": ("/v1/batch", lambda m: m),
    "batch-object": ("/v1/batch", lambda m: {"batch": [m]}),
    "bare-array": ("/v1/batch", lambda m: [m]),
    "import": ("/v1/import", lambda m: {"batch": [m]}),
    "browser-batch": ("/v1/b", lambda m: {"batch": [m]}),
    "single-call": ("/v1/delete", lambda m: {k: v for k, v in m.items() if k != "type"}),
    "single-call-typed": ("/v1/delete", lambda m: m),
}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("shape", [0, 1], ids=["partner-destination", "webhooks"])
def test_a_recorded_delete_erases_the_person_on_every_path(client, issued, embedded, way, shape):
    seed(client, issued.token)
    other = "someone-else"
    seed(client, issued.token, other)
    request = deletions()[shape]
    path, wrap = WAYS[way]
    response = send_recorded(client, request, issued.token, path=path, body=wrap(request.body))
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    assert gone()
    assert not gone(other)
    assert list(Event.objects.values_list("identity__value", flat=True).distinct()) != []
    assert not Event.objects.filter(identity__isnull=True).exists()
    assert not Event.objects.filter(type="delete").exists(), "a delete is not stored"
    assert Person.objects.current().count() == 1
    source = Source.objects.get(pk=issued.source.pk)
    assert source.accepted_count == 3 + 3 + 1, "the delete is counted as accepted"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PERSON_DELETED)
    assert entry.actor is None
    assert issued.source.token_prefix in entry.actor_label
    assert f"user:{USER}" in entry.target and "Ada" not in str(entry.detail)


def test_the_windsor_node_hook_path_refuses_a_delete(client, issued, embedded):
    """A token in the URL is not the Authorization header (ingest/erasure_rule.py)."""
    seed(client, issued.token)
    body = {"batch": [deletions()[1].body]}
    response = post(client, f"/hook/{issued.token}", body)
    assert response.status_code == 400, response.content
    assert response.json()["rejected"][0]["code"] == "delete_not_allowed"
    assert not gone()


def test_a_delete_for_an_id_no_one_holds_is_a_200_and_changes_nothing(client, issued, embedded):
    seed(client, issued.token, "someone-else")
    before = Event.objects.count()
    response = send_recorded(client, deletions()[0], issued.token)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert Event.objects.count() == before
    assert Person.objects.count() == 1
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.PERSON_DELETED).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ERASURES_UNMATCHED)
    assert entry.target.endswith(": 1") and entry.detail["count"] == 1


def test_a_delete_applies_where_it_stands_in_the_batch(client, issued, embedded):
    delete = deletions()[0].body
    batch = [
        {"type": "identify", "userId": USER, "messageId": "before", "traits": {"email": "a@x.io"}},
        {"type": "track", "userId": USER, "event": "Old", "messageId": "old-event"},
        delete,
        {"type": "identify", "userId": USER, "messageId": "after", "traits": {"plan": "pro"}},
    ]
    assert post(client, "/v1/batch", {"batch": batch}, token=issued.token).status_code == 200
    person = Identity.objects.get(value=USER).person
    # A fresh person: nothing of what came before the delete.
    assert (person.email, person.traits, person.event_count) == (None, {"plan": "pro"}, 1)
    assert list(Event.objects.values_list("message_id", flat=True)) == ["after"]


def test_a_delete_sent_again_does_not_erase_what_came_after_it(client, issued, embedded):
    seed(client, issued.token)
    assert send_recorded(client, deletions()[0], issued.token).status_code == 200
    seed(client, issued.token, n=1)
    # Segment retries: the same delete (same messageId) again.
    assert send_recorded(client, deletions()[0], issued.token).status_code == 200
    assert not gone()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PERSON_DELETED).count() == 1


def test_a_delete_by_anonymous_id_erases_the_person_holding_it(client, issued, embedded):
    seed(client, issued.token)
    body = {"type": "delete", "anonymousId": f"anon-of-{USER}", "messageId": "del-anon"}
    assert post(client, "/v1/batch", body, token=issued.token).status_code == 200
    assert gone()


# --- the edge's rules for a delete -----------------------------------------------------------


def parse(raw: dict, **kwargs):
    from datetime import UTC, datetime

    return message_parse(raw, workspace_id=1, source_id=1, received_at=datetime.now(UTC), **kwargs)


def test_the_partner_shape_with_empty_array_context_parses():
    message = parse(deletions()[0].body)
    assert (message.type, message.user_id, message.context) == ("delete", USER, {})
    assert message.message_id == "delete-022bb90c-9b1d-4b2c-8f3a-1f0e5c7d2a11"


def test_the_webhooks_shape_without_message_id_gets_a_stable_one():
    first, again = parse(deletions()[1].body), parse(deletions()[1].body)
    assert first.message_id == again.message_id


def test_a_delete_without_an_id_is_rejected():
    with pytest.raises(InvalidMessage, match="delete needs userId or anonymousId"):
        parse({"type": "delete", "messageId": "x"})


def test_an_empty_array_context_is_still_refused_on_other_calls():
    with pytest.raises(InvalidMessage, match="context must be a JSON object"):
        parse({"type": "track", "event": "E", "userId": "u", "context": []})
