"""Storing one batch of messages: one transaction, its locks taken once, one retry loop.

The worker's chain, top to bottom, six calls deep (tests/ingest/test_queue.py proves it):

    ingest.tasks.drain_ingest -> ingest.drain.drain -> ingest.drain.stream_drain (or inbox_drain)
      -> batch_store            one transaction per batch (durable where outermost), retried
        -> workspace_write      dedupe, identity rules (people.identity), then
          -> feed.services.events_write -> core.bulk.bulk_insert_values (the events' COPY)

`batch_store` takes the batch's workspace locks in one statement (core.locks.workspaces_store_lock),
drops the messages of deleted workspaces and suppressed ids, writes each workspace's messages,
counts them on their sources and logs the rejections, all in one transaction. A write conflict
with another worker (`conflicted`: deadlock, serialization failure, a messageId stored twice) tries
the batch again (`attempts`, the only retry loop); any other failure stores the batch one message
at a time and dead-letters what still fails (ingest.dead_letters). Only an outage of the database
escapes, leaving the records unacknowledged. Why the locks and the order: docs/design/storing.md.
"""

import logging
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any

from django.db import connection, transaction
from django.db.models import Value

from accounts.models import Source, Workspace
from core.locks import workspaces_store_lock
from core.messages import Message, message_decode
from feed.services import events_write, stored_message_ids
from ingest import counters
from ingest.dead_letters import database_down, dead_letter
from ingest.source_counts import rejections_log, rejections_record, sources_count_accepted
from people.deletion import DELETE_TYPE, deletes_apart, message_delete
from people.identity import IdentityBatch
from people.locking import batch_lock
from people.suppression import messages_unsuppressed

logger = logging.getLogger(__name__)

ATTEMPTS = 5
# After this many conflicts a batch stores with its workspaces' storing locks exclusive
# (core/locks.py): two workers given the same messages could otherwise collide on every attempt.
ALONE_AFTER = 2
# PostgreSQL's deadlock_detected, serialization_failure and unique_violation.
CONFLICTS = frozenset({"40P01", "40001", "23505"})


def conflicted(error: BaseException) -> bool:
    """Whether `error` is a write conflict with another transaction, which the same batch may
    not meet again: a deadlock, a serialization failure, or a unique key another batch committed
    meanwhile (two workers given one messageId). However Django and psycopg wrapped it."""
    cause: BaseException | None = error
    for _ in range(5):  # Django's wrapper, then psycopg's error
        if cause is None:
            break
        if getattr(cause, "sqlstate", None) in CONFLICTS:
            return True
        cause = cause.__cause__
    return False


