"""Segment calls: untrusted JSON in, validated `core.messages.Message` values out. Pure: no
ORM, no I/O.

The rules, once:
- A body is one message, a JSON array of them, or ``{"batch": [...]}``.
- The batch's ``context``/``integrations`` merge under each message's, its ``sentAt`` fills gaps.
- What the batch copies into messages adds at most twice the request's size (64 KB minimum): 413.
- ``writeKey`` authenticates, is never stored, and counts in its message's size and depth.
- ``type`` is identify, track, page, screen, group, alias or delete.
- ``type`` ``user`` means identify and ``event`` means track (windsor-node sends them).
- A single-call path (``/v1/track``) supplies a missing type.
- identify/track/page/screen/delete need ``userId`` or ``anonymousId``.
- alias needs ``previousId`` and ``userId``; group needs ``groupId``; track needs ``event``.
- On a ``delete`` only, empty-array ``context``/``integrations`` mean absent.
- Ids are strings or numbers (made strings), at most 255 characters; ``null`` and "" are absent.
- ``messageId`` is at most 100 characters; a missing one is generated (from the content if timed).
- ``properties``, ``traits``, ``context`` and ``integrations`` are objects or null.
- Clock skew: ``timestamp`` (else ``originalTimestamp``) is shifted by ``receivedAt - sentAt``.
- A message relayed by Segment keeps its ``timestamp``, or is corrected by Segment's receivedAt.
- Times are ISO-8601; no offset means UTC.
- A message is at most 32 KB of JSON and ``MAX_NESTING`` (64) levels deep (`too_deep`; the
  worker applies it again to older servers' records: ingest/older_records.py).
- NUL characters and lone surrogates become U+FFFD, in keys too.
- Each message is kept or rejected alone, with its index and reason.

Design: docs/design/wire.md
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson

from core.messages import Message
from core.timestamps import timestamp_parse
from ingest.errors import IngestError

TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias", "delete"})
# The original Windsor SDK (windsor-node) names two of them differently.
TYPE_ALIASES = {"user": "identify", "event": "track"}
# Segment's partner-destination `delete` carries these as [] (tests/fixtures/segment-deletion/).
EMPTY_ARRAY_OK = frozenset({"context", "integrations"})
MAX_ID_LENGTH = 255
MAX_MESSAGE_ID_LENGTH = 100
MAX_NAME_LENGTH = 255
MAX_NESTING = 64
EXCERPT_LENGTH = 500
# The code of a `delete` refused because its sender may not erase (ingest/erasure_rule.py).
DELETE_NOT_ALLOWED = "delete_not_allowed"
REPLACEMENT = "\ufffd"
# The queued JSON of a message holds all it was sent with (writeKey aside) and the batch's fields
# it inherits; only a batch `sentAt` of "" in place of its own null makes it shorter, by 2 bytes.
SIZE_SLACK = 16
# A batch's fields copied into its messages may add this many times the request's own size: a
# batch context of 400 bytes on messages of 200 still fits, and a request costs at most about
# three times what its size does.
INHERITED_TIMES = 2


@dataclass(frozen=True)
class Limits:
    message_bytes: int = 32 * 1024
    batch_messages: int = 2500
    # What a batch's own fields may add, copied into each of its messages, to a small request;
    # a larger one may add INHERITED_TIMES its own size (`_inherited_check`).
    inherited_bytes: int = 64 * 1024


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message we refused: its place in the request (None for the whole request) and why."""

    index: int | None
    reason: str
    excerpt: str = ""
    code: str = "invalid_message"

    def as_reply(self) -> dict[str, Any]:
        return {"index": self.index, "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class Payload:
    """A request body in its common shape: the raw items and the write key it carried."""

    items: list[Any]
    batch: dict[str, Any] = field(default_factory=dict)
    write_key: str | None = None
    # A single raw message (not a batch): its rejection is the request's error.
    single: bool = False
    # The request body's size in bytes (inflated), when known.
    size: int = 0


@dataclass(frozen=True)
class Parsed:
    # Built only when asked (`messages_parse(build=True)`); the request path queues `queued`.
    messages: list[Message]
    rejections: list[Rejection]
    # Each valid message's raw JSON as the worker re-reads it (batch fields merged, writeKey
    # dropped, NULs replaced), in order: encoded once, in validation.
    queued: list[bytes] = field(default_factory=list)
    # Position in `queued` -> the messageId the edge generated: a random one cannot be derived
    # again, and a redelivered entry must be the same message.
    generated_ids: dict[int, str] = field(default_factory=dict)


class InvalidMessage(Exception):
    """Why one message is refused; caught per message, never escapes `messages_parse`."""

    def __init__(self, reason: str, *, code: str = "invalid_message") -> None:
        super().__init__(reason)
        self.code = code


def too_deep(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether objects and arrays nest deeper than `limit` levels (a scalar is level 0).

    Level by level, without recursing, so it answers for any depth.
    """
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            below += [child for child in children if isinstance(child, dict | list)]
        level = below
    return False


def too_deep_reason() -> str:
    return f"message is nested deeper than {MAX_NESTING} levels"


def nesting_trusted(limit: Any) -> bool:
    """Whether a depth check done at `limit` (an envelope's "nesting", an older record's mark)
    spares the worker its own: an int, not a bool (True == 1), and no looser than ours."""
    return type(limit) is int and limit <= MAX_NESTING


def payload_from_json(data: Any, *, limits: Limits = Limits(), size: int = 0) -> Payload:
    """Bring the three request shapes (message, array, batch object) to one."""
    if isinstance(data, list):
        items, batch, single = data, {}, False
    elif isinstance(data, dict) and "batch" in data:
        if not isinstance(data["batch"], list):
            raise IngestError(400, "malformed_batch", '"batch" must be a JSON array.')
        items, batch, single = data["batch"], data, False
    elif isinstance(data, dict):
        items, batch, single = [data], {}, True
    else:
        raise IngestError(
            400, "malformed_body", "The body must be a message, an array or a batch object."
        )
    if len(items) > limits.batch_messages:
        raise IngestError(
            413,
            "too_many_messages",
            f"A request holds at most {limits.batch_messages} messages; this one has {len(items)}.",
        )
    write_key = _write_key(batch, items)
    return Payload(items=items, batch=batch, write_key=write_key, single=single, size=size)


def _write_key(batch: dict[str, Any], items: list[Any]) -> str | None:
    # analytics.js puts writeKey in every message; server SDKs put it on the batch.
    for holder in (batch, items[0] if items else None):
        if isinstance(holder, dict):
            key = holder.get("writeKey")
            if isinstance(key, str) and key:
                return key
    return None


def messages_parse(
    payload: Payload,
    *,
    workspace_id: int,
    source_id: int,
    received_at: datetime,
    default_type: str | None = None,
    limits: Limits = Limits(),
    build: bool = True,
    deletes_refused: str | None = None,
) -> Parsed:
    """Validate every item of a payload: the good ones queued (and as `Message` when `build`),
    the others as `Rejection`. `deletes_refused`: why every `delete` is refused, if it is
    (ingest/erasure_rule.py)."""
    messages: list[Message] = []
    queued: list[bytes] = []
    generated: dict[int, str] = {}
    rejections: list[Rejection] = []
    context = _optional_object(payload.batch, "context", where="batch") if payload.batch else {}
    integrations = (
        _optional_object(payload.batch, "integrations", where="batch") if payload.batch else {}
    )
    sent_at = payload.batch.get("sentAt") if payload.batch else None
    scope = (workspace_id, source_id, received_at, default_type)
    merge = bool(context or integrations or sent_at is not None)
    if merge:
        allowed = max(limits.inherited_bytes, INHERITED_TIMES * payload.size)
        _inherited_check(
            len(payload.items), allowed, context=context, integrations=integrations, sentAt=sent_at
        )
    for index, item in enumerate(payload.items):
        try:
            if not isinstance(item, dict):
                raise InvalidMessage("a message must be a JSON object")
            # Copied only when something changes: the parsed body is ours alone.
            raw = {k: v for k, v in item.items() if k != "writeKey"} if "writeKey" in item else item
            if merge:
                raw = _with_batch(raw, context=context, integrations=integrations, sent_at=sent_at)
            try:
                values = _message_values(raw, workspace_id, source_id, received_at, default_type)
                try:
                    data = orjson.dumps(raw)
                except orjson.JSONEncodeError:  # big integers, lone surrogates: the slow way
                    data = b""
                if not data or b"\\u0000" in data:
                    values, data, sent_size = _checked(raw, scope)
                else:
                    sent_size = len(data) + SIZE_SLACK
            except (InvalidMessage, RecursionError):
                # Depth is the first rule: a message too deep is refused for that, whatever
                # else is wrong with it (and the encoders may run out of stack on it).
                if too_deep(raw):
                    raise InvalidMessage(too_deep_reason(), code="message_too_deep") from None
                raise
            # Nesting needs at least one object or array per level, and the queued JSON holds
            # the whole message: few brackets (counted at C speed) cannot nest too deep, so only
            # a message with many is walked level by level.
            if data.count(b"{") + data.count(b"[") > MAX_NESTING and too_deep(raw):
                raise InvalidMessage(too_deep_reason(), code="message_too_deep")
            # `sent_size` is at least the message's size as sent, so a short one is certainly
            # small enough; only a long one is measured exactly, as sent.
            if "writeKey" in item:
                write_key = item["writeKey"]
                # Not queued, so not in `data`, but part of the message as sent: a deep one
                # makes the message too deep (and would make `_size` recurse).
                if isinstance(write_key, dict | list) and too_deep(item):
                    raise InvalidMessage(too_deep_reason(), code="message_too_deep")
                sent_size += _write_key_bound(write_key)
            if sent_size > limits.message_bytes and _size(item) > limits.message_bytes:
                raise InvalidMessage(
                    f"message is larger than {limits.message_bytes // 1024} KB",
                    code="message_too_large",
                )
            if deletes_refused is not None and values[2] == "delete":
                raise InvalidMessage(deletes_refused, code=DELETE_NOT_ALLOWED)
        except InvalidMessage as exc:
            rejections.append(
                Rejection(index=index, reason=str(exc), excerpt=excerpt(item), code=exc.code)
            )
            continue
        if raw.get("messageId") in (None, ""):
            generated[len(queued)] = values[3]
        queued.append(data)
        if build:
            messages.append(_message_new(*values))
    return Parsed(messages=messages, rejections=rejections, queued=queued, generated_ids=generated)


def _inherited_check(count: int, allowed: int, **fields: Any) -> None:
    """Refuse a batch whose own fields, copied into each of its `count` messages, would add more
    than `allowed` bytes: each message is queued and stored with its copy. 300 KB of context over
    1,000 tiny messages made 390 MB of queued JSON and 1.8 s of CPU from one 500 KB request.
    No sender we recorded (tests/fixtures/segment/) sends batch-level context or integrations;
    all send a batch sentAt, some 30 bytes a message."""
    for key, value in fields.items():
        # The message is level 1, so its copy makes the message one level deeper than the value.
        if too_deep(value, MAX_NESTING - 1):
            raise IngestError(
                400, "malformed_batch", f"batch {key} is nested deeper than {MAX_NESTING} levels."
            )
    added = count * sum(_size(value) for value in fields.values())
    if added > allowed:
        raise IngestError(
            413,
            "request_too_large",
            f"The batch's context, integrations and sentAt, copied into each of its {count}"
            f" messages, would add {added // 1024} KB, more than {allowed // 1024} KB.",
        )


def _json_encode(value: Any) -> bytes:
    """UTF-8 JSON; UnicodeEncodeError for lone surrogates, RecursionError when too deep."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which the standard encoder writes as they are.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _checked(raw: dict[str, Any], scope: tuple) -> tuple[tuple, bytes, int]:
    """The message's fields, its raw JSON as queued, and a size at least that of the message as
    sent but for its writeKey (`_write_key_bound`). `messages_parse` does the same inline for
    the usual message, one orjson can write and holds no NUL."""
    values = _message_values(raw, *scope)
    try:
        data = _json_encode(raw)
    except UnicodeEncodeError:  # a lone surrogate ("\\ud800"): valid JSON, not storable text
        return _storable_checked(raw, scope, None)
    if b"\\u0000" in data:
        if _OVERSIZE_NUMBER_JSON in data:
            raise InvalidMessage("message holds a number of more than 4300 digits")
        # A NUL somewhere: PostgreSQL refuses it, so replace it (and measure the original).
        return _storable_checked(raw, scope, len(data))
    return values, data, len(data) + SIZE_SLACK


def _write_key_bound(value: Any) -> int:
    """At least what `"writeKey":value,` adds to a message's JSON (the queued copy has none)."""
    # Six bytes a character at most (\\u escapes), the key, quotes, colon and comma.
    return 6 * len(value) + 16 if isinstance(value, str) else 1 << 62


def _storable_checked(raw: dict[str, Any], scope: tuple, size: int | None) -> tuple:
    raw = _storable(raw)
    data = _json_encode(raw)
    # Replacing shortens the text: the size as sent is measured exactly when unknown.
    return _message_values(raw, *scope), data, size + SIZE_SLACK if size is not None else 1 << 62


def _size(item: Any) -> int:
    try:
        return len(orjson.dumps(item))
    except orjson.JSONEncodeError:
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        return len(text.encode("utf-8", "replace"))


def excerpt(item: Any) -> str:
    """A short, printable view of what was sent, for the source's ingest log.

    Without writeKey: the log is shown to every member, the token only to whoever created it.
    """
    if isinstance(item, dict) and "writeKey" in item:
        item = {k: v for k, v in item.items() if k != "writeKey"}
    try:
        text = json.dumps(item, ensure_ascii=True, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(type(item))
    return text[:EXCERPT_LENGTH]


def _storable(value: Any) -> Any:
    """The value with NULs and lone surrogates replaced: PostgreSQL text and jsonb refuse them."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", REPLACEMENT)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = "".join(REPLACEMENT if "\ud800" <= c <= "\udfff" else c for c in value)
        return value
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _with_batch(
    raw: dict[str, Any],
    *,
    context: dict[str, Any],
    integrations: dict[str, Any],
    sent_at: Any,
) -> dict[str, Any]:
    if not (context or integrations or sent_at is not None):
        return raw
    raw = dict(raw)
    if context:
        own = raw.get("context")
        raw["context"] = {**context, **own} if isinstance(own, dict) else own or context
    if integrations:
        own = raw.get("integrations")
        raw["integrations"] = (
            {**integrations, **own} if isinstance(own, dict) else own or integrations
        )
    if sent_at is not None and raw.get("sentAt") is None:
        raw["sentAt"] = sent_at
    return raw


def message_parse(
    raw: dict[str, Any],
    *,
    workspace_id: int,
    source_id: int,
    received_at: datetime,
    default_type: str | None = None,
) -> Message:
    """Validate one raw message (batch-level fields already applied) or raise InvalidMessage."""
    return _message_new(*_message_values(raw, workspace_id, source_id, received_at, default_type))


def _message_values(
    raw: dict[str, Any],
    workspace_id: int,
    source_id: int | None,
    received_at: datetime,
    default_type: str | None,
    generated_id: str | None = None,
) -> tuple:
    """`message_parse`'s checks: the Message's fields in order, without building it (the
    request path queues the raw message and the worker builds it). `generated_id` is the
    messageId the edge generated for this message (the worker's reading of an envelope): it is
    taken as is, not derived again.

    Each field is read once and its usual shape (a short string, an object, absent) accepted
    inline; anything else goes to the field's rule function, the one place its rule and error
    are written. A function call per field was most of the edge's time per message.
    """
    get = raw.get
    call_type = get("type")
    if type(call_type) is not str or call_type not in TYPES:
        call_type = _type(raw, default_type)
    if call_type == "delete":
        raw = {k: v for k, v in raw.items() if not (k in EMPTY_ARRAY_OK and v == [])}
        get = raw.get
    user_id = get("userId")
    if user_id is not None and (type(user_id) is not str or not 0 < len(user_id) <= MAX_ID_LENGTH):
        user_id = _id(raw, "userId")
    anonymous_id = get("anonymousId")
    if anonymous_id is not None and (
        type(anonymous_id) is not str or not 0 < len(anonymous_id) <= MAX_ID_LENGTH
    ):
        anonymous_id = _id(raw, "anonymousId")
    previous_id = get("previousId")
    if previous_id is not None:
        previous_id = _id(raw, "previousId")
    group_id = get("groupId")
    if group_id is not None:
        group_id = _id(raw, "groupId")
    if call_type == "alias":
        if previous_id is None or user_id is None:
            raise InvalidMessage("alias needs previousId and userId")
    elif user_id is None and anonymous_id is None:
        raise InvalidMessage(f"{call_type} needs userId or anonymousId")
    if call_type == "group" and group_id is None:
        raise InvalidMessage("group needs groupId")
    event = get("event")
    if type(event) is not str or not event:
        event = _text(raw, "event")
    if call_type == "track" and not event:
        raise InvalidMessage("track needs an event name")
    name = get("name")
    if name is not None:
        name = _text(raw, "name")
    properties = get("properties")
    if type(properties) is not dict:
        properties = {} if properties is None else _optional_object(raw, "properties")
    traits = get("traits")
    if type(traits) is not dict:
        traits = {} if traits is None else _optional_object(raw, "traits")
    context = get("context")
    if type(context) is not dict:
        context = {} if context is None else _optional_object(raw, "context")
    integrations = get("integrations")
    if integrations is not None and type(integrations) is not dict:
        _optional_object(raw, "integrations")
    if call_type == "identify" and "traits" not in raw and isinstance(context.get("traits"), dict):
        # Some SDKs (RudderStack, older analytics.js) put identify traits only in context.traits.
        traits = context["traits"]
    if call_type not in {"identify", "group"}:
        traits = {}
    timestamp = _corrected_timestamp(raw, received_at)
    message_id = generated_id or get("messageId")
    if type(message_id) is not str or not 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH:
        message_id = _message_id(raw)
    if call_type in {"page", "screen"} and name is None and isinstance(properties.get("name"), str):
        name = properties["name"]
    return (
        workspace_id,
        source_id,
        call_type,
        message_id,
        user_id,
        anonymous_id,
        previous_id if call_type == "alias" else None,
        group_id if call_type == "group" else None,
        event[:MAX_NAME_LENGTH] if call_type == "track" and event else None,
        name[:MAX_NAME_LENGTH] if name and call_type in {"page", "screen"} else None,
        properties,
        traits,
        context,
        timestamp,
        received_at,
        raw,
    )


# A frozen dataclass's __init__ sets each field through object.__setattr__: 16 of them were a
# fifth of the edge's time per message. Validation has just built every field, so the edge fills
# the slots directly, in the order of Message's fields; the Message is as frozen as any other.
_MESSAGE_SLOTS = tuple(getattr(Message, f.name).__set__ for f in fields(Message))


def _message_new(*values: Any) -> Message:
    message = object.__new__(Message)
    for fill, value in zip(_MESSAGE_SLOTS, values, strict=True):
        fill(message, value)
    return message


def _type(raw: dict[str, Any], default_type: str | None) -> str:
    value = raw.get("type")
    if value is None:
        if default_type is None:
            raise InvalidMessage("type is required")
        return default_type
    if not isinstance(value, str):
        raise InvalidMessage("type must be a string")
    value = TYPE_ALIASES.get(value, value)
    if value not in TYPES:
        raise InvalidMessage(f"unknown type {value[:40]!r}")
    return value


def _id(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if type(value) is str and len(value) <= MAX_ID_LENGTH:  # nearly every id: the short way
        return value or None
    # bool is an int in Python, but `true` is not an id.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidMessage(f"{key} must be a string or a number")
    text = value if isinstance(value, str) else str(value)
    if not text:
        return None
    if len(text) > MAX_ID_LENGTH:
        raise InvalidMessage(f"{key} is longer than {MAX_ID_LENGTH} characters")
    return text


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidMessage(f"{key} must be a string")
    return value or None


def _optional_object(raw: dict[str, Any], key: str, *, where: str = "") -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if type(value) is not dict:  # parsed JSON: a dict is exactly a dict
        label = f"{where} {key}".strip()
        if where:
            raise IngestError(400, "malformed_batch", f"{label} must be a JSON object.")
        raise InvalidMessage(f"{label} must be a JSON object")
    return value


def _message_id(raw: dict[str, Any]) -> str:
    value = raw.get("messageId")
    if value is None or value == "":
        if raw.get("timestamp") is None and raw.get("originalTimestamp") is None:
            return f"windsor-{uuid.uuid4()}"
        # Same content (including the sender's own timestamp) = same message, so a re-sent
        # message without an id is still stored once.
        canonical = json.dumps(
            {k: v for k, v in raw.items() if k not in {"sentAt", "receivedAt"}},
            sort_keys=True,
            ensure_ascii=True,
            separators=(",", ":"),
        )
        return "windsor-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidMessage("messageId must be a string")
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_MESSAGE_ID_LENGTH:
        raise InvalidMessage(f"messageId is longer than {MAX_MESSAGE_ID_LENGTH} characters")
    return text


# What a request body's number of more than 4,300 digits (ingest/body.py MAX_INT_DIGITS) reads
# as, so that its message alone is refused: Python will not make an int of it, and refusing the
# whole body would lose its neighbours. Its NULs send the message down the slow path of
# `messages_parse` (`_checked`), where it is found; a sender who writes this text themselves only
# gets their own message refused.
OVERSIZE_NUMBER = "\x00a number of more than 4300 digits\x00"
_OVERSIZE_NUMBER_JSON = orjson.dumps(OVERSIZE_NUMBER)[1:-1]


# The longest ISO-8601 form ("2026-01-02T03:04:05.123456+05:30") is 32 characters; the rest is
# room for the whitespace senders leave around it.
MAX_TIMESTAMP_LENGTH = 64


@lru_cache(maxsize=4096)
def _timestamp_parsed(value: str) -> datetime:
    # A batch repeats its sentAt in every message, and senders' clocks tick in seconds or
    # milliseconds: many strings come again. Datetimes are immutable, so sharing one is safe.
    return timestamp_parse(value, utc=False)


def _timestamp_field(value: Any, key: str) -> datetime | None:
    """A sender's timestamp field: absent, or an ISO-8601 string (`core.timestamps`)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidMessage(f"{key} must be an ISO-8601 string")
    if len(value) > MAX_TIMESTAMP_LENGTH:
        # Before the cache: it keys on the text, and padded copies of one date would fill it.
        raise InvalidMessage(
            f"{key} is not an ISO-8601 date (longer than {MAX_TIMESTAMP_LENGTH} characters)"
        )
    try:
        return _timestamp_parsed(value)
    except ValueError as exc:
        raise InvalidMessage(f"{key} is not an ISO-8601 date") from exc


def _corrected_timestamp(raw: dict[str, Any], received_at: datetime) -> datetime:
    # Most messages carry two of the four: only those present are parsed.
    timestamp = original = sent_at = relayed = None
    if (value := raw.get("timestamp")) is not None:
        timestamp = _timestamp_field(value, "timestamp")
    if (value := raw.get("originalTimestamp")) is not None:
        original = _timestamp_field(value, "originalTimestamp")
    if (value := raw.get("sentAt")) is not None:
        sent_at = _timestamp_field(value, "sentAt")
    if (value := raw.get("receivedAt")) is not None:
        relayed = _timestamp_field(value, "receivedAt")
    try:
        if relayed is not None and timestamp is not None:
            # Segment already corrected it against its own receivedAt when it relayed it.
            return timestamp.astimezone(UTC)
        clock = timestamp or original
        if clock is None:
            # In UTC like every other branch: the worker stores the Message built here as is.
            return received_at if relayed is None else relayed.astimezone(UTC)
        if sent_at is None:
            return clock.astimezone(UTC)
        # Sent and received on two clocks: only the sender's interval between the event and
        # sending is trusted, measured back from when it arrived (at Segment, if relayed).
        skew: timedelta = sent_at - clock
        corrected = (relayed or received_at) - skew
        return corrected if corrected.tzinfo is UTC else corrected.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidMessage("timestamps are out of range") from exc


# --- The queue's record of a request ------------------------------------------------------------

# Records without it are a list of `Message.as_dict()` (queued by older servers, and by "Store
# again"); the worker reads both (ingest/older_records.py).
RECORD_FORMAT = 2


def queued_record(
    parsed: Parsed,
    *,
    workspace_id: int,
    source_id: int,
    received_at: datetime,
    default_type: str | None,
) -> bytes:
    """A request's valid messages as the queue carries them: their raw JSON once, in a small
    envelope with what the worker needs to derive the rest (`queued_messages`)."""
    head = orjson.dumps(
        {
            "format": RECORD_FORMAT,
            "workspace_id": workspace_id,
            "source_id": source_id,
            "received_at": received_at.isoformat(),
            "type": default_type,
            "ids": {str(k): v for k, v in parsed.generated_ids.items()},
            # The depth limit this edge applied to every message in here (`too_deep`).
            "nesting": MAX_NESTING,
        }
    )
    return head[:-1] + b',"messages":[' + b",".join(parsed.queued) + b"]}"


def queued_is_record(value: Any) -> bool:
    return isinstance(value, dict) and value.get("format") == RECORD_FORMAT


def queued_messages(record: dict[str, Any]) -> tuple[list[Message], list[dict[str, Any]]]:
    """A `queued_record` as the worker stores it: each message's `Message`, built once here with
    the edge's rules (datetimes in UTC), and rejections (source log records) for any the rules
    now refuse (they may have changed since the edge checked). ValueError, KeyError or TypeError
    when the record itself is broken.

    What the edge vouches for is not redone: a messageId it generated is taken from the record
    (not hashed again, and a random one could not be), and the depth rule is applied only when
    the record does not say the edge applied it at our limit or stricter (`nesting_trusted`).
    Every other field is derived and checked here, from the raw JSON, as the edge did."""
    workspace_id, source_id = record["workspace_id"], record["source_id"]
    if type(workspace_id) is not int or not (source_id is None or type(source_id) is int):
        raise TypeError("workspace_id and source_id must be integers")
    received_text = record["received_at"]
    received_at = datetime.fromisoformat(received_text)
    if received_at.tzinfo is None:
        raise ValueError("received_at has no time zone")
    if received_at.tzinfo is not UTC:
        received_at = received_at.astimezone(UTC)
    default_type = record.get("type")
    if not (default_type is None or isinstance(default_type, str)):
        raise TypeError("type must be a string")
    ids = record.get("ids") or {}
    walk = not nesting_trusted(record.get("nesting"))
    raws = record["messages"]
    if not isinstance(ids, dict) or not isinstance(raws, list):
        raise TypeError("ids must be an object and messages an array")
    messages: list[Message] = []
    rejections: list[dict[str, Any]] = []
    for position, raw in enumerate(raws):
        try:
            if not isinstance(raw, dict):
                raise InvalidMessage("a message must be a JSON object")
            # Depth first, as at the edge: a message too deep is refused for that.
            if walk and too_deep(raw):
                raise InvalidMessage(too_deep_reason())
            generated = ids.get(str(position)) if ids else None
            values = _message_values(
                raw,
                workspace_id,
                source_id,
                received_at,
                default_type,
                generated if isinstance(generated, str) else None,
            )
        except (InvalidMessage, RecursionError) as exc:
            # RecursionError: a message deeper than the edge lets through (a forged record).
            reason = too_deep_reason() if isinstance(exc, RecursionError) else str(exc)
            rejections.append(
                {
                    "source_id": source_id,
                    "received_at": received_text,
                    "index": None,
                    "reason": reason,
                    "excerpt": excerpt(raw),
                }
            )
            continue
        messages.append(_message_new(*values))
    return messages, rejections
