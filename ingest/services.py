"""Process a batch of validated messages: store each message once, hand its call to people/.

A batch is `core.messages.Message` values: the worker builds each one once, from the edge's
envelope (ingest.segment.queued_messages) or from an older server's queued dict
(`Message.as_dict()`, decoded by ingest.processing where the batch starts), and nothing past
the queue turns it back into a dict but a dead letter. `batch_process` also takes that dict
form (tests and benches write batches so) and decodes it here, once (`message_decode`).

- One transaction per workspace in the batch, under the workspace's lock taken shared
  (core/locks.py; PostgreSQL, SQLite serialises writers anyway), so batches of one workspace
  run at once, and under locks on the people, new ids and groups the batch touches
  (people/locking.py): two workers given overlapping batches take turns on what they share, so
  neither creates a duplicate person nor loses a merge or an update. A batch carrying a Segment
  `delete` takes the workspace lock exclusive instead. A unique-constraint failure, a
  serialization failure or a deadlock (a merge committed while a batch took its row locks) rolls
  back and retries the batch. After two such failures the retry takes the workspace's storing
  lock exclusive (core/locks.py): two workers handed the same messages (a re-claimed entry,
  a replay) could otherwise collide on the unique messageId on every attempt and give up.
- Inside, messages whose messageId is already stored (or repeated within the batch) are skipped:
  a duplicate is a no-op. The rest go through `people.identity.IdentityBatch` (all the identity
  rules, bulk reads and writes) and `feed.services.events_write` inserts their events in one
  statement.
- A Segment `delete` is not stored: it deletes whoever holds its ids (people/deletion.py) after
  the messages before it and before those after it.
- The common case costs a fixed number of queries per batch, whatever its size.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction

from core.locks import workspace_store_lock, workspaces_lock
from core.messages import Message, message_decode
from feed.services import events_write, stored_message_ids
from ingest import counters
from people.deletion import DELETE_TYPE, deletes_apart, message_delete
from people.identity import IdentityBatch
from people.locking import batch_lock
from people.rows import IdentityRow

logger = logging.getLogger(__name__)

ATTEMPTS = 5
# After this many failed attempts a batch stores with its workspace's storing lock exclusive
# (core/locks.py): two workers given the same messages can otherwise collide on every attempt.
ALONE_AFTER = 2


def batch_process(messages: Sequence[Message | Mapping[str, Any]]) -> int:
    """Store a batch of messages; returns how many events were new (counted for /metrics on
    commit). A message in the dict form is decoded first; one that cannot be raises."""
    started = time.monotonic()
    by_workspace: dict[int, list[Message]] = {}
    for message in messages:
        if not isinstance(message, Message):
            message = message_decode(message)
        by_workspace.setdefault(message.workspace_id, []).append(message)
    new = sum(
        workspace_batch_process(workspace_id=workspace_id, messages=group)
        for workspace_id, group in sorted(by_workspace.items())
    )
    counters.batch_stored(events=new, seconds=time.monotonic() - started)
    return new


def workspace_batch_process(*, workspace_id: int, messages: list[Message]) -> int:
    """Store one workspace's messages; returns how many were new. Retries on write conflicts."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _process(workspace_id, messages, alone=attempt > ALONE_AFTER)
        except (IntegrityError, DatabaseError) as error:
            if attempt == ATTEMPTS or not _retryable(error):
                raise
            logger.warning("batch for workspace %s conflicted (%s), retrying", workspace_id, error)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def _retryable(error: DatabaseError) -> bool:
    if isinstance(error, IntegrityError):
        return True
    # PostgreSQL serialization_failure / deadlock_detected.
    sqlstate = getattr(getattr(error, "__cause__", None), "sqlstate", None)
    return sqlstate in {"40001", "40P01"}


def _process(workspace_id: int, messages: list[Message], *, alone: bool = False) -> int:
    """Store one workspace's messages in the caller's transaction. `alone`: wait for the
    workspace's other storing batches and keep new ones out until COMMIT (a retry after
    collisions on the unique messageId: its dedupe read is then final)."""
    deleting = any(m.type == DELETE_TYPE for m in messages)
    if deleting:
        # A deletion has the workspace alone: no other batch may hold a person it erases.
        workspaces_lock([workspace_id])
    else:
        workspace_store_lock(workspace_id, alone=alone)
    unique: dict[str, Message] = {}
    for message in messages:
        unique.setdefault(message.message_id, message)
    stored = stored_message_ids(workspace_id, unique)
    new = [m for mid, m in unique.items() if mid not in stored]
    if not new:
        return 0
    if not deleting:
        # The people, new ids and groups the new messages touch. After the dedupe, so a batch
        # of duplicates (a sender's retry) locks nothing; a batch carrying one of our messages
        # that commits while we wait makes our event insert fail on the unique messageId, and
        # the retry skips that message. Its last read of the identities is the batch's load.
        return _write(workspace_id, new, loaded=batch_lock(workspace_id, new))
    written = 0
    # A Segment `delete` applies where it stands in the batch: the messages before it are stored
    # (and deleted with the person), those after it start afresh.
    for run, delete in deletes_apart(new):
        written += _write(workspace_id, run)
        if delete is not None:
            message_delete(message=delete)
    return written


def _write(workspace_id: int, new: list[Message], loaded: list[IdentityRow] | None = None) -> int:
    if not new:
        return 0
    batch = IdentityBatch(workspace_id, new)
    batch.load(loaded)
    applied = [batch.apply(m) for m in new]
    batch.save()
    # Only messages not stored yet reach here, under the lock.
    events_write(new, [a.identity for a in applied], [a.warnings for a in applied])
    return len(new)
