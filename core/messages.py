"""One Segment call as every app past the edge sees it: a typed, frozen `Message`.

The edge (ingest.segment) validates a sender's JSON and queues it raw, in an envelope; the worker
builds each `Message` from that once, with the edge's rules (`segment.queued_messages`), and
everything up to the identity rules (people.identity) and the event writer (feed.services) reads
that same value. `as_dict()` is the JSON-safe dict form: what older servers queued, and what a
dead letter keeps (and "Store again" queues). `message_decode` reads that form back, once per
message, as the worker reads the queue (ingest/older_records.py): its datetimes are parsed there
and nowhere else. The module is neutral (it imports no app) so that people/ and feed/ may use it
without importing ingest.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.timestamps import timestamp_parse


@dataclass(frozen=True, slots=True)
class Message:
    """One validated call. `timestamp` is its time (skew-corrected by the edge's rules),
    `received_at` when Windsor got it; both aware and in UTC, as the worker builds or decodes
    them (trait versions compare their ISO strings)."""

    workspace_id: int
    # None once the source was deleted while the message waited in the queue.
    source_id: int | None
    type: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    previous_id: str | None
    group_id: str | None
    event: str | None
    name: str | None
    properties: dict[str, Any]
    traits: dict[str, Any]
    context: dict[str, Any]
    timestamp: datetime
    received_at: datetime
    raw: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The dict form (datetimes as ISO strings): what older servers queued and dead letters
        keep. The worker writes it only for a dead letter; `message_decode` reads it back."""
        return {
            "workspace_id": self.workspace_id,
            "source_id": self.source_id,
            "type": self.type,
            "message_id": self.message_id,
            "user_id": self.user_id,
            "anonymous_id": self.anonymous_id,
            "previous_id": self.previous_id,
            "group_id": self.group_id,
            "event": self.event,
            "name": self.name,
            "properties": self.properties,
            "traits": self.traits,
            "context": self.context,
            "timestamp": self.timestamp.isoformat(),
            "received_at": self.received_at.isoformat(),
            "raw": self.raw,
        }


def message_decode(data: Mapping[str, Any]) -> Message:
    """A message in the dict form (`Message.as_dict()`: an older server's record, a dead letter
    stored again) as a `Message`.

    A message without `timestamp` takes `received_at` as its time, and the other way round.
    Raises (KeyError, ValueError, TypeError, OverflowError) on what no edge produces: the worker
    then stores its batch one message at a time and dead-letters this one.
    """
    sent = data.get("timestamp")
    received = data.get("received_at")
    timestamp = timestamp_parse(sent) if sent else None
    received_at = timestamp_parse(received) if received else None
    if timestamp is None and received_at is None:
        raise KeyError("received_at")
    return Message(
        workspace_id=data["workspace_id"],
        source_id=data.get("source_id"),
        type=data["type"],
        message_id=data["message_id"],
        user_id=data.get("user_id"),
        anonymous_id=data.get("anonymous_id"),
        previous_id=data.get("previous_id"),
        group_id=data.get("group_id"),
        event=data.get("event"),
        name=data.get("name"),
        properties=_object(data.get("properties")),
        traits=_object(data.get("traits")),
        context=_object(data.get("context")),
        timestamp=timestamp or received_at,
        received_at=received_at or timestamp,
        raw=_object(data.get("raw")),
    )


def _object(value: Any) -> dict[str, Any]:
    # The edge queues objects ({} when absent); anything else, from a forged record, reads as {}.
    return value if isinstance(value, dict) else {}
