"""The ingest endpoints through Django's test client, on the embedded path (inbox, drained in
the request): what each kind of bad input gets back, and that good messages are still stored."""

import gzip
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import RejectedMessage, Source
from accounts.services import source_create, source_revoke
from feed.models import Event
from ingest.body import json_decode
from ingest.models import DeadLetter, InboxBatch
from ingest.segment import Limits, messages_parse, payload_from_json
from tests.factories import stored
from tests.factories import wire_message as track
from tests.http import assert_error, post
from tests.recorded import destination_path, fixture_names, recorded

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", fixture_names())
def test_recorded_requests_are_stored_on_the_embedded_path(client, token, embedded, name):
    expected = []
    for request in recorded(name):
        request = request.with_token(token)
        if request.method != "POST":
            continue
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
        response = post(
            client,
            destination_path(request),
            None,
            raw=request.encoded_body(),
            headers=headers,
            content_type=request.headers.get("Content-Type", "application/json"),
        )
        assert response.status_code == 200, response.content
        expected += request.message_ids()
    assert stored() == sorted(expected)
    assert InboxBatch.objects.count() == 0


def test_sources_get_accepted_and_rejected_counts_from_the_worker(client, issued, embedded):
    response = post(
        client, "/v1/batch", {"batch": [track("m-1"), {"type": "nope"}]}, token=issued.token
    )
    assert response.json() == {
        "success": True,
        "rejected": [{"index": 1, "code": "invalid_message", "reason": "unknown type 'nope'"}],
    }
    source = Source.objects.get(pk=issued.source.pk)
    assert (source.accepted_count, source.rejected_count) == (1, 1)
    assert source.last_received_at is not None
    rejection = RejectedMessage.objects.get(source=source)
    assert (rejection.index, rejection.reason) == (1, "unknown type 'nope'")
    assert json.loads(rejection.excerpt) == {"type": "nope"}


@pytest.mark.parametrize(
    "path", ["/v1/batch", "/v1/batch/", "/v1/import", "/v1/b/", "/v1/track/", "/v1/t"]
)
def test_trailing_slashes_and_aliases_are_tolerated(client, token, embedded, path):
    assert post(client, path, [track(f"m{path}")], token=token).status_code == 200
    assert stored() == [f"m{path}"]


def test_basic_auth_with_or_without_colon_and_in_the_password(client, token, embedded):
    import base64

    for n, credentials in enumerate([f"{token}:", token, f":{token}"]):
        header = "Basic " + base64.b64encode(credentials.encode()).decode()
        response = post(client, "/v1/batch", [track(f"b{n}")], headers={"Authorization": header})
        assert response.status_code == 200
    assert stored() == ["b0", "b1", "b2"]


@pytest.mark.parametrize(
    "headers,body_key,path",
    [
        ({}, None, "/v1/batch"),
        ({"Authorization": "Bearer wsr_unknown"}, None, "/v1/batch"),
        ({"Authorization": "Basic !!!notbase64"}, None, "/v1/batch"),
        ({}, "wsr_unknown", "/v1/batch"),
        ({}, None, "/hook/wsr_unknown"),
    ],
    ids=["missing", "unknown-bearer", "bad-basic", "unknown-write-key", "unknown-path"],
)
def test_missing_or_unknown_tokens_are_401(client, issued, embedded, headers, body_key, path):
    body = {"batch": [track("x")], **({"writeKey": body_key} if body_key else {})}
    response = post(client, path, body, headers=headers)
    assert_error(
        response,
        401,
        "missing_token" if not (headers or body_key or "hook" in path) else "invalid_token",
    )
    assert stored() == []


def test_a_revoked_token_is_401(client, issued, embedded):
    source_revoke(source=issued.source)
    assert_error(post(client, "/v1/batch", [track("x")], token=issued.token), 401, "invalid_token")


def test_a_token_revoked_after_use_is_refused_at_once(client, issued, embedded):
    assert post(client, "/v1/batch", [track("before")], token=issued.token).status_code == 200
    source_revoke(source=issued.source)
    response = post(client, "/v1/batch", [track("after")], token=issued.token)
    assert_error(response, 401, "invalid_token")
    assert stored() == ["before"]


