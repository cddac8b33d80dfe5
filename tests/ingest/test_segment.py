"""ingest/segment.py: the rules of what a Segment call is, on plain values (no database)."""

import json
from datetime import UTC, datetime, timedelta, timezone
from unittest.mock import ANY

import pytest

from core.messages import Message
from ingest.body import json_loads
from ingest.errors import IngestError
from ingest.segment import (
    MAX_NESTING,
    InvalidMessage,
    Limits,
    message_parse,
    messages_parse,
    payload_from_json,
    queued_messages,
    queued_record,
)
from tests.recorded import fixture_names, recorded

RECEIVED = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
CONTRACT_KEYS = {
    "workspace_id",
    "source_id",
    "type",
    "message_id",
    "user_id",
    "anonymous_id",
    "previous_id",
    "group_id",
    "event",
    "name",
    "properties",
    "traits",
    "context",
    "timestamp",
    "received_at",
    "raw",
}


def parse(raw: dict, **kwargs):
    return message_parse(raw, workspace_id=1, source_id=2, received_at=RECEIVED, **kwargs)


def parse_body(body, **kwargs):
    return messages_parse(
        payload_from_json(body), workspace_id=1, source_id=2, received_at=RECEIVED, **kwargs
    )


@pytest.mark.parametrize("name", fixture_names())
def test_every_recorded_sender_message_is_valid(name):
    for request in recorded(name):
        if request.body is None:
            continue
        parsed = parse_body(request.body)
        assert parsed.rejections == []
        assert [m.message_id for m in parsed.messages] == request.message_ids()
        for message in parsed.messages:
            assert set(message.as_dict()) == CONTRACT_KEYS
            assert "writeKey" not in message.raw


def test_windsor_node_user_and_event_are_identify_and_track():
    (request,) = recorded("windsor-node-hook")
    parsed = parse_body(request.body)
    assert [m.type for m in parsed.messages] == ["identify", "track"]
    assert parsed.messages[0].traits == {"name": "John Doe", "email": "john@example.com"}
    assert parsed.messages[1].event == "Login Button Clicked"


def test_clock_skew_is_corrected_with_sent_at():
    message = parse(
        {
            "type": "track",
            "event": "E",
            "userId": "u",
            "timestamp": "2026-11-23T13:00:00+01:00",
            "sentAt": "2026-11-23T12:00:05Z",
        }
    )
    # The client's clock ran 5 s between the event and sending; its absolute time is ignored.
    assert message.timestamp == RECEIVED - timedelta(seconds=5)
    assert message.as_dict()["timestamp"] == "2026-11-23T11:59:55+00:00"


def test_original_timestamp_is_used_when_timestamp_is_absent():
    message = parse(
        {
            "type": "track",
            "event": "E",
            "userId": "u",
            "originalTimestamp": "2026-11-23T06:46:03.910Z",
            "sentAt": "2026-11-23T06:46:03.935Z",
            "timestamp": None,
        }
    )
    assert message.timestamp == RECEIVED - timedelta(milliseconds=25)


def test_without_sent_at_the_timestamp_is_taken_as_sent_in_utc():
    message = parse(
        {"type": "track", "event": "E", "userId": "u", "timestamp": "2026-01-02T03:04:05+02:00"}
    )
    assert message.timestamp == datetime(2026, 1, 2, 1, 4, 5, tzinfo=UTC)
    naive = parse({"type": "track", "event": "E", "userId": "u", "timestamp": "2026-01-02 03:04"})
    assert naive.timestamp == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def test_without_any_timestamp_the_receipt_time_is_used():
    assert parse({"type": "track", "event": "E", "userId": "u"}).timestamp == RECEIVED


def test_a_message_relayed_by_segment_keeps_its_corrected_timestamp():
    (_, track, *_) = recorded("segment-destination-examples")
    message = parse(track.body)
    assert message.timestamp == datetime(2015, 12, 12, 19, 11, 1, 249000, tzinfo=UTC)
    assert message.received_at == RECEIVED


