"""The Sources page's reads: the workspace's sources, each with its last few rejections."""

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from accounts.models import RejectedMessage, Source, Workspace

RECENT_REJECTIONS = 5


def sources_with_recent_rejections(
    workspace: Workspace, *, limit: int = RECENT_REJECTIONS
) -> list[Source]:
    """The workspace's sources, each with `recent_rejections`: its newest `limit` rejections.

    Two queries. The rejections are numbered per source in the database (ROW_NUMBER over the
    `rejected_source_recent` index) and only the first `limit` of each are read, where a
    prefetch would read every rejection kept for every source to show five."""
    sources = list(Source.objects.for_workspace(workspace))
    newest = (
        RejectedMessage.objects.filter(source__in=[s.pk for s in sources])
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("source_id")],
                order_by=[F("received_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=limit)
        .order_by("source_id", "rank")
    )
    by_source: dict[int, list[RejectedMessage]] = {s.pk: [] for s in sources}
    for rejection in newest if sources else []:
        by_source[rejection.source_id].append(rejection)
    for source in sources:
        source.recent_rejections = by_source[source.pk]
    return sources
