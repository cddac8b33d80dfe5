"""Real senders against a live server, a real Redis queue and a real Celery worker."""

import base64
import json
import time
import uuid

import pytest
import requests
from segment.analytics import Client

from accounts.models import RejectedMessage, Source
from feed.models import Event
from tests.e2e.waits import WAIT_SECONDS, wait_for_events
from tests.recorded import destination_path, fixture_names, recorded

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def sdk_client(live_server, token: str, errors: list, **options) -> Client:
    return Client(
        write_key=token,
        host=live_server.url,
        on_error=lambda error, batch: errors.append(error),
        max_retries=0,
        **options,
    )


def send_every_call(client: Client, suffix: str) -> list[str]:
    ids = [f"{kind}-{suffix}" for kind in ("i", "t", "p", "s", "g", "a")]
    client.identify("user-1", {"email": "u1@example.com", "name": "U One"}, message_id=ids[0])
    client.track("user-1", "Order Completed", {"revenue": 42.5}, message_id=ids[1])
    client.page("user-1", "Docs", "Pricing", {"url": "https://x.test/p"}, message_id=ids[2])
    client.screen("user-1", "App", "Home", message_id=ids[3])
    client.group("user-1", "acme", {"name": "Acme"}, message_id=ids[4])
    client.alias("anon-1", "user-1", message_id=ids[5])
    return ids


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "plain"])
def test_python_sdk_calls_are_each_stored_once(live_server, celery_worker, issued, gzip):
    errors: list = []
    client = sdk_client(live_server, issued.token, errors, sync_mode=True, gzip=gzip)
    ids = send_every_call(client, uuid.uuid4().hex)
    # Senders re-send: the same calls again must not be stored twice.
    send_every_call(client, ids[0].split("-", 1)[1])

    stored = wait_for_events(issued.source.workspace, len(ids))
    assert errors == []
    assert sorted(stored) == sorted(ids)
    source = Source.objects.get(pk=issued.source.pk)
    assert source.last_received_at is not None
    assert source.accepted_count >= len(ids)


def test_python_sdk_batches_of_a_hundred_are_all_stored(live_server, celery_worker, issued):
    errors: list = []
    client = sdk_client(
        live_server, issued.token, errors, sync_mode=False, gzip=True, upload_size=100
    )
    ids = [str(uuid.uuid4()) for _ in range(350)]
    for n, message_id in enumerate(ids):
        client.track(f"user-{n % 7}", "Clicked", {"n": n}, message_id=message_id)
    client.flush()
    client.join()

    stored = wait_for_events(issued.source.workspace, len(ids))
    assert errors == []
    assert sorted(stored) == sorted(ids)


def replay(live_server, request, *, path: str | None = None) -> requests.Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "accept-encoding"}
    return requests.request(
        request.method,
        live_server.url + (path or destination_path(request)),
        headers=headers,
        data=request.encoded_body() if request.body is not None else None,
        timeout=10,
    )


@pytest.mark.parametrize("name", fixture_names())
def test_recorded_sender_requests_are_stored_once(live_server, celery_worker, issued, name):
    requests_made = [r.with_token(issued.token) for r in recorded(name)]
    expected = []
    for request in requests_made:
        response = replay(live_server, request)
        if request.method == "OPTIONS":
            assert response.status_code == 204
            continue
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}
        expected += request.message_ids()
    # The whole recording again, as a retrying sender would.
    for request in requests_made:
        if request.method == "POST":
            replay(live_server, request)

    stored = wait_for_events(issued.source.workspace, len(set(expected)))
    assert sorted(stored) == sorted(set(expected))


def shaped_request(shape: str, token: str, message_id: str) -> tuple[str, dict, bytes]:
    message = {
        "type": "track",
        "event": "Shape Tested",
        "userId": "user-9",
        "messageId": message_id,
        "timestamp": "2026-01-02T03:04:05Z",
    }
    basic = {"Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode()}
    json_type = {"Content-Type": "application/json"}
    if shape == "single-call":
        single = {k: v for k, v in message.items() if k != "type"}
        return "/v1/track", {**basic, **json_type}, json.dumps(single).encode()
    if shape == "batch":
        return "/v1/batch/", {**basic, **json_type}, json.dumps({"batch": [message]}).encode()
    if shape == "array":
        return "/v1/batch", {**basic, **json_type}, json.dumps([message]).encode()
    if shape == "text-plain":
        body = json.dumps({**message, "writeKey": token}).encode()
        return "/v1/t", {**basic, "Content-Type": "text/plain"}, body
    if shape == "bearer":
        headers = {"Authorization": f"Bearer {token}", **json_type}
        return "/v1/import", headers, json.dumps({"batch": [message]}).encode()
    if shape == "body-write-key":
        body = json.dumps({"batch": [message], "writeKey": token}).encode()
        return "/v1/batch", json_type, body
    if shape == "hook":
        hook_message = {**message, "type": "event"}
        return f"/hook/{token}", json_type, json.dumps({"batch": [hook_message]}).encode()
    raise AssertionError(shape)


@pytest.mark.parametrize(
    "shape",
    ["single-call", "batch", "array", "text-plain", "bearer", "body-write-key", "hook"],
)
def test_every_request_shape_is_stored(live_server, celery_worker, issued, shape):
    message_id = f"shape-{shape}-{uuid.uuid4().hex[:8]}"
    path, headers, body = shaped_request(shape, issued.token, message_id)
    response = requests.post(live_server.url + path, headers=headers, data=body, timeout=10)
    assert response.status_code == 200, response.text

    assert wait_for_events(issued.source.workspace, 1) == [message_id]
    event = Event.objects.get(message_id=message_id)
    assert (event.type, event.name) == ("track", "Shape Tested")


def test_browser_preflight_allows_the_headers_analytics_js_sends(live_server):
    response = requests.options(
        live_server.url + "/v1/t",
        headers={
            "Origin": "http://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-retry-count",
        },
        timeout=10,
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://shop.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed_header = response.headers["Access-Control-Allow-Headers"]
    allowed = {h.strip().lower() for h in allowed_header.split(",")}
    assert {"authorization", "content-type", "x-retry-count"} <= allowed


def test_dashboard_pages_get_no_cors_headers(live_server):
    response = requests.options(
        live_server.url + "/sources/", headers={"Origin": "http://shop.example"}, timeout=10
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_mixed_batch_keeps_the_good_and_logs_the_bad_on_the_sources_page(
    live_server, celery_worker, issued, owner_client
):
    batch = [
        {"type": "track", "event": "Good", "userId": "u", "messageId": "good-1"},
        {"type": "track", "userId": "u", "messageId": "no-event"},
        "not an object",
        {"type": "track", "event": "Good", "userId": "u", "messageId": "good-2"},
    ]
    response = requests.post(
        live_server.url + "/v1/batch",
        auth=(issued.token, ""),
        json={"batch": batch},
        timeout=10,
    )
    assert response.status_code == 200
    assert [r["index"] for r in response.json()["rejected"]] == [1, 2]

    assert sorted(wait_for_events(issued.source.workspace, 2)) == ["good-1", "good-2"]
    deadline = time.monotonic() + WAIT_SECONDS
    while RejectedMessage.objects.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    source = Source.objects.get(pk=issued.source.pk)
    assert (source.accepted_count, source.rejected_count) == (2, 2)
    page = owner_client.get("/sources/").content.decode()
    assert "track needs an event name" in page
    assert "a message must be a JSON object" in page