def test_a_relayed_message_without_timestamp_is_corrected_against_segments_receipt():
    message = parse(
        {
            "type": "track",
            "event": "E",
            "userId": "u",
            "originalTimestamp": "2015-02-23T22:28:50Z",
            "sentAt": "2015-02-23T22:28:55Z",
            "receivedAt": "2015-02-23T22:29:00Z",
        }
    )
    assert message.timestamp == datetime(2015, 2, 23, 22, 28, 55, tzinfo=UTC)


def test_batch_context_integrations_and_sent_at_apply_to_each_message():
    parsed = parse_body(
        {
            "batch": [
                {"type": "track", "event": "A", "userId": "u", "context": {"ip": "1.1.1.1"}},
                {"type": "track", "event": "B", "userId": "u", "sentAt": "2026-11-23T00:00:00Z"},
            ],
            "context": {"ip": "9.9.9.9", "library": {"name": "x"}},
            "integrations": {"All": True},
            "sentAt": "2026-11-23T11:00:00Z",
            "writeKey": "secret",
        }
    )
    first, second = parsed.messages
    assert first.context == {"ip": "1.1.1.1", "library": {"name": "x"}}
    assert second.context == {"ip": "9.9.9.9", "library": {"name": "x"}}
    assert first.raw["integrations"] == {"All": True}
    assert first.raw["sentAt"] == "2026-11-23T11:00:00Z"
    assert second.raw["sentAt"] == "2026-11-23T00:00:00Z"
    assert all("writeKey" not in m.raw for m in parsed.messages)


def test_ids_that_are_numbers_become_strings_and_null_or_empty_means_absent():
    message = parse({"type": "identify", "userId": 42, "anonymousId": None, "messageId": 7})
    assert (message.user_id, message.anonymous_id, message.message_id) == ("42", None, "7")
    empty = parse({"type": "identify", "userId": "", "anonymousId": "a-1"})
    assert (empty.user_id, empty.anonymous_id) == (None, "a-1")


def test_a_missing_message_id_is_generated_the_same_for_the_same_message():
    raw = {"type": "track", "event": "E", "userId": "u", "timestamp": "2026-01-01T00:00:00Z"}
    first = parse({**raw, "sentAt": "2026-01-01T00:00:01Z"}).message_id
    again = parse({**raw, "sentAt": "2026-01-01T00:00:09Z"}).message_id
    other = parse({**raw, "event": "F"}).message_id
    assert first == again != other
    assert len(first) <= 100
    untimed = {"type": "track", "event": "E", "userId": "u"}
    assert parse(untimed).message_id != parse(untimed).message_id


def test_identify_traits_fall_back_to_context_traits_and_only_identify_and_group_have_traits():
    identify = parse({"type": "identify", "userId": "u", "context": {"traits": {"plan": "pro"}}})
    assert identify.traits == {"plan": "pro"}
    track = parse({"type": "track", "event": "E", "userId": "u", "traits": {"plan": "pro"}})
    assert track.traits == {}


def test_single_call_paths_supply_the_type():
    assert parse({"event": "E", "userId": "u"}, default_type="track").type == "track"


def test_overlong_names_are_cut_but_the_raw_message_keeps_them():
    message = parse({"type": "track", "event": "x" * 300, "userId": "u"})
    assert message.event == "x" * 255
    assert message.raw["event"] == "x" * 300


def test_nul_characters_and_lone_surrogates_are_replaced_not_refused():
    parsed = parse_body(
        [{"type": "track", "event": "a\x00b", "userId": "u\ud800", "properties": {"k\x00": 1}}]
    )
    (message,) = parsed.messages
    assert message.event == "a\ufffdb"
    assert message.user_id == "u\ufffd"
    assert message.properties == {"k\ufffd": 1}


def test_html_is_kept_verbatim():
    script = "<script>alert('x')</script>"
    message = parse({"type": "track", "event": script, "userId": script})
    assert (message.event, message.user_id) == (script, script)


