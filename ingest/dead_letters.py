"""Dead letters for people: what went wrong, and "store again" through the normal pipeline.

Storing again puts the messages back on the queue (Redis, else the inbox) exactly as a request
would, and deletes the dead letter in the same transaction, under its row lock, so that a letter
stored again twice (a double click, two admins) is queued once: the Status page and the admin's
action both do it here, so neither loads the worker's code (a drainer is woken through
ingest.wake). Every message keeps its messageId,
and a messageId is stored once per workspace, so storing again twice, or storing again a
message that did get stored meanwhile, still gives one event.
"""

import json
from typing import Any

import orjson
from django.db import transaction

from ingest import queue
from ingest.models import DeadLetter
from ingest.wake import drainer_wake


def dead_letter_reason(letter: DeadLetter) -> str:
    """The error in one line: the last line of the traceback."""
    lines = (letter.error or "").strip().splitlines()
    return lines[-1][:300] if lines else "(no error recorded)"


def _encode(message: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(message)
    except orjson.JSONEncodeError:  # integers beyond 64 bits: the standard encoder keeps them
        return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def dead_letter_requeue(*, letter_id: int) -> int:
    """Queue a dead letter's messages again and delete it; returns how many were queued.

    Raises queue.QueueUnavailable when neither Redis nor the inbox can take them (the dead
    letter is kept then).
    """
    with transaction.atomic():
        # The row lock makes a second click (another process, another admin) wait for this
        # one and then find the letter gone: it is queued once, not once per click.
        letter = DeadLetter.objects.select_for_update().filter(pk=letter_id).first()
        if letter is None:  # stored again already
            return 0
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
    """Whether the letter holds messages: a minimal record (ingest.processing.dead_letter_minimal)
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
