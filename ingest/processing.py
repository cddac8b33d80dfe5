"""The worker's side of ingest: store queued records, keep the sources' counters, drain.

Storing is `ingest.services.batch_process` (one transaction for many events). Around it:

- A batch that fails while the database is unreachable is retried as is: its records stay
  unacknowledged in the stream or locked in the inbox. Only then: an operational error from a
  database that still answers (a limit some message hit) is the data's fault, like any other.
- A batch that fails for any other reason is retried one message at a time, so one poison message
  does not take the others down; a message that still fails goes to ingest.DeadLetter with its
  error, for admins. When even that write fails (the message cannot be encoded, say), a minimal
  dead letter takes its place: source, workspace, messageId, the reason and a short excerpt.
  Nothing is dropped silently, and nothing a message does can keep the records behind it waiting.
- The queue hands over `Message` values built from the edge's envelopes (ingest.queue.Records),
  and an older server's records as dicts (`Message.as_dict()`). A dict is read here, once, where
  the batch starts (`_older_decoded`): nested deeper than the edge allows, it is refused by the
  same rule (`segment.too_deep`) and logged on its source like the edge's rejections (unless it
  carries a `NESTING_CHECKED` mark `segment.nesting_trusted` accepts); if it cannot be decoded it
  is dead-lettered alone, and the rest of its batch is stored together. Everything after works on
  Messages; the dict form is written again only into dead letters.
- Rejected messages (validated away in the request) become accounts.RejectedMessage rows and
  bump Source.rejected_count; stored batches bump accepted_count and last_received_at with one
  UPDATE per source per batch. The request path never writes these.
"""

import logging
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.activity import source_activity_add
from accounts.models import RejectedMessage, Source, Workspace
from accounts.services import source_log_trim
from core.locks import workspaces_lock
from core.messages import Message, message_decode
from ingest import queue
from ingest.models import DeadLetter, InboxBatch
from ingest.queue import Records
from ingest.segment import (
    EXCERPT_LENGTH,
    NESTING_CHECKED,
    excerpt,
    nesting_trusted,
    too_deep,
    too_deep_reason,
)
from ingest.services import batch_process
from people.deletion import DELETE_TYPE
from people.suppression import messages_unsuppressed

logger = logging.getLogger(__name__)

# Errors worth retrying the same batch for later: the database, not the data, is the problem.
RETRYABLE = (OperationalError, InterfaceError)
MINIMAL_FIELD_LENGTH = 255
INBOX_ROWS_PER_BATCH = 20
# Whole-batch attempts when PostgreSQL picks the batch as a deadlock's victim.
DEADLOCK_ATTEMPTS = 3


def rejections_record(rejections: list[dict[str, Any]]) -> None:
    if not rejections:
        return
    counts: dict[int, int] = defaultdict(int)
    rows = []
    for r in rejections:
        counts[r["source_id"]] += 1
        rows.append(
            RejectedMessage(
                source_id=r["source_id"],
                received_at=datetime.fromisoformat(r["received_at"]),
                index=r.get("index"),
                reason=r["reason"][:1000],
                excerpt=r.get("excerpt", ""),
            )
        )
    existing = set(Source.objects.filter(pk__in=counts).values_list("pk", flat=True))
    RejectedMessage.objects.bulk_create([row for row in rows if row.source_id in existing])
    source_activity_add(
        rejected=[(r.source_id, r.received_at) for r in rows if r.source_id in existing]
    )
    for source_id, count in sorted(counts.items()):
        Source.objects.filter(pk=source_id).update(rejected_count=F("rejected_count") + count)
        source_log_trim(source_id)


def sources_count_accepted(messages: list[Message]) -> None:
    accepted = [(m.source_id, m.received_at) for m in messages if m.source_id is not None]
    per_source: dict[int, list[Any]] = {}
    for source_id, received_at in accepted:
        entry = per_source.setdefault(source_id, [0, received_at])
        entry[0] += 1
        entry[1] = max(entry[1], received_at)
    source_activity_add(accepted=accepted)
    # In source order: two batches updating the same sources lock them in the same order.
    for source_id, (count, received) in sorted(per_source.items()):
        Source.objects.filter(pk=source_id).update(
            accepted_count=F("accepted_count") + count,
            # Batches can be stored out of order; the newest receipt wins.
            last_received_at=Greatest(Coalesce("last_received_at", Value(received)), received),
        )


