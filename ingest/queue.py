"""The ingest queue: a Redis Stream read by a consumer group, with a PostgreSQL inbox behind it.

Why a stream and not one Celery task per request: analytics.js and Segment's destination send one
message per request, and one task per message stores a few hundred events a second, while a
worker that takes hundreds of messages at a time stores them in one transaction. So a request
appends its messages in one round trip, and a drain task reads them in batches.

One stream entry per request (one XADD: per-message entries made Redis the bottleneck): field
``m`` holds a JSON array of records, ``r`` a JSON array of its rejections (for the source's
ingest log), ``n`` the number of messages. A record is the request's valid messages as sent, in
an envelope (`segment.queued_record`): the worker builds each `Message` from them once, with the
edge's own rules (`segment.queued_messages`), so the request neither builds nor encodes it, and
hands those Messages on as they are (`Records.messages`). An older server queued each message's
`Message.as_dict()` instead (and "Store again" queues a dead letter's messages so): the worker
reads both, the dicts decoded once as they are read (ingest/older_records.py), so a queue that
holds some across a deploy is still stored (deploy workers before web servers: an older worker
dead-letters the new records). The inbox's rows hold the same arrays. Drains size their reads so
that a read holds about settings.INGEST_BATCH_SIZE messages.

Waking the workers: the request does ``SET drain-pending 1 NX EX`` in the same MULTI as its XADD
and sends the drain task only when it set the flag. The drain task deletes the flag when it finds
the stream empty and then reads once more, so a message added between its last read and the
delete is never left without a drainer. Celery beat also runs the drain every few seconds.
"""

import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.messages import Message
from ingest.body import json_loads
from ingest.models import InboxBatch
from ingest.older_records import older_message_add
from ingest.segment import EXCERPT_LENGTH, queued_is_record, queued_messages
from ingest.segment import excerpt as excerpt_of

logger = logging.getLogger(__name__)

GROUP = "workers"
DRAIN_FLAG_SECONDS = 10
# After Redis failed, requests go straight to the inbox for this long instead of waiting on it.
REDIS_BACKOFF_SECONDS = 1.0

_clients: dict[str, redis.Redis] = {}
_redis_down_until = 0.0


class QueueUnavailable(Exception):
    """Neither Redis nor the database could take the records."""


