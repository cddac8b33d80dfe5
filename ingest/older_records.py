"""Messages queued in the dict form (`Message.as_dict()`) instead of an edge's envelope.

Servers at 0.1.0 queued every message so, and "Store again" queues a dead letter's messages so
(ingest/dead_letters.py). The queue's reader (ingest/queue.py `records_add`) hands each such dict
here, once, and the rest of the worker only ever sees `Message` values: a dict nested deeper than
the edge allows is refused by the same rule (`segment.too_deep`) and logged on its source like
the edge's rejections, unless it carries a `NESTING_CHECKED` mark `segment.nesting_trusted`
accepts; one that cannot be decoded is dead-lettered alone, after its batch is stored.

Delete this module, its call in ingest/queue.py and `NESTING_CHECKED` once every server is at
0.2 or later and "Store again" queues envelopes (segment.queued_record) rather than dicts: no
queue then holds the dict form.
"""

import logging
import traceback
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from core.messages import message_decode
from ingest.segment import excerpt, nesting_trusted, too_deep, too_deep_reason

if TYPE_CHECKING:
    from ingest.queue import Records

logger = logging.getLogger(__name__)

# The key of a queued message dict that says the depth rule was applied to it, and at which limit:
# {"nesting_checked": 64}. Workers before `queued_messages` built `Message` values set it on the
# dicts they derived from an envelope, and such a dict comes back when its dead letter is stored
# again (a sender cannot add keys there: its message is nested under "raw"). The envelope itself
# says the same in its "nesting" field. Either is trusted only as `nesting_trusted` says.
NESTING_CHECKED = "nesting_checked"


def older_message_add(records: "Records", value: Any) -> None:
    """Add a queued dict to `records`: its `Message`, else a rejection (too deep), else the value
    and its error to dead-letter alone (`records.undecodable`)."""
    if _too_deep(value):
        records.rejections.append(_too_deep_rejection(value))
        return
    try:
        records.messages.append(message_decode(value))
    except Exception:  # whatever no edge writes (a forged or broken record): its own letter
        records.undecodable.append((value, traceback.format_exc()))


def _too_deep(message: Any) -> bool:
    """The edge's depth rule on the message's raw JSON as sent (the dict wraps it one level down;
    every other field is a part of it). A forged deeper field elsewhere is still caught, by the
    store failing and the dead letter's fallbacks. A dict marked as checked is not walked again."""
    if isinstance(message, dict) and nesting_trusted(message.get(NESTING_CHECKED)):
        return False
    raw = message.get("raw", message) if isinstance(message, dict) else message
    return too_deep(raw)


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
