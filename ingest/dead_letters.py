"""Dead letters: what the worker could not store, kept for people, and "Store again".

The worker writes a message that fails alone (ingest/store.py) here with its error
(`dead_letter`); when even that fails (the message defeats the JSON encoder, the database refuses
it), a minimal record takes its place (`dead_letter_minimal`: source, workspace, messageId, the
reason and a short excerpt, in plain ASCII). Nothing is dropped silently. Only an outage of the
database (`database_down`) escapes, so that the records stay queued and are read again.

Storing again puts the messages back on the queue (Redis, else the inbox) exactly as a request
would, and deletes the dead letter in the same transaction, under its row lock, so that a letter
stored again twice (a double click, two admins) is queued once: the Status page and the admin's
action both do it here, so neither loads the worker's code (a drainer is woken through
ingest.wake). Every message keeps its messageId,
and a messageId is stored once per workspace, so storing again twice, or storing again a
message that did get stored meanwhile, still gives one event.
"""

import json
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from django.db import InterfaceError, OperationalError, connection, transaction

from core.messages import Message
from ingest import queue
from ingest.models import DeadLetter
from ingest.segment import EXCERPT_LENGTH, excerpt
from ingest.wake import drainer_wake

logger = logging.getLogger(__name__)

# Errors that may mean the database, not the data, is the problem.
RETRYABLE = (OperationalError, InterfaceError)
MINIMAL_FIELD_LENGTH = 255


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


def dead_letter(messages: Sequence[Message | Any], *, error: str, attempts: int) -> None:
    """Keep messages that cannot be stored, for admins; never raises but for a database outage.

    A `Message` is kept in its dict form (`as_dict()`, what "Store again" queues); a queued value
    that could not be read as one (ingest/older_records.py) as it was read.
    """
    if not messages:
        return
    kept = [m.as_dict() if isinstance(m, Message) else m for m in messages]
    logger.error("ingest: %d messages dead-lettered: %s", len(kept), error.splitlines()[-1:])
    try:
        _dead_letter_write(kept, error=error, attempts=attempts)
        return
    except Exception as exc:
        if database_down(exc):
            raise
        logger.exception("ingest: could not write a dead letter; keeping a minimal record")
    reason = (error.strip().splitlines() or ["unknown error"])[-1]
    for message in kept:
        dead_letter_minimal(message, reason=reason)


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


def _dead_letter_write(messages: list[Any], *, error: str, attempts: int) -> None:
    with transaction.atomic():
        DeadLetter.objects.create(messages=messages, error=error, attempts=attempts)


def _field(message: Any, key: str) -> Any:
    value = message.get(key) if isinstance(message, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return value if isinstance(value, int) else _printable(value)[:MINIMAL_FIELD_LENGTH]


def _printable(text: str) -> str:
    # ASCII with escapes: no NUL or lone surrogate can reach PostgreSQL.
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\x00", "\\x00")


def dead_letter_reason(letter: DeadLetter) -> str:
    """The error in one line: the last line of the traceback."""
    lines = (letter.error or "").strip().splitlines()
    return lines[-1][:300] if lines else "(no error recorded)"


def _encode(message: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(message)
    except orjson.JSONEncodeError:  # integers beyond 64 bits: the standard encoder keeps them
        return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


class NotStorable(Exception):
    """The dead letter keeps only an excerpt of its message: there is nothing to store again."""


def dead_letter_requeue(*, letter_id: int) -> int:
    """Queue a dead letter's messages again and delete it; returns how many were queued.

    Raises queue.QueueUnavailable when neither Redis nor the inbox can take them (the dead
    letter is kept then), and NotStorable for a minimal record (it is kept: queued, its excerpt
    would only be refused or dead-lettered again, and the excerpt is all anyone has of it).
    """
    with transaction.atomic():
        # The row lock makes a second click (another process, another admin) wait for this
        # one and then find the letter gone: it is queued once, not once per click.
        letter = DeadLetter.objects.select_for_update().filter(pk=letter_id).first()
        if letter is None:  # stored again already
            return 0
        if not dead_letter_storable(letter):
            raise NotStorable(letter_id)
        messages = [_encode(m) for m in letter.messages or []]
        # Deleted before it is queued: a delete that fails leaves nothing queued. A Redis entry
        # cannot roll back with the transaction, so only a failing COMMIT after the XADD leaves
        # the letter queued and kept (the messageIds keep that to one event each).
        letter.delete()
        wake = queue.enqueue(messages, [])
        if wake:
            transaction.on_commit(drainer_wake)
    return len(messages)


def dead_letter_storable(letter: DeadLetter) -> bool:
    """Whether the letter holds messages: a minimal record (`dead_letter_minimal`)
    keeps only an excerpt, so there is nothing to store again."""
    return not any(isinstance(m, dict) and m.get("minimal") for m in letter.messages or [])


def dead_letters_requeue(*, letter_ids: list[int]) -> tuple[int, int]:
    """Queue the storable letters' messages again (each as `dead_letter_requeue`).

    Returns (messages queued, letters kept because they hold only an excerpt). Raises
    queue.QueueUnavailable like `dead_letter_requeue`; letters queued before that are gone.
    """
    letters = DeadLetter.objects.filter(pk__in=letter_ids).order_by("pk")
    storable = [letter.pk for letter in letters if dead_letter_storable(letter)]
    queued = sum(dead_letter_requeue(letter_id=pk) for pk in storable)
    return queued, len(letter_ids) - len(storable)