@dataclass
class Records:
    """What a drain takes from the queue: validated messages and rejections to log."""

    # A `Message` for each message read, from an envelope or a dict (ingest/older_records.py).
    messages: list[Message] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    # Queue records that could not even be decoded (written by an older or broken server): kept
    # as a dead letter's excerpt, so that they never hold up the records behind them.
    unreadable: list[str] = field(default_factory=list)
    # Dicts that could not be decoded as a `Message`, with the error: each a dead letter.
    undecodable: list[tuple[Any, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.messages or self.rejections or self.unreadable or self.undecodable)

    def __len__(self) -> int:
        unstorable = len(self.unreadable) + len(self.undecodable)
        return len(self.messages) + len(self.rejections) + unstorable


def stream_key() -> str:
    return settings.INGEST_STREAM


def drain_flag_key() -> str:
    return f"{settings.INGEST_STREAM}:drain-pending"


def redis_client() -> redis.Redis | None:
    """The ingest Redis, or None in the embedded default (no Redis configured)."""
    url = settings.INGEST_REDIS_URL
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        # Short timeouts and no retries: a request must fall back to the inbox well within
        # Segment's 5 s timeout when Redis is down or hung.
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=settings.INGEST_REDIS_TIMEOUT,
            socket_timeout=settings.INGEST_REDIS_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        _clients[url] = client
    return client


def _redis_usable() -> redis.Redis | None:
    if time.monotonic() < _redis_down_until:
        return None
    return redis_client()


def _mark_redis_down() -> None:
    global _redis_down_until
    _redis_down_until = time.monotonic() + REDIS_BACKOFF_SECONDS


def enqueue(
    messages: list[bytes], rejections: list[dict[str, Any]], *, count: int | None = None
) -> bool:
    """Keep a request's records (Redis, else the inbox); True when a drainer should be woken.

    `messages` are records' JSON (`segment.queued_record`, or an older server's message dicts),
    holding `count` messages (default: one each). Raises QueueUnavailable only when neither
    Redis nor the database could take them.
    """
    client = _redis_usable()
    if client is not None:
        try:
            return _stream_add(
                client, messages, rejections, len(messages) if count is None else count
            )
        except redis.RedisError:
            logger.warning("ingest: Redis refused %d messages; using the inbox", len(messages))
            _mark_redis_down()
    try:
        InboxBatch.objects.create(messages=[json_loads(m) for m in messages], rejections=rejections)
    except Exception as exc:  # any database failure: the data was not kept
        logger.exception("ingest: the inbox refused %d messages", len(messages))
        raise QueueUnavailable from exc
    # With Redis configured the broker is down too; beat drains the inbox once it is back.
    return client is None and settings.CELERY_TASK_ALWAYS_EAGER


def _stream_add(
    client: redis.Redis, messages: list[bytes], rejections: list[dict[str, Any]], count: int
) -> bool:
    fields: dict[str, bytes | str | int] = {"n": count}
    if messages:
        fields["m"] = b"[" + b",".join(messages) + b"]"
    if rejections:
        fields["r"] = json.dumps(rejections, separators=(",", ":"))
    pipe = client.pipeline(transaction=True)
    pipe.xadd(stream_key(), fields)
    pipe.set(drain_flag_key(), 1, nx=True, ex=DRAIN_FLAG_SECONDS)
    return bool(pipe.execute()[-1])


def rate_allowed(source_id: int, count: int, *, browser: bool = False) -> bool:
    """Whether a source may send `count` more messages this second (atomic Redis counters).

    INGEST_RATE_LIMIT_PER_SECOND counts every request of the source (off when 0, the default);
    INGEST_BROWSER_RATE_LIMIT_PER_SECOND counts what browsers send with it (ingest/erasure_rule.py
    `from_browser`), on by default. Open when Redis is unreachable (the inbox then takes the
    data; refusing it would lose nothing but help nobody).
    """
    limits = [("rate", settings.INGEST_RATE_LIMIT_PER_SECOND)]
    if browser:
        limits.append(("rate-browser", settings.INGEST_BROWSER_RATE_LIMIT_PER_SECOND))
    limits = [(name, limit) for name, limit in limits if limit]
    client = _redis_usable() if limits else None
    if client is None:
        return True
    second = int(time.time())
    keys = [f"{settings.INGEST_STREAM}:{name}:{source_id}:{second}" for name, _ in limits]
    try:
        pipe = client.pipeline(transaction=True)
        for key in keys:
            pipe.incrby(key, count)
            pipe.expire(key, 2)
        used = pipe.execute()[::2]
    except redis.RedisError:
        return True
    return all(n <= limit for n, (_, limit) in zip(used, limits, strict=True))


# --- The worker's side ------------------------------------------------------------------------


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def group_ensure(client: redis.Redis) -> None:
    try:
        client.xgroup_create(stream_key(), GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


@dataclass
class Batch:
    """Records read from the stream, with the ids to acknowledge once they are stored."""

    ids: list[bytes]
    records: Records
    # Entries that were delivered too often without being acknowledged (a worker died on them).
    exhausted: bool = False


def records_add(records: Records, data: Any, *, into: str) -> None:
    """Add a queued JSON array of records (bytes or text) to `records.<into>`, or, when it cannot
    be read as one, its excerpt to `records.unreadable`: one bad record never fails the read."""
    try:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        values = json_loads(data)
        if not isinstance(values, list):
            raise ValueError("not a JSON array")
    except Exception as exc:
        excerpt = bytes(data[:EXCERPT_LENGTH]).decode("utf-8", "replace")
        records.unreadable.append(f"{type(exc).__name__}: {str(exc)[:200]}: {excerpt}")
        return
    if into != "messages":
        getattr(records, into).extend(values)
        return
    for value in values:
        if not queued_is_record(value):  # a message in the dict form (an older server's)
            older_message_add(records, value)
            continue
        try:
            messages, refused = queued_messages(value)
        except Exception as exc:
            text = f"{type(exc).__name__}: {str(exc)[:200]}: {excerpt_of(value)}"
            records.unreadable.append(text)
            continue
        records.messages += messages
        records.rejections += refused


def _decode(entries: list[tuple[bytes, dict[bytes, bytes]]]) -> Batch:
    records = Records()
    ids = []
    for entry_id, fields in entries:
        ids.append(entry_id)
        if b"m" in fields:
            records_add(records, fields[b"m"], into="messages")
        if b"r" in fields:
            records_add(records, fields[b"r"], into="rejections")
    return Batch(ids=ids, records=records)


def stream_read(client: redis.Redis, consumer: str, count: int, *, pending: bool) -> Batch:
    """Up to `count` entries: this consumer's own unacknowledged ones, or new ones."""
    reply = client.xreadgroup(GROUP, consumer, {stream_key(): "0" if pending else ">"}, count=count)
    entries = [e for e in (reply[0][1] if reply else []) if e[1]]
    return _decode(entries)


def stream_claim(client: redis.Redis, consumer: str, count: int) -> Batch:
    """Entries another worker took but never acknowledged (it crashed or was killed)."""
    idle_ms = int(settings.INGEST_CLAIM_IDLE_SECONDS * 1000)
    reply = client.xautoclaim(stream_key(), GROUP, consumer, idle_ms, start_id="0-0", count=count)
    entries = [e for e in reply[1] if e[1]]
    batch = _decode(entries)
    if batch.ids:
        info = client.xpending_range(
            stream_key(), GROUP, min=batch.ids[0], max=batch.ids[-1], count=len(batch.ids) * 2
        )
        worst = max((p["times_delivered"] for p in info), default=0)
        batch.exhausted = worst >= settings.INGEST_MAX_DELIVERIES
    return batch


def stream_ack(client: redis.Redis, ids: list[bytes]) -> None:
    if not ids:
        return
    pipe = client.pipeline(transaction=True)
    pipe.xack(stream_key(), GROUP, *ids)
    pipe.xdel(stream_key(), *ids)
    pipe.execute()


def drain_flag_clear(client: redis.Redis) -> None:
    client.delete(drain_flag_key())


def fanout_claim(client: redis.Redis) -> bool:
    """True at most once per INGEST_FANOUT_SECONDS across all workers: the caller found a
    backlog and may wake one more drain, so a burst spreads over every worker, one at a time."""
    if settings.INGEST_FANOUT_SECONDS <= 0:
        return False
    key = f"{settings.INGEST_STREAM}:fanout"
    return bool(client.set(key, 1, nx=True, px=int(settings.INGEST_FANOUT_SECONDS * 1000)))


@contextmanager
def inbox_locked(limit: int) -> Iterator[tuple[list[int], Records]]:
    """The oldest inbox rows nobody else is draining, locked until the block ends.

    Yields their ids and records; the caller deletes the rows inside the block once stored.
    """
    with transaction.atomic():
        # Read as text and decoded here (exact integers, bounded nesting): the JSONField's own
        # decoding would recurse past Python's limit on a deep message and fail every drain.
        rows = list(
            InboxBatch.objects.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("pk", Cast("messages", TextField()), Cast("rejections", TextField()))[
                :limit
            ]
        )
        records = Records()
        for _, messages, rejections in rows:
            records_add(records, messages or "[]", into="messages")
            records_add(records, rejections or "[]", into="rejections")
        yield [pk for pk, _, _ in rows], records