BAD_MESSAGES = {
    "unknown type": ({"type": "purchase", "userId": "u"}, "unknown type"),
    "no type": ({"userId": "u", "event": "E"}, "type is required"),
    "type not a string": ({"type": 1, "userId": "u"}, "type must be a string"),
    "no ids": ({"type": "track", "event": "E"}, "needs userId or anonymousId"),
    "null ids": (
        {"type": "identify", "userId": None, "anonymousId": None},
        "needs userId or anonymousId",
    ),
    "userId bool": ({"type": "identify", "userId": True}, "userId must be a string or a number"),
    "userId object": ({"type": "identify", "userId": {}}, "userId must be a string or a number"),
    "anonymousId list": (
        {"type": "identify", "anonymousId": []},
        "anonymousId must be a string or a number",
    ),
    "userId too long": ({"type": "identify", "userId": "u" * 256}, "longer than 255"),
    "track without event": ({"type": "track", "userId": "u"}, "track needs an event name"),
    "event not a string": ({"type": "track", "userId": "u", "event": 5}, "event must be a string"),
    "name not a string": ({"type": "page", "userId": "u", "name": []}, "name must be a string"),
    "alias without previousId": ({"type": "alias", "userId": "u"}, "previousId and userId"),
    "alias without userId": ({"type": "alias", "previousId": "p"}, "previousId and userId"),
    "group without groupId": ({"type": "group", "userId": "u"}, "group needs groupId"),
    "groupId object": (
        {"type": "group", "userId": "u", "groupId": {"a": 1}},
        "groupId must be a string or a number",
    ),
    "properties list": (
        {"type": "track", "event": "E", "userId": "u", "properties": [1]},
        "properties must be a JSON object",
    ),
    "traits string": (
        {"type": "identify", "userId": "u", "traits": "vip"},
        "traits must be a JSON object",
    ),
    "context number": (
        {"type": "identify", "userId": "u", "context": 3},
        "context must be a JSON object",
    ),
    "integrations string": (
        {"type": "identify", "userId": "u", "integrations": "all"},
        "integrations must be a JSON object",
    ),
    "messageId object": (
        {"type": "identify", "userId": "u", "messageId": {}},
        "messageId must be a string",
    ),
    "messageId too long": (
        {"type": "identify", "userId": "u", "messageId": "m" * 101},
        "messageId is longer than 100",
    ),
    "timestamp number": (
        {"type": "identify", "userId": "u", "timestamp": 1700000000},
        "timestamp must be an ISO-8601 string",
    ),
    "timestamp garbage": (
        {"type": "identify", "userId": "u", "timestamp": "yesterday"},
        "timestamp is not an ISO-8601 date",
    ),
    "sentAt garbage": (
        {"type": "identify", "userId": "u", "sentAt": "soon"},
        "sentAt is not an ISO-8601 date",
    ),
    "timestamps out of range": (
        {
            "type": "identify",
            "userId": "u",
            "timestamp": "0001-01-01T00:00:00Z",
            "sentAt": "9999-01-01T00:00:00Z",
        },
        "out of range",
    ),
}


