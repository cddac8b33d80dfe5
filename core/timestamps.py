"""The one timestamp parser: the edge (and the worker, reading an envelope with the edge's rules)
validates senders' timestamps with it, and the worker reads the dict form's back with it (once per
message, in core.messages.message_decode)."""

from datetime import UTC, datetime


def timestamp_parse(value: str, *, utc: bool = True) -> datetime:
    """An ISO-8601 string (Z, an offset, or none meaning UTC) as an aware datetime, in UTC unless
    `utc=False` (the edge keeps the sender's offset until it corrects the clock skew).

    Raises ValueError when it is not ISO-8601, OverflowError when its UTC instant is out of range.
    """
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC) if utc else moment
