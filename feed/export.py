"""The Feed as CSV: the events the Feed's filters select (feed/selectors.py), newest first, read
in keyset batches and streamed (core/csv_stream.py)."""

import json
from collections.abc import Iterator

from accounts.models import Workspace
from core.paging import keyset_batches
from feed.selectors import FeedFilters, feed_events, feed_watermark

EXPORT_BATCH_SIZE = 500
EVENTS_CSV_HEADER = [
    "id",
    "timestamp",
    "received_at",
    "type",
    "name",
    "id_value",
    "id_kind",
    "person_id",
    "person_name",
    "person_email",
    "hidden",
    "message_id",
    "source_id",
    "properties",
]


def events_csv_rows(
    *, workspace: Workspace, filters: FeedFilters, batch_size: int | None = None
) -> Iterator[list[list]]:
    """Batches of CSV rows (lists of cells), one query each, cut at the events stored when the
    export began: a busy workspace's export ends instead of chasing new arrivals."""
    if filters.hides_everything_asked:
        return
    watermark = feed_watermark(workspace=workspace)
    events = feed_events(workspace=workspace, filters=filters).filter(id__lte=watermark)
    for batch in keyset_batches(
        events, moment_field="timestamp", nullable=False, size=batch_size or EXPORT_BATCH_SIZE
    ):
        yield [_row(event) for event in batch]


def _row(event) -> list:
    identity = event.identity
    person = identity.person if identity else None
    return [
        event.pk,
        event.timestamp.isoformat(),
        event.received_at.isoformat(),
        event.type,
        event.name,
        identity.value if identity else "",
        identity.kind if identity else "",
        person.pk if person else "",
        (person.name or "") if person else "",
        (person.email or "") if person else "",
        event.hidden,
        event.message_id,
        event.source_id or "",
        json.dumps(event.properties, ensure_ascii=False, sort_keys=True),
    ]
