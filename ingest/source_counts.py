"""What a source's page shows of the worker's work: its counts, last receipt and rejection log.

Stored batches bump Source.accepted_count and last_received_at with one UPDATE per source per
batch; rejected messages (validated away in the request) become accounts.RejectedMessage rows and
bump Source.rejected_count. The request path never writes these: the worker does, in the batch's
transaction (ingest/store.py), last, in source order.
"""

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest

from accounts.activity import source_activity_add
from accounts.models import RejectedMessage, Source
from accounts.services import source_log_trim
from core.messages import Message
from ingest.dead_letters import database_down

logger = logging.getLogger(__name__)


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


def rejections_log(rejections: list[dict[str, Any]]) -> None:
    """The rejections alone, when their batch failed: a courtesy, so its own failure is only
    logged."""
    try:
        with transaction.atomic():
            rejections_record(rejections)
    except Exception as exc:
        if database_down(exc):
            raise
        logger.exception("ingest: could not log %d rejections", len(rejections))


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