def test_a_token_of_another_workspace_stores_into_that_workspace_only(
    client, issued, embedded, workspace
):
    from accounts.services import workspace_create

    other = workspace_create(name="Other", owner=workspace.memberships.first().user)
    other_source = source_create(workspace=other, name="S")
    assert post(client, "/v1/batch", [track("mine")], token=issued.token).status_code == 200
    response = post(client, "/v1/batch", [track("theirs")], token=other_source.token)
    assert response.status_code == 200, response.content
    assert sorted(Event.objects.values_list("message_id", "workspace_id", "source_id")) == [
        ("mine", workspace.pk, issued.source.pk),
        ("theirs", other.pk, other_source.source.pk),
    ]


def test_malformed_json_is_400(client, token, embedded):
    assert_error(post(client, "/v1/batch", None, raw=b"{nope", token=token), 400, "malformed_json")


def test_a_batch_of_only_bad_messages_is_400_and_logged(client, issued, embedded):
    response = post(client, "/v1/batch", [1, "two", None], token=issued.token)
    body = assert_error(response, 400, "invalid_messages")
    assert [r["index"] for r in body["rejected"]] == [0, 1, 2]
    assert Source.objects.get(pk=issued.source.pk).rejected_count == 3


def test_a_single_bad_message_is_400_with_its_reason(client, token, embedded):
    response = post(client, "/v1/track", {"userId": "u"}, token=token)
    body = assert_error(response, 400, "invalid_message")
    assert body["message"] == "track needs an event name"


def test_an_oversize_message_is_413_alone_and_rejected_in_a_batch(client, token, embedded):
    big = track("big", properties={"blob": "x" * 40_000})
    assert_error(post(client, "/v1/track", big, token=token), 413, "message_too_large")
    response = post(client, "/v1/batch", [track("ok-1"), big, track("ok-2")], token=token)
    assert response.status_code == 200
    assert response.json()["rejected"][0]["index"] == 1
    assert stored() == ["ok-1", "ok-2"]


def test_an_oversize_request_is_413_and_nothing_is_stored(client, issued, embedded):
    batch = [track(f"m{n}", properties={"blob": "x" * 20_000}) for n in range(30)]
    response = post(client, "/v1/batch", batch, token=issued.token)
    assert_error(response, 413, "request_too_large")
    assert stored() == []
    # The refusal shows in the source's ingest log.
    assert RejectedMessage.objects.filter(source=issued.source, index=None).exists()


def test_too_many_messages_is_413(client, token, embedded):
    batch = [track(f"m{n}") for n in range(2501)]
    assert_error(post(client, "/v1/batch", batch, token=token), 413, "too_many_messages")
    assert stored() == []


def test_a_gzip_bomb_is_413(client, token, embedded):
    bomb = gzip.compress(bytes(1024 * 1024)) * 1024
    response = post(
        client, "/v1/batch", None, raw=bomb, token=token, headers={"Content-Encoding": "gzip"}
    )
    assert_error(response, 413, "request_too_large")


def test_gzip_and_text_plain_and_form_content_types_are_all_json(client, token, embedded):
    body = json.dumps([track("g")]).encode()
    post(
        client,
        "/v1/batch",
        None,
        raw=gzip.compress(body),
        token=token,
        headers={"Content-Encoding": "gzip"},
        content_type="application/x-www-form-urlencoded",
    )
    post(
        client,
        "/v1/batch",
        None,
        raw=json.dumps([track("t")]).encode(),
        token=token,
        content_type="text/plain",
    )
    assert stored() == ["g", "t"]


