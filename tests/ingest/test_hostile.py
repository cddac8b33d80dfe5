"""Hostile messages on the embedded path (inbox, drained in the request): what each one gets,
and that none of them keeps any other message from being stored."""

import json

import pytest
from django.db import connection

from accounts.models import RejectedMessage
from feed.models import Event
from ingest.models import DeadLetter, InboxBatch
from people.models import Identity, Person
from tests.factories import stored
from tests.factories import wire_message as track
from tests.http import assert_error, post
from tests.ingest.hostile import MAX_NESTING, TOO_DEEP, queued_text, with_deep_properties

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 500, 930, 1000, 1029, 1030, 100_000])
def test_a_deep_message_in_a_batch_is_rejected_alone_and_the_valid_one_stored(
    client, issued, embedded, depth
):
    deep = with_deep_properties(track("deep"), depth).decode()
    body = '{"batch": [' + json.dumps(track("valid")) + "," + deep + "]}"
    response = post(client, "/v1/batch", None, raw=body.encode(), token=issued.token)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "success": True,
        "rejected": [{"index": 1, "code": "message_too_deep", "reason": TOO_DEEP}],
    }
    assert stored() == ["valid"]
    rejection = RejectedMessage.objects.get(source=issued.source)
    assert (rejection.index, rejection.reason) == (1, TOO_DEEP)


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 930, 5000])
def test_a_deep_single_message_is_a_400_with_its_reason(client, token, embedded, depth):
    body = with_deep_properties(track("deep"), depth)
    response = post(client, "/v1/track", None, raw=body, token=token)
    assert assert_error(response, 400, "message_too_deep")["message"] == TOO_DEEP
    assert stored() == []


def test_a_message_exactly_at_the_nesting_limit_is_stored(client, token, embedded):
    body = with_deep_properties(track("deepest-allowed"), MAX_NESTING)
    assert post(client, "/v1/track", None, raw=body, token=token).status_code == 200
    assert stored() == ["deepest-allowed"]


@pytest.mark.parametrize("depth", [930, 1000])
def test_a_deep_message_an_older_server_put_in_the_inbox_does_not_stall_it(
    client, issued, embedded, depth
):
    # The edge refuses these now; an older server wrote them to the inbox as they came.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ingest_inboxbatch (messages, rejections, created_at)"
            " VALUES (%s, '[]', CURRENT_TIMESTAMP)",
            ["[" + queued_text(issued.source, "old-deep", depth) + "]"],
        )
    for n in range(3):
        response = post(client, "/v1/batch", [track(f"after-{n}")], token=issued.token)
        assert response.status_code == 200

    assert stored() == ["after-0", "after-1", "after-2"]
    assert InboxBatch.objects.count() == 0
    # Refused by the edge's own rule, in the source's log.
    assert RejectedMessage.objects.get(source=issued.source).reason == TOO_DEEP


def test_an_unreadable_inbox_row_leaves_a_minimal_dead_letter_and_the_rest_is_stored(
    client, issued, embedded
):
    # Not an array of messages (a broken writer): only an excerpt can be kept.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ingest_inboxbatch (messages, rejections, created_at)"
            " VALUES (%s, '[]', CURRENT_TIMESTAMP)",
            ['"not an array"'],
        )
    assert post(client, "/v1/batch", [track("after")], token=issued.token).status_code == 200
    assert stored() == ["after"]
    assert InboxBatch.objects.count() == 0
    letter = DeadLetter.objects.get()
    assert letter.messages[0]["minimal"] is True
    assert "not an array" in letter.messages[0]["excerpt"]


BIG = 18446744073709551616  # 2**64: orjson would read it as a float


def test_big_integer_ids_keep_their_digits_and_stay_two_people(client, token, embedded):
    for n, user_id in enumerate([BIG, BIG + 1]):
        body = json.dumps(
            {
                "type": "identify",
                "userId": user_id,
                "messageId": f"big-{n}",
                "traits": {"email": f"{n}@example.com", "account": user_id * 10},
                "properties": {"n": user_id},
            }
        )
        assert post(client, "/v1/identify", None, raw=body.encode(), token=token).status_code == 200

    users = Identity.objects.filter(kind="user").order_by("value")
    assert list(users.values_list("value", flat=True)) == [
        "18446744073709551616",
        "18446744073709551617",
    ]
    assert Person.objects.filter(merged_into=None).count() == 2
    # Inside traits and the raw message they stay exact JSON numbers.
    assert sorted(p.traits["account"] for p in Person.objects.all()) == [BIG * 10, (BIG + 1) * 10]
    raw_ids = sorted(e.raw["userId"] for e in Event.objects.all())
    assert raw_ids == [BIG, BIG + 1]
    assert all(type(value) is int for value in raw_ids)


def test_a_lone_surrogate_write_key_is_a_401(client, issued, embedded):
    body = b'{"writeKey": "\\ud800", "batch": [{"type": "track", "event": "E", "userId": "u"}]}'
    assert_error(post(client, "/v1/batch", None, raw=body), 401, "invalid_token")
    assert stored() == []