def _still_owned(messages: list[Message]) -> list[Message]:
    """The messages whose workspace still exists; a deleted source's messages lose the source.

    Without this, a workspace or source deleted while its messages waited in the queue would
    make the whole batch fail on a foreign key.
    """
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


def _store(messages: list[Message], *, nested: bool, savepoint: bool = True) -> None:
    """Store messages in a transaction of their own or a savepoint (`nested`: the caller's is
    the inbox's). No savepoint when the caller's transaction holds only this batch anyway."""
    with transaction.atomic(savepoint=savepoint):
        messages = _still_owned(messages)
        # Under the workspace locks (free when records_store took them), before any Source row:
        # a deletion with suppression committed by now applies to this batch.
        _workspaces_lock(messages)
        messages = messages_unsuppressed(messages)
        if not messages:
            return
        batch_process(messages)
        if nested and connection.vendor == "postgresql":
            # Foreign keys are checked at COMMIT. When this batch's transaction is the outermost
            # one, a violation there fails this batch alone (records_store then goes one by one)
            # and costs no extra pass. Inside the inbox's transaction it would fail that whole
            # transaction, every time: checked here, it fails this batch's savepoint instead.
            connection.check_constraints()
        # Last: every batch of a source adds to the same counter rows, whose locks are held
        # until COMMIT; taken at the end, batches of one source overlap in everything else.
        sources_count_accepted(messages)


def _workspaces_lock(messages: list[Message]) -> None:
    """The workspace locks for these messages: shared, so that batches of one workspace run at
    once (people/locking.py locks what they share), and exclusive where a Segment `delete` is
    among them, as it erases people other batches may hold. In sorted order, before any other
    row (core/locks.py)."""
    workspaces = {m.workspace_id for m in messages}
    deleting = {m.workspace_id for m in messages if m.type == DELETE_TYPE}
    workspaces_lock(deleting, shared=workspaces)


def _deadlocked(error: BaseException) -> bool:
    """PostgreSQL's deadlock_detected or serialization_failure, however Django wrapped it."""
    cause: BaseException | None = error
    for _ in range(5):  # Django's wrapper, then psycopg's error
        if cause is None:
            break
        if getattr(cause, "sqlstate", None) in {"40P01", "40001"}:
            return True
        cause = cause.__cause__
    return False


def database_down(error: BaseException) -> bool:
    """Whether `error` means the database, not the data, is the problem: retry the batch later.

    An operational error from a database that still answers (PostgreSQL's "stack depth limit
    exceeded", say) would otherwise be retried forever on the same message.
    """
    if not isinstance(error, RETRYABLE):
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return True
    return False


def _queued_too_deep(message: Any) -> bool:
    """The edge's depth rule on an older record's message: on its raw JSON as sent (the queued
    dict wraps it one level down; every other field is a part of it). A forged deeper field
    elsewhere is still caught, by the store failing and the dead letter's fallbacks.

    A dict marked as checked (`NESTING_CHECKED`, at a limit `nesting_trusted` accepts) is not
    walked again. Messages built from an envelope never come here: `segment.queued_messages`
    applies the rule to them unless the envelope says the edge did."""
    if isinstance(message, dict) and nesting_trusted(message.get(NESTING_CHECKED)):
        return False
    raw = message.get("raw", message) if isinstance(message, dict) else message
    return too_deep(raw)


