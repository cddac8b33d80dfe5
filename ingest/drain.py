"""The drain loop: read the queue, cut what was read into batches of one workspace, store each
(ingest/store.py), then acknowledge.

    ingest.tasks.drain_ingest -> drain -> stream_drain (then inbox_drain) -> store.batch_store

A drain reads the Redis stream (this worker's unacknowledged entries first, then what a dead
worker left, then new ones), and then the PostgreSQL inbox that requests wrote to while Redis was
away. Records are acknowledged (or the inbox rows deleted) only once stored: a database outage
raises out of the store and leaves them to be read again. Entries delivered too often (workers
died on them) are dead-lettered whole. Records that cannot be read at all, or dicts that cannot
be decoded (ingest/older_records.py), are dead-lettered alone, after their batches.
Design notes: docs/design/storing.md.
"""

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from django.conf import settings

from core.messages import Message
from ingest import queue
from ingest.dead_letters import dead_letter, dead_letter_minimal
from ingest.models import InboxBatch
from ingest.queue import Records
from ingest.store import batch_store

logger = logging.getLogger(__name__)

INBOX_ROWS_PER_BATCH = 20


def drain(*, wake_another: Callable[[], object] | None = None) -> tuple[int, bool]:
    """One drain run: the stream, then the inbox. Returns (records stored, more left)."""
    deadline = time.monotonic() + settings.INGEST_DRAIN_SECONDS
    total, more = 0, False
    client = queue.redis_client()
    if client is not None:
        try:
            total, more = stream_drain(client, deadline=deadline, wake_another=wake_another)
        except redis.RedisError:
            logger.warning("ingest: Redis unavailable; draining only the inbox")
    stored, inbox_more = inbox_drain(deadline=deadline)
    return total + stored, more or inbox_more


def stream_drain(
    client: redis.Redis, *, deadline: float, wake_another: Callable[[], object] | None = None
) -> tuple[int, bool]:
    """Store stream entries until the stream is empty or the deadline passes.

    A read that comes back full means a backlog: `wake_another` (send one more drain task) is
    called then, at most once per INGEST_FANOUT_SECONDS across workers, so that every worker
    joins a burst instead of one draining it alone.

    Returns how many messages and rejections were stored and whether entries may remain.
    """
    consumer = queue.consumer_name()
    size = settings.INGEST_BATCH_SIZE
    # Reads of a few batches' worth, so that `batches` can group them by workspace.
    wanted = size * max(1, settings.INGEST_READ_BATCHES)
    queue.group_ensure(client)
    total = 0
    # Entries hold one request each (1 to 2,500 messages): start with a small read and size
    # the next ones by what the entries held, so that a read is about `wanted` messages.
    count = max(1, wanted // 100)
    # First what this worker already took (a retry after a database outage), then what a dead
    # worker left behind, then new entries.
    batch = queue.stream_read(client, consumer, count, pending=True)
    if not batch.ids:
        batch = queue.stream_claim(client, consumer, count)
    while True:
        if not batch.ids:
            batch = queue.stream_read(client, consumer, count, pending=False)
        if not batch.ids:
            queue.drain_flag_clear(client)
            # Closes the race with a request that added entries but saw the flag still set.
            batch = queue.stream_read(client, consumer, count, pending=False)
            if not batch.ids:
                return total, False
        records = batch.records
        # As many entries as asked for and at least half a batch of messages: more are waiting.
        backlog = len(batch.ids) >= count and len(records.messages) * 2 >= size
        if wake_another is not None and backlog and queue.fanout_claim(client):
            wake_another()
        if batch.exhausted:
            batch_store([], records.rejections)
            dead_letter(
                records.messages,
                error="Workers were lost repeatedly while storing these messages.",
                attempts=settings.INGEST_MAX_DELIVERIES,
            )
        else:
            for messages, rejections in batches(records):
                batch_store(messages, rejections)
        unstorable_dead_letter(records)
        queue.stream_ack(client, batch.ids)
        total += len(records)
        per_entry = max(1, len(records.messages) // len(batch.ids))
        count = max(1, min(wanted, wanted // per_entry))
        batch = queue.Batch(ids=[], records=Records())
        if time.monotonic() > deadline:
            return total, True


def inbox_drain(*, deadline: float) -> tuple[int, bool]:
    """Store what requests wrote to the inbox while Redis was away (each batch a savepoint in
    the transaction that holds the inbox rows' locks)."""
    total = 0
    while True:
        with queue.inbox_locked(INBOX_ROWS_PER_BATCH) as (ids, records):
            if not ids:
                return total, False
            for messages, rejections in batches(records):
                batch_store(messages, rejections)
            unstorable_dead_letter(records)
            InboxBatch.objects.filter(pk__in=ids).delete()
            total += len(records)
        if time.monotonic() > deadline:
            return total, True


def batches(records: Records) -> Iterator[tuple[list[Message], list[dict[str, Any]]]]:
    """What was read, as batches of at most settings.INGEST_BATCH_SIZE messages grouped by
    workspace, the rejections with the first.

    Requests of many workspaces interleave in the stream, and each workspace in a batch costs
    its own round of reads and locks (ingest/store.py): 500 messages of four workspaces cost four
    rounds of 125. Grouped (a stable sort: each workspace's messages keep their order), a read of
    a few batches' worth makes batches of mostly one workspace.
    """
    size = settings.INGEST_BATCH_SIZE
    messages = sorted(records.messages, key=lambda m: m.workspace_id)
    for start in range(0, max(len(messages), 1), size):
        yield messages[start : start + size], records.rejections if start == 0 else []


def unstorable_dead_letter(records: Records) -> None:
    """Dead-letter what was read but is no message: after the batches, so that a database outage
    meanwhile (the records are read again) dead-letters them once."""
    for text in records.unreadable:
        dead_letter_minimal(None, reason="The queued record cannot be read as JSON.", raw=text)
    for value, error in records.undecodable:
        dead_letter([value], error=error, attempts=1)