# Every field a sender controls, with a lone surrogate or a NUL in it (as JSON escapes).
HOSTILE_TEXT = ["\\ud800", "\\udfff\\ud800", "a\\u0000b"]
FIELDS = [
    '"userId": "{}"',
    '"anonymousId": "{}"',
    '"event": "{}"',
    '"messageId": "{}-#"',  # each its own message
    '"type": "{}"',
    '"timestamp": "{}"',
    '"properties": {{"{}": 1}}',
    '"properties": {{"k": "{}"}}',
    '"properties": {{"k": {{"{}": ["{}"]}}}}',
    '"context": {{"{}": "x"}}',
    '"integrations": {{"{}": true}}',
    '"traits": {{"{}": "x"}}',
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_lone_surrogates_and_nul_anywhere_are_stored_safely_or_refused(
    client, token, embedded, text
):
    cases = [(field, kind) for field in FIELDS for kind in ("track", "identify", "page")]
    for n, (field, kind) in enumerate(cases):
        base = f'"type": "{kind}", "event": "E", "userId": "u", "name": "N", "messageId": "m-{n}"'
        body = "{" + base + ", " + field.format(text, text).replace("#", str(n)) + "}"
        before = Event.objects.count()
        response = post(client, "/v1/batch", None, raw=("[" + body + "]").encode(), token=token)
        assert response.status_code in {200, 400}, (body, response.content)
        if response.status_code == 200 and "rejected" not in response.json():
            assert Event.objects.count() == before + 1, body
    # Whatever was stored holds no NUL and no lone surrogate.
    for event in Event.objects.all():
        dumped = json.dumps([event.name, event.raw, event.properties, event.message_id])
        assert "\\u0000" not in dumped
        assert "\\ud8" not in dumped and "\\udf" not in dumped
    assert InboxBatch.objects.count() == 0
    assert DeadLetter.objects.count() == 0


# Where a sender can put a deep value: the fields no message's queued JSON holds (writeKey, the
# batch's own fields, unknown batch keys) as well as those it does. `{}` marks the value.
DEEP_PLACES = {
    "message writeKey": '{"batch": [VALID, {"type": "track", "event": "E", "userId": "u",'
    ' "writeKey": {}}]}',
    "first message writeKey": '{"batch": [{"type": "track", "event": "E", "userId": "u",'
    ' "writeKey": {}}, VALID]}',
    "batch writeKey": '{"writeKey": {}, "batch": [VALID]}',
    "batch context": '{"context": {"k": {}}, "batch": [VALID]}',
    "batch integrations": '{"integrations": {"k": {}}, "batch": [VALID]}',
    "batch sentAt": '{"sentAt": {}, "batch": [VALID]}',
    "batch unknown key": '{"other": {}, "batch": [VALID]}',
    "message unknown key": '{"batch": [VALID, {"type": "track", "event": "E", "userId": "u",'
    ' "other": {}}]}',
    "single message writeKey": '{"type": "track", "event": "E", "userId": "u", "writeKey": {}}',
}


def deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [MAX_NESTING, 300, 1000, 1100, 100_000])
@pytest.mark.parametrize("place", list(DEEP_PLACES))
@pytest.mark.parametrize("token_in", ["header", "body"])
def test_a_deep_value_anywhere_is_refused_with_a_4xx_or_alone_never_a_5xx(
    client, issued, embedded, place, depth, token_in
):
    valid = json.dumps(track("valid") | ({"writeKey": issued.token} if token_in == "body" else {}))
    body = DEEP_PLACES[place].replace("VALID", valid).replace("{}", deep_object(depth), 1)
    token = issued.token if token_in == "header" else None
    response = post(client, "/v1/batch", None, raw=body.encode(), token=token)

    # A 5xx tells the sender to retry the same bytes forever.
    assert response.status_code < 500, response.content
    if response.status_code == 200:
        rejected = response.json().get("rejected", [])
        assert all(r["code"] == "message_too_deep" for r in rejected), rejected
        assert stored() in (["valid"], [])
        if "VALID" in DEEP_PLACES[place] and not rejected:
            assert stored() == ["valid"]
    if depth > MAX_NESTING and "message" in place and response.status_code == 200:
        # The deep message itself is never kept.
        assert len(response.json()["rejected"]) == 1
        assert stored() == ["valid"]


def test_a_deep_write_key_refuses_its_message_alone_as_too_deep(client, issued, embedded):
    deep = '{"type": "track", "event": "E", "userId": "u", "writeKey": ' + deep_object(1000) + "}"
    body = '{"batch": [' + json.dumps(track("valid")) + ", " + deep + "]}"
    response = post(client, "/v1/batch", None, raw=body.encode(), token=issued.token)
    assert response.status_code == 200, response.content
    assert response.json()["rejected"] == [
        {"index": 1, "code": "message_too_deep", "reason": TOO_DEEP}
    ]
    assert stored() == ["valid"]


@pytest.mark.parametrize(
    "batch_field",
    [
        {"context": {f"k{i}": "v" * 20 for i in range(1000)}},
        {"integrations": {f"k{i}": True for i in range(2000)}},
        {"sentAt": " " * 30_000 + "2026-11-30T12:00:00Z"},
    ],
    ids=["context", "integrations", "sentAt"],
)
def test_batch_fields_copied_into_every_message_cannot_multiply_a_request(
    client, issued, embedded, batch_field
):
    # 200 messages each inheriting ~30 KB would queue 6 MB from a 50 KB request (1,000 each
    # inheriting 300 KB: 300 MB from 400 KB).
    items = [track(f"m-{n}") for n in range(200)]
    body = json.dumps({"batch": items, **batch_field}).encode()
    assert len(body) < 500 * 1024
    response = post(client, "/v1/batch", None, raw=body, token=issued.token)
    assert_error(response, 413, "request_too_large")
    assert stored() == []
    assert InboxBatch.objects.count() == 0


def test_a_batch_context_that_fits_is_copied_into_each_message(client, issued, embedded):
    context = {"library": {"name": "analytics-python", "version": "2.4.0"}, "ip": "10.0.0.1"}
    items = [track(f"m-{n}") for n in range(2500)]
    body = json.dumps({"batch": items, "context": context, "sentAt": "2026-11-30T12:00:00Z"})
    response = post(client, "/v1/batch", None, raw=body.encode(), token=issued.token)
    assert response.status_code == 200, response.content
    assert Event.objects.count() == 2500
    assert Event.objects.first().raw["context"] == context