def _older_decoded(
    values: list[Message | Any],
) -> tuple[list[Message], list[dict[str, Any]], list[tuple[Any, str]]]:
    """The batch's messages as `Message` values; rejections for the older records' messages the
    depth rule refuses; and those that cannot be decoded, with their error, to dead-letter alone.

    Messages built from an envelope pass as they are: each is decoded only here or there, once.
    """
    messages: list[Message] = []
    refused: list[dict[str, Any]] = []
    undecodable: list[tuple[Any, str]] = []
    for m in values:
        if isinstance(m, Message):
            messages.append(m)
            continue
        if _queued_too_deep(m):
            refused.append(_too_deep_rejection(m))
            continue
        try:
            messages.append(message_decode(m))
        except Exception:  # whatever no edge writes (a forged or broken record): its own letter
            undecodable.append((m, traceback.format_exc()))
    return messages, refused, undecodable


def _too_deep_rejection(m: Any) -> dict[str, Any]:
    logger.warning("ingest: refused a message nested too deeply (queued by an older server)")
    source_id = m.get("source_id") if isinstance(m, dict) else None
    received_at = m.get("received_at") if isinstance(m, dict) else None
    return {
        "source_id": source_id if isinstance(source_id, int) else None,
        "received_at": _isoformat_or_now(received_at),
        "index": None,
        "reason": too_deep_reason(),
        "excerpt": excerpt(m.get("raw", m) if isinstance(m, dict) else m),
    }


def _isoformat_or_now(value: Any) -> str:
    try:
        return datetime.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        return timezone.now().isoformat()


def _rejections_log(rejections: list[dict[str, Any]]) -> None:
    """The source log of refused messages; a courtesy, so its own failure only gets logged."""
    try:
        with transaction.atomic():
            rejections_record(rejections)
    except Exception as exc:
        if database_down(exc):
            raise
        logger.exception("ingest: could not log %d rejections", len(rejections))


def records_store(records: Records) -> None:
    """Store a batch of queued records; only errors of an unreachable database escape."""
    messages, refused, undecodable = _older_decoded(records.messages)
    rejections = records.rejections + refused
    for text in records.unreadable:
        dead_letter_minimal(None, reason="The queued record cannot be read as JSON.", raw=text)
    _messages_store(messages, rejections)
    # After the batch: had the database gone away meanwhile, the batch is read again and these
    # with it, so they are dead-lettered once.
    for message, error in undecodable:
        dead_letter([message], error=error, attempts=1)


def _messages_store(messages: list[Message], rejections: list[dict[str, Any]]) -> None:
    """Store the batch whole, else one message at a time (each that fails: a dead letter)."""
    nested = connection.in_atomic_block
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                # Workspace locks before any Source row: batch_process takes them and then
                # counts on the sources, so taking them in the other order could deadlock.
                _workspaces_lock(messages)
                if messages:
                    _store(messages, nested=nested, savepoint=False)
                rejections_record(rejections)
            return
        except Exception as exc:
            if database_down(exc):
                raise
            if attempt < DEADLOCK_ATTEMPTS and _deadlocked(exc):
                # Two batches met on counter rows in different orders (a source's accepted
                # and rejected counts): the whole batch again, not one message at a time.
                logger.warning("ingest: batch deadlocked (%s), retrying", exc)
                continue
            first_error = traceback.format_exc()
            logger.exception(
                "ingest: batch of %d messages failed; retrying one by one", len(messages)
            )
            break
    _rejections_log(rejections)
    if len(messages) == 1:
        dead_letter(messages, error=first_error, attempts=1)
        return
    for message in messages:
        try:
            _store([message], nested=nested)
        except Exception as exc:
            if database_down(exc):
                raise
            dead_letter([message], error=traceback.format_exc(), attempts=2)


def records_store_chunked(records: Records) -> None:
    """`records_store` in transactions of at most settings.INGEST_BATCH_SIZE messages, grouped
    by workspace.

    Requests of many workspaces interleave in the stream, and each workspace in a transaction
    costs the whole per-batch round of reads and locks (ingest/services.py): 500 messages of
    four workspaces cost four rounds of 125. Grouped (a stable sort: each workspace's messages
    keep their order), a read of a few batches' worth makes batches of mostly one workspace.
    """
    size = settings.INGEST_BATCH_SIZE
    messages = sorted(records.messages, key=_workspace_of)
    for start in range(0, max(len(messages), 1), size):
        chunk = messages[start : start + size]
        first = start == 0
        records_store(
            Records(
                chunk,
                records.rejections if first else [],
                records.unreadable if first else [],
            )
        )


