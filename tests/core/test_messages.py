"""core/messages.py: the queued dict and the typed `Message` are one value, decoded once."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.messages import message_decode
from ingest.segment import message_parse

RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def edge_message(**raw):
    body = {"type": "track", "event": "E", "userId": "u-1", "messageId": "m-1", **raw}
    return message_parse(body, workspace_id=1, source_id=2, received_at=RECEIVED)


def test_what_the_edge_queues_decodes_to_the_same_message():
    sent = edge_message(timestamp="2026-11-23T11:59:00Z", properties={"plan": "pro"})
    assert message_decode(sent.as_dict()) == sent
    assert isinstance(message_decode(sent.as_dict()).timestamp, datetime)


def test_decoded_datetimes_are_in_utc():
    plus_two = timezone(timedelta(hours=2))
    sent = replace(edge_message(), timestamp=datetime(2026, 11, 23, 13, 0, tzinfo=plus_two))
    decoded = message_decode(sent.as_dict())
    assert decoded.timestamp == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert decoded.timestamp.utcoffset() == timedelta(0)


def test_a_missing_time_takes_the_other_one():
    queued = edge_message().as_dict()
    assert message_decode({**queued, "timestamp": None}).timestamp == RECEIVED
    at = "2026-11-23T11:00:00+00:00"
    assert message_decode({**queued, "timestamp": at, "received_at": ""}).received_at == (
        datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    )
    with pytest.raises(KeyError):
        message_decode({**queued, "timestamp": None, "received_at": None})


def test_an_unreadable_timestamp_raises_for_the_dead_letter():
    with pytest.raises(ValueError, match="not a time"):
        message_decode({**edge_message().as_dict(), "timestamp": "not a time"})


def test_objects_that_are_not_objects_read_as_empty():
    queued = {**edge_message().as_dict(), "properties": None, "context": [1], "raw": "x"}
    decoded = message_decode(queued)
    assert (decoded.properties, decoded.context, decoded.raw) == ({}, {}, {})