@pytest.mark.parametrize("raw,reason", BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
def test_bad_messages_are_refused_with_a_reason(raw, reason):
    with pytest.raises(InvalidMessage, match=reason):
        parse(raw)


def test_a_bad_message_is_reported_by_index_and_the_others_kept():
    parsed = parse_body(
        {
            "batch": [
                {"type": "track", "event": "A", "userId": "u"},
                "text",
                {"type": "track", "userId": "u"},
                {"type": "track", "event": "B", "userId": "u", "properties": {"p": "x" * 40000}},
                {"type": "track", "event": "C", "userId": "u"},
            ]
        }
    )
    assert [m.event for m in parsed.messages] == ["A", "C"]
    assert [(r.index, r.code) for r in parsed.rejections] == [
        (1, "invalid_message"),
        (2, "invalid_message"),
        (3, "message_too_large"),
    ]
    assert parsed.rejections[0].excerpt == '"text"'
    assert len(parsed.rejections[2].excerpt) == 500


@pytest.mark.parametrize(
    "body,code",
    [
        (5, "malformed_body"),
        ("text", "malformed_body"),
        ({"batch": {"type": "track"}}, "malformed_batch"),
        ({"batch": [], "context": []}, "malformed_batch"),
    ],
)
def test_request_shapes_we_cannot_read_are_one_error(body, code):
    with pytest.raises(IngestError) as caught:
        messages_parse(payload_from_json(body), workspace_id=1, source_id=2, received_at=RECEIVED)
    assert (caught.value.status, caught.value.code) == (400, code)


def test_more_messages_than_the_limit_is_refused_whole():
    with pytest.raises(IngestError) as caught:
        payload_from_json([{}] * 11, limits=Limits(batch_messages=10))
    assert (caught.value.status, caught.value.code) == (413, "too_many_messages")


def test_write_key_is_found_on_the_batch_or_on_the_first_message():
    assert payload_from_json({"batch": [], "writeKey": "k1"}).write_key == "k1"
    assert payload_from_json([{"writeKey": "k2"}]).write_key == "k2"
    assert payload_from_json({"type": "track", "writeKey": "k3"}).write_key == "k3"
    assert payload_from_json({"type": "track"}).write_key is None


def test_the_write_key_never_reaches_the_rejection_log():
    parsed = parse_body([{"type": "nope", "writeKey": "wsr_secret"}])
    assert "wsr_secret" not in parsed.rejections[0].excerpt


def test_the_size_limit_counts_a_messages_write_key_as_sent():
    # The queued copy drops writeKey, so the size it gives is short of the message as sent by
    # that much: a message over the limit only with its writeKey is still over the limit.
    limit = 1024
    message = {"type": "track", "event": "E", "userId": "u", "properties": {"p": ""}}
    bare = len(json.dumps(message, separators=(",", ":")))
    message["properties"]["p"] = "x" * (limit - bare - 20)
    assert len(json.dumps(message, separators=(",", ":"))) <= limit
    with_key = {**message, "writeKey": "k" * 40}
    assert len(json.dumps(with_key, separators=(",", ":"))) > limit
    parsed = parse_body([message, with_key], limits=Limits(message_bytes=limit))
    assert [(r.index, r.code) for r in parsed.rejections] == [(1, "message_too_large")]


def test_a_queued_record_gives_the_messages_the_edge_validated():
    body = {
        "batch": [
            {"type": "track", "event": "A", "userId": "u", "messageId": "a", "writeKey": "k"},
            {"type": "identify", "userId": "u", "traits": {"n": 1}, "timestamp": "2026-11-30"},
            {"type": "track", "event": "C", "anonymousId": "x"},
            "bad",
            {"type": "track", "event": "N\u0000L", "userId": "\ud800", "messageId": "n"},
            {"type": "track", "event": "B", "userId": 2**64 + 1, "messageId": "b"},
        ],
        "context": {"app": "x"},
        "sentAt": "2026-11-30T00:00:10Z",
    }
    parsed = parse_body(body)
    record = queued_record(
        parsed, workspace_id=1, source_id=2, received_at=RECEIVED, default_type=None
    )
    assert b"writeKey" not in record
    messages, refused = queued_messages(json_loads(record))
    assert refused == []
    # The very messages the edge validated, built once (the worker stores them as they are).
    assert messages == parsed.messages
    assert all(type(m) is Message for m in messages)
    # Both generated messageIds, the content hash and the random one, travel with the record.
    assert json.loads(record)["ids"] == {"1": parsed.messages[1].message_id, "2": ANY}
    assert messages[2].message_id.startswith("windsor-")
    # What PostgreSQL cannot store is replaced before queueing; big integers keep their digits.
    assert (messages[3].event, messages[3].user_id) == ("N\ufffdL", "\ufffd")
    assert messages[4].user_id == str(2**64 + 1)


def envelope(*messages, **fields) -> dict:
    return {
        "format": 2,
        "workspace_id": 1,
        "source_id": 2,
        "received_at": RECEIVED.isoformat(),
        "type": None,
        "ids": {},
        "nesting": MAX_NESTING,
        "messages": list(messages),
        **fields,
    }


def test_the_worker_builds_an_envelopes_messages_with_utc_times():
    # Received on a clock at +01:00, relayed by Segment at +02:00 with no time of its own: the
    # Message is stored as built, and trait versions compare its times' ISO strings.
    relayed = {"type": "track", "event": "E", "userId": "u", "receivedAt": "2026-11-30T12:00+02:00"}
    plus_one = RECEIVED.astimezone(timezone(timedelta(hours=1))).isoformat()
    (message,), _ = queued_messages(envelope(relayed, received_at=plus_one))
    assert message.timestamp == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert (message.timestamp.tzinfo, message.received_at.tzinfo) == (UTC, UTC)
    assert message.received_at == RECEIVED


def test_the_depth_rule_is_skipped_only_for_an_envelope_checked_at_our_limit_or_stricter():
    deep: dict = {}
    inner = deep
    for _ in range(MAX_NESTING - 1):
        inner["d"] = {}
        inner = inner["d"]
    # One level past the limit: harmless to build, so what decides is whether it is walked.
    over = {"type": "track", "event": "E", "userId": "u", "properties": deep}
    for nesting, walked in (
        (MAX_NESTING, False),
        (MAX_NESTING - 1, False),
        (None, True),
        (MAX_NESTING + 1, True),
        (True, True),
        ("64", True),
    ):
        messages, refused = queued_messages(envelope(over, nesting=nesting))
        assert (len(messages), len(refused)) == ((0, 1) if walked else (1, 0)), nesting
        if walked:
            assert refused[0]["reason"] == f"message is nested deeper than {MAX_NESTING} levels"


def test_a_queued_message_the_rules_now_refuse_becomes_a_rejection():
    record = envelope(
        {"type": "track", "userId": "u"}, {"type": "track", "event": "E", "userId": "u"}
    )
    del record["nesting"]  # as a server without the depth mark queued it
    messages, refused = queued_messages(record)
    assert [m.event for m in messages] == ["E"]
    assert refused == [
        {
            "source_id": 2,
            "received_at": RECEIVED.isoformat(),
            "index": None,
            "reason": "track needs an event name",
            "excerpt": '{"type": "track", "userId": "u"}',
        }
    ]


@pytest.mark.parametrize(
    "broken",
    [
        {"workspace_id": "1"},
        {"received_at": "yesterday"},
        {"received_at": "2026-11-30T00:00:00"},
        {"messages": {"type": "track"}},
        {"type": 5},
    ],
)
def test_a_broken_queued_record_is_an_error_not_messages(broken):
    record = {
        "format": 2,
        "workspace_id": 1,
        "source_id": 2,
        "received_at": RECEIVED.isoformat(),
        "messages": [{"type": "track", "event": "E", "userId": "u"}],
        **broken,
    }
    with pytest.raises((TypeError, ValueError)):
        queued_messages(record)


@pytest.mark.parametrize("key", ["timestamp", "originalTimestamp", "sentAt", "receivedAt"])
def test_a_padded_timestamp_is_refused_before_it_is_parsed_or_remembered(key):
    # Parsed timestamps are cached by their text: 4,096 padded ones would hold ~128 MB a process.
    from ingest.segment import _timestamp_parsed

    _timestamp_parsed.cache_clear()
    padded = "2026-01-01T00:00:00Z" + " " * 30_000
    with pytest.raises(InvalidMessage, match=f"{key} is not an ISO-8601 date"):
        parse({"type": "track", "event": "E", "userId": "u", key: padded})
    assert _timestamp_parsed.cache_info().currsize == 0
    assert parse({"type": "track", "event": "E", "userId": "u", key: "2026-01-01T00:00:00Z "})