def test_html_and_script_in_fields_are_stored_verbatim(client, token, embedded):
    script = "<script>alert(1)</script>"
    response = post(
        client,
        "/v1/track",
        {"event": script, "userId": script, "properties": {script: script}, "messageId": "h"},
        token=token,
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    event = Event.objects.get(message_id="h")
    assert (event.name, event.properties) == (script, {script: script})


def test_nul_characters_are_stored_replaced(client, token, embedded):
    response = post(
        client, "/v1/track", {"event": "a\u0000b", "userId": "u", "messageId": "nul"}, token=token
    )
    assert response.status_code == 200
    assert Event.objects.get(message_id="nul").name == "a\ufffdb"


def test_the_same_message_twice_is_stored_once(client, issued, embedded):
    for batch in ([track("dup")], [track("dup")], [track("dup"), track("dup")]):
        response = post(client, "/v1/batch", batch, token=issued.token)
        assert response.json() == {"success": True}
    assert stored() == ["dup"]
    # Skipped as a duplicate: not refused by the unique constraint and dead-lettered.
    assert DeadLetter.objects.count() == 0


def test_get_is_405_json_and_preflight_is_204_with_cors(client):
    assert_error(client.get("/v1/batch"), 405, "method_not_allowed")
    response = client.options(
        "/v1/i",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert "X-Retry-Count" in response["Access-Control-Allow-Headers"]


def test_error_replies_carry_cors_headers_too(client):
    response = post(client, "/v1/t", [track("x")], headers={"Origin": "https://shop.example"})
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
message_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["identify", "track", "page", "screen", "group", "alias", "x"])
        | json_values,
        "userId": st.text(max_size=5) | json_values,
        "anonymousId": json_values,
        "previousId": json_values,
        "groupId": json_values,
        "event": st.text(max_size=5) | json_values,
        "name": json_values,
        "messageId": json_values,
        "properties": json_values,
        "traits": json_values,
        "context": json_values,
        "integrations": json_values,
        "timestamp": st.sampled_from(["2026-01-01T00:00:00Z", "bad"]) | json_values,
        "sentAt": st.sampled_from(["2026-01-01T00:00:05+02:00"]) | json_values,
    },
)


# Messages that are valid, so that batches of several accepted ones are common (few random
# dicts are); short ids from a small alphabet make repeated messageIds likely too.
short_id = st.from_regex(r"[ab1]{1,3}", fullmatch=True)
valid_message = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["identify", "track", "page", "screen"]),
        "event": short_id,
        "userId": short_id,
    },
    optional={
        "messageId": short_id,
        "properties": st.dictionaries(st.text(max_size=5), json_values, max_size=3),
        "timestamp": st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"]),
    },
)
some_message = message_like | valid_message


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        some_message,
        st.lists(some_message | json_values, max_size=4),
        json_values,
        st.builds(lambda b: {"batch": b}, st.lists(some_message, max_size=4)),
    )
)
def test_no_body_gets_a_500_and_every_2xx_message_is_kept(client, token, embedded, body):
    # The examples share one test transaction: start each from no events, so that a messageId
    # an earlier example stored cannot stand in for this one's.
    Event.objects.all().delete()
    response = post(client, "/v1/batch", body, token=token)
    assert response.status_code in {200, 400, 413}, response.content
    payload = response.json()
    if response.status_code != 200:
        assert payload["code"] and payload["message"]
        assert Event.objects.count() == 0
        return
    assert payload["success"] is True
    # What the reply accepted, read the way the endpoint reads it: every one of those messages
    # is stored (messages repeating a messageId within the request are one message).
    parsed = messages_parse(
        payload_from_json(json_decode(json.dumps(body).encode()), limits=Limits()),
        workspace_id=0,
        source_id=0,
        received_at=datetime.now(UTC),
        limits=Limits(),
    )
    assert len(parsed.rejections) == len(payload.get("rejected", []))
    sent_ids = {m.message_id for m in parsed.messages if m.message_id == m.raw.get("messageId")}
    assert sent_ids <= set(Event.objects.values_list("message_id", flat=True))
    assert Event.objects.count() == len({m.message_id for m in parsed.messages})


def test_ingest_requests_skip_the_page_middleware(client, token, embedded):
    # IngestShortcutMiddleware: no session, CSRF, CSP or frame headers for senders, but the
    # Content-Length that CommonMiddleware would have set, and the security middleware's headers.
    response = post(client, "/v1/batch", {"batch": [track("shortcut-1")]}, token=token)
    assert response.status_code == 200, response.content
    assert "Content-Security-Policy" not in response
    assert "X-Frame-Options" not in response
    assert not response.cookies
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert stored() == ["shortcut-1"]
    # A path under /v1/ that is not an ingest path takes the normal way: a page's 404.
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert "Content-Security-Policy" in missing


def test_ingest_requests_keep_the_allowed_hosts_check(client, token, embedded, settings):
    settings.ALLOWED_HOSTS = ["windsor.example"]
    response = post(client, "/v1/batch", {"batch": [track("host-1")]}, token=token)
    assert response.status_code == 400
    assert stored() == []