class Attempt:
    """One try of a transaction: `with attempt:` keeps a conflict to try again (see `attempts`)."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.done = False
        # Alone: wait for the workspaces' other storing batches, keep new ones out until COMMIT.
        self.alone = number > ALONE_AFTER

    def __enter__(self) -> "Attempt":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if error is None:
            self.done = True
            return False
        if self.number < ATTEMPTS and conflicted(error):
            logger.warning("ingest: batch conflicted (%s), retrying", error)
            return True
        return False


def attempts() -> Iterator[Attempt]:
    """The one retry loop: `for attempt in attempts(): with attempt: <one transaction>`. A
    conflict tries again (up to ATTEMPTS, a little later each time); anything else is raised."""
    for number in range(1, ATTEMPTS + 1):
        attempt = Attempt(number)
        yield attempt
        if attempt.done:
            return
        time.sleep(0.05 * number)


def batch_store(
    messages: list[Message], rejections: list[dict[str, Any]], *, tried: int = 0
) -> None:
    """Store a batch whole, else one message at a time (each that fails: a dead letter); only
    errors of an unreachable database escape. `tried`: how often these messages failed before,
    in a larger batch."""
    # Its own transaction (the stream's), or a savepoint in the inbox's.
    outermost = not connection.in_atomic_block
    try:
        for attempt in attempts():
            with attempt, transaction.atomic(durable=outermost):
                kept = _still_owned(messages)
                batch_locks(kept, attempt)
                # Read under the locks: a deletion with suppression committed by now applies.
                kept = messages_unsuppressed(kept)
                if kept:
                    started = time.monotonic()
                    new = 0
                    for workspace_id, group in _by_workspace(kept):  # a loop, not a frame deeper
                        new += workspace_write(workspace_id, group)
                    counters.batch_stored(events=new, seconds=time.monotonic() - started)
                    if not outermost and connection.vendor == "postgresql":
                        # Foreign keys are checked at COMMIT: inside the inbox's transaction a
                        # violation would fail its COMMIT every time; here, only this batch.
                        connection.check_constraints()
                    # Last: the source rows every batch of a source adds to, locked until COMMIT.
                    sources_count_accepted(kept)
                rejections_record(rejections)
        return
    except Exception as exc:
        if database_down(exc):
            raise
        error = traceback.format_exc()
        logger.exception("ingest: batch of %d messages failed", len(messages))
    rejections_log(rejections)
    if len(messages) <= 1:
        dead_letter(messages, error=error, attempts=tried + 1)
        return
    for message in messages:
        batch_store([message], [], tried=tried + 1)


def batch_locks(messages: list[Message], attempt: Attempt) -> None:
    """The batch's workspace locks, all at once, before any other row: shared, so that batches
    of one workspace run at once (people/locking.py locks what they share), exclusive where a
    Segment `delete` is among them, as it erases people other batches may hold."""
    workspaces = {m.workspace_id for m in messages}
    deleting = {m.workspace_id for m in messages if m.type == DELETE_TYPE}
    workspaces_store_lock(workspaces, deleting=deleting, alone=attempt.alone)


def batch_process(messages: Sequence[Message | Mapping[str, Any]]) -> int:
    """Store messages in the caller's transaction, or one of their own; returns how many events
    were new. The identity rules and events of `batch_store`, without its dead letters, source
    counters or ownership checks: tests and benches store batches so, some in the dict form."""
    typed = [m if isinstance(m, Message) else message_decode(m) for m in messages]
    for attempt in attempts():
        with attempt, transaction.atomic():
            batch_locks(typed, attempt)
            started = time.monotonic()
            new = 0
            for workspace_id, group in _by_workspace(typed):
                new += workspace_write(workspace_id, group)
            counters.batch_stored(events=new, seconds=time.monotonic() - started)
    return new


def workspace_write(workspace_id: int, messages: list[Message]) -> int:
    """Store one workspace's messages under the batch's locks; returns how many were new."""
    unique: dict[str, Message] = {}
    for message in messages:
        unique.setdefault(message.message_id, message)
    stored = stored_message_ids(workspace_id, unique)
    new = [m for mid, m in unique.items() if mid not in stored]
    if not new:
        return 0
    # A Segment `delete` applies where it stands: the messages before it are stored (and deleted
    # with the person), those after it start afresh; the workspace is the batch's alone then.
    deleting = any(m.type == DELETE_TYPE for m in new)
    # The people, new ids and groups the new messages touch, locked after the dedupe (a batch of
    # duplicates locks nothing); its last read of the identities is the batch's load.
    loaded = None if deleting else batch_lock(workspace_id, new)
    runs = deletes_apart(new)
    for run, delete in runs:
        if run:
            batch = IdentityBatch(workspace_id, run)
            batch.load(loaded)
            applied = [batch.apply(m) for m in run]
            batch.save()
            events_write(run, [a.identity for a in applied], [a.warnings for a in applied])
        if delete is not None:
            message_delete(message=delete)
    return sum(len(run) for run, _ in runs)


def _by_workspace(messages: list[Message]) -> list[tuple[int, list[Message]]]:
    groups: dict[int, list[Message]] = {}
    for message in messages:
        groups.setdefault(message.workspace_id, []).append(message)
    return sorted(groups.items())


def _still_owned(messages: list[Message]) -> list[Message]:
    """The messages whose workspace still exists; a deleted source's messages lose the source.

    Without this, a workspace or source deleted while its messages waited in the queue would
    make the whole batch fail on a foreign key.
    """
    if not messages:
        return messages
    # One round trip for both: which of the workspaces and which of the sources still exist.
    # No ORDER BY in either half (the models' default ordering): SQLite refuses one in a UNION.
    found = (
        Workspace.objects.filter(pk__in={m.workspace_id for m in messages})
        .order_by()
        .values_list(Value(True), "pk")
    )
    found = list(
        found.union(
            Source.objects.filter(pk__in={m.source_id for m in messages if m.source_id is not None})
            .order_by()
            .values_list(Value(False), "pk"),
            all=True,
        )
    )
    workspaces = {pk for is_workspace, pk in found if is_workspace}
    sources = {pk for is_workspace, pk in found if not is_workspace}
    kept = []
    for m in messages:
        if m.workspace_id not in workspaces:
            continue
        if m.source_id is not None and m.source_id not in sources:
            m = replace(m, source_id=None)
        kept.append(m)
    if len(kept) < len(messages):
        logger.warning("ingest: %d messages of deleted workspaces", len(messages) - len(kept))
    return kept
