"""Who may erase: a `delete` is honoured only from a source allowed to erase, authenticated by the
Authorization header, in a request no browser made (ingest/erasure_rule.py). Every other message
of a request that carries a refused delete is still stored."""

import json

import pytest
from django.test import Client

from accounts.models import Membership, RejectedMessage, Source
from accounts.services import source_erasure_set
from feed.models import Event
from people.models import Identity
from tests.http import basic, post
from tests.ingest.deletions import USER, deletions, gone, seed

pytestmark = pytest.mark.django_db

ORIGIN = {"Origin": "https://shop.example"}


def delete(user_id: str = USER, **extra) -> dict:
    return {"type": "delete", "userId": user_id, "messageId": f"del-{user_id}", **extra}


def allow(source: Source, allowed: bool = True) -> None:
    source_erasure_set(source=source, allowed=allowed)


def test_a_new_source_may_not_erase(issued):
    assert Source.objects.get(pk=issued.source.pk).may_erase is False


def test_a_browser_write_key_cannot_erase_and_the_rest_is_stored(client, issued, embedded):
    """The report's request: analytics.js's text/plain POST, writeKey in the body, foreign
    Origin. Refused even when the source may erase (the key ships in every web page)."""
    seed(client, issued.token)
    allow(issued.source)
    body = {
        "batch": [
            delete(),
            {"type": "track", "userId": "u-2", "event": "Clicked", "messageId": "kept"},
        ],
        "writeKey": issued.token,
    }
    response = post(client, "/v1/t", body, content_type="text/plain", headers=ORIGIN)
    assert response.status_code == 200, response.content
    [rejected] = response.json()["rejected"]
    assert (rejected["index"], rejected["code"]) == (0, "delete_not_allowed")
    assert not gone()
    assert Event.objects.filter(message_id="kept").exists()
    logged = RejectedMessage.objects.get(source=issued.source)
    assert logged.index == 0 and "Authorization header" in logged.reason


# (how the request authenticates, extra headers, whether the source may erase) -> refused why
REFUSED = {
    "not-allowed-basic": ("basic", {}, False, "not allowed to erase"),
    "not-allowed-bearer": ("bearer", {}, False, "not allowed to erase"),
    "allowed-body-key": ("body", {}, True, "Authorization header"),
    "allowed-path-token": ("path", {}, True, "Authorization header"),
    "allowed-basic-browser": ("basic", ORIGIN, True, "browser"),
    "allowed-basic-null-origin": ("basic", {"Origin": "null"}, True, "browser"),
}


def send(client, token: str, how: str, body: dict, headers: dict):
    headers = dict(headers)
    if how == "basic":
        headers.update(basic(token))
    elif how == "bearer":
        headers["Authorization"] = f"Bearer {token}"
    elif how == "body":
        body = {**body, "writeKey": token}
    path = f"/hook/{token}" if how == "path" else "/v1/batch"
    return post(client, path, body, headers=headers)


@pytest.mark.parametrize("case", REFUSED)
def test_a_delete_is_refused_unless_all_three_hold(client, issued, embedded, case):
    how, headers, allowed, why = REFUSED[case]
    seed(client, issued.token)
    allow(issued.source, allowed)
    body = {"batch": [delete(), {"type": "track", "userId": "u-2", "event": "E", "messageId": "k"}]}
    response = send(client, issued.token, how, body, headers)
    assert response.status_code == 200, response.content
    [rejected] = response.json()["rejected"]
    assert rejected["code"] == "delete_not_allowed" and why in rejected["reason"]
    assert not gone()
    assert Event.objects.filter(message_id="k").exists()
    assert why in RejectedMessage.objects.get(source=issued.source).reason


@pytest.mark.parametrize("how", ["basic", "bearer"])
def test_an_allowed_source_erases_server_to_server(client, issued, embedded, how):
    seed(client, issued.token)
    allow(issued.source)
    response = send(client, issued.token, how, {"batch": [delete()]}, {})
    assert response.json() == {"success": True}
    assert gone()


def test_a_lone_refused_delete_is_a_403(client, issued, embedded):
    seed(client, issued.token)
    response = post(client, "/v1/delete", delete(), headers=basic(issued.token))
    assert response.status_code == 403
    assert response.json()["code"] == "delete_not_allowed"
    assert not gone()