def _workspace_of(message: Message | Any) -> int:
    """A queued message's workspace, to group by: a `Message`'s, or an older record's (a dict).
    Anything but a workspace id (a forged record) sorts first; its batch dead-letters it."""
    if isinstance(message, Message):
        return message.workspace_id
    workspace_id = message.get("workspace_id") if isinstance(message, dict) else None
    return workspace_id if type(workspace_id) is int else -1


def _dead_letter_write(messages: list[Any], *, error: str, attempts: int) -> None:
    with transaction.atomic():
        DeadLetter.objects.create(messages=messages, error=error, attempts=attempts)


def dead_letter(messages: list[Message | Any], *, error: str, attempts: int) -> None:
    """Keep messages that cannot be stored, for admins; never raises but for a database outage.

    A `Message` is kept in its dict form (`as_dict()`, what "Store again" queues); an older
    record's value as it was read. When the messages themselves cannot be written (they defeat
    the JSON encoder, or the database refuses them), each leaves a minimal record instead.
    """
    if not messages:
        return
    messages = [m.as_dict() if isinstance(m, Message) else m for m in messages]
    logger.error("ingest: %d messages dead-lettered: %s", len(messages), error.splitlines()[-1:])
    try:
        _dead_letter_write(messages, error=error, attempts=attempts)
        return
    except Exception as exc:
        if database_down(exc):
            raise
        logger.exception("ingest: could not write a dead letter; keeping a minimal record")
    reason = (error.strip().splitlines() or ["unknown error"])[-1]
    for message in messages:
        dead_letter_minimal(message, reason=reason)


def _field(message: Any, key: str) -> Any:
    value = message.get(key) if isinstance(message, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return value if isinstance(value, int) else _printable(value)[:MINIMAL_FIELD_LENGTH]


def _printable(text: str) -> str:
    # ASCII with escapes: no NUL or lone surrogate can reach PostgreSQL.
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\x00", "\\x00")


def dead_letter_minimal(message: Any, *, reason: str, raw: str | None = None) -> None:
    """The last resort for a message nothing else could keep: who sent it, its id, why, and an
    excerpt, in plain ASCII. If even this fails (and the database still answers), it is logged."""
    record = {
        "minimal": True,
        "source_id": _field(message, "source_id"),
        "workspace_id": _field(message, "workspace_id"),
        "message_id": _field(message, "message_id"),
        "excerpt": _printable(raw if raw is not None else excerpt(message))[:EXCERPT_LENGTH],
    }
    try:
        _dead_letter_write([record], error=_printable(reason)[:1000], attempts=1)
    except Exception as exc:
        if database_down(exc):
            raise
        logger.exception("ingest: lost a message that could not be stored: %s", record)


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
    # Reads of a few batches' worth, so that records_store_chunked can group them by workspace.
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
            records_store(Records(rejections=records.rejections, unreadable=records.unreadable))
            dead_letter(
                records.messages,
                error="Workers were lost repeatedly while storing these messages.",
                attempts=settings.INGEST_MAX_DELIVERIES,
            )
        else:
            records_store_chunked(records)
        queue.stream_ack(client, batch.ids)
        total += len(records)
        per_entry = max(1, len(records.messages) // len(batch.ids))
        count = max(1, min(wanted, wanted // per_entry))
        batch = queue.Batch(ids=[], records=Records())
        if time.monotonic() > deadline:
            return total, True


def inbox_drain(*, deadline: float) -> tuple[int, bool]:
    """Store what requests wrote to the inbox while Redis was away."""
    total = 0
    while True:
        with queue.inbox_locked(INBOX_ROWS_PER_BATCH) as (ids, records):
            if not ids:
                return total, False
            records_store_chunked(records)
            InboxBatch.objects.filter(pk__in=ids).delete()
            total += len(records)
        if time.monotonic() > deadline:
            return total, True


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