@pytest.mark.parametrize("shape", [0, 1], ids=["partner-destination", "webhooks"])
def test_segments_recorded_deletions_erase_when_the_source_may(client, issued, embedded, shape):
    """The recorded requests (Basic auth, no Origin) work once an admin allows the source."""
    from tests.ingest.deletions import send_recorded

    seed(client, issued.token)
    refused = send_recorded(client, deletions()[shape], issued.token)
    assert refused.status_code == 403 and not gone()
    allow(issued.source)
    assert send_recorded(client, deletions()[shape], issued.token).status_code == 200
    assert gone()


def test_turning_erasure_off_takes_effect_for_the_next_request(client, issued, embedded):
    seed(client, issued.token)
    allow(issued.source)
    allow(issued.source, False)
    response = post(client, "/v1/batch", {"batch": [delete()]}, headers=basic(issued.token))
    assert response.status_code == 400 and not gone()


# --- The Sources page's toggle -------------------------------------------------------------


def test_an_admin_allows_and_forbids_erasure_on_the_sources_page(owner_client, issued):
    page = owner_client.get("/sources/").content.decode()
    assert "May erase" in page and "server to server" in page
    url = f"/sources/{issued.source.pk}/erasure/"
    assert owner_client.post(url, {"allowed": "1"}).status_code == 302
    assert Source.objects.get(pk=issued.source.pk).may_erase is True
    assert owner_client.post(url, {"allowed": "0"}).status_code == 302
    assert Source.objects.get(pk=issued.source.pk).may_erase is False


def test_a_member_cannot_allow_erasure(client, workspace, issued, django_user_model):
    user = django_user_model.objects.create_user(username="m@x.io", password="x" * 12)
    Membership.objects.create(user=user, workspace=workspace, role=Membership.Role.MEMBER)
    client.force_login(user)
    response = client.post(f"/sources/{issued.source.pk}/erasure/", {"allowed": "1"})
    assert response.status_code == 403
    assert Source.objects.get(pk=issued.source.pk).may_erase is False


def test_another_workspaces_source_is_a_404(owner_client, stranger_workspace):
    from accounts.services import source_create

    theirs = source_create(workspace=stranger_workspace, name="Theirs").source
    response = owner_client.post(f"/sources/{theirs.pk}/erasure/", {"allowed": "1"})
    assert response.status_code == 404
    assert Source.objects.get(pk=theirs.pk).may_erase is False


# --- What a write key may read: nothing ----------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/people/", "/api/v1/events/", "/api/v1/groups/", "/people/", "/sources/"]
)
def test_a_write_key_reads_nothing(issued, embedded, url):
    seed(Client(), issued.token)  # Ada is there to be read
    for credentials in (basic(issued.token), {"Authorization": f"Bearer {issued.token}"}):
        client = Client(headers=credentials)
        response = client.get(url, {"writeKey": issued.token})
        assert response.status_code in {401, 302}, (url, response.status_code)
        assert USER.encode() not in response.content
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/t", f"/hook/{'TOKEN'}"])
def test_the_ingest_paths_answer_nothing_but_posts(issued, path):
    client = Client(headers=basic(issued.token))
    response = client.get(path.replace("TOKEN", issued.token))
    assert response.status_code == 405
    assert json.loads(response.content)["code"] == "method_not_allowed"
    assert Identity.objects.count() == 0


def test_the_worker_applies_no_delete_from_a_source_no_longer_allowed_to_erase(issued, workspace):
    """A delete accepted at the edge waits in the queue; if an admin forbids the source to erase
    meanwhile (or it was queued by a server older than the rule), the worker refuses it too."""
    from ingest.store import batch_process
    from tests.factories import stored_message as message

    batch_process([message(workspace, "identify", user_id="kept-user", minute=0)])
    allow(issued.source, False)
    batch_process(
        [message(workspace, "delete", user_id="kept-user", minute=1, source_id=issued.source.pk)]
    )
    assert Identity.objects.filter(workspace=workspace, value="kept-user").exists()
    logged = RejectedMessage.objects.get(source=issued.source)
    assert "not allowed to erase" in logged.reason and "kept-user" in logged.excerpt

    allow(issued.source)
    batch_process(
        [message(workspace, "delete", user_id="kept-user", minute=2, source_id=issued.source.pk)]
    )
    assert not Identity.objects.filter(workspace=workspace, value="kept-user").exists()
