"""The sources' activity rollup: messages accepted and rejected per source and hour received.

The worker adds to it in the transaction that stores the messages (accepted) or logs their
rejections (rejected), one statement per batch (core/rollup.py). The Sources page's charts read
only these rows, never the events or the rejection log (which keeps only the newest rejections).
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncDate

from accounts.models import Source, SourceActivity, Workspace
from core.charts import Chart, bar_chart, day_label, hour_label, last_days, last_hours
from core.rollup import counts_add, hour_of


def source_activity_add(
    *, accepted: Iterable[tuple[int, datetime]] = (), rejected: Iterable[tuple[int, datetime]] = ()
) -> None:
    """Count messages: (source id, received at) pairs, accepted or rejected. One statement."""
    counts: Counter = Counter()
    for source_id, received in accepted:
        counts[(source_id, hour_of(received), 0)] += 1
    for source_id, received in rejected:
        counts[(source_id, hour_of(received), 1)] += 1
    rows: dict[tuple, list[int]] = {}
    for (source_id, hour, kind), n in counts.items():
        rows.setdefault((source_id, hour), [0, 0])[kind] += n
    counts_add(
        SourceActivity,
        keys=("source", "hour"),
        counts=("accepted", "rejected"),
        rows={key: tuple(values) for key, values in rows.items()},
    )


def source_activity(
    *, workspace: Workspace, sources: list[Source], now: datetime
) -> dict[int, dict[str, dict]]:
    """Per source id: {"hours": {hour: (accepted, rejected)}} for the last 24 hours and
    {"days": {date: (accepted, rejected)}} for the last 30 days. Two queries for all sources."""
    this_hour = hour_of(now)
    rows = SourceActivity.objects.for_workspace(workspace).filter(source__in=sources)
    hours = rows.filter(hour__gte=this_hour - timedelta(hours=23)).values_list(
        "source_id", "hour", "accepted", "rejected"
    )
    days = (
        rows.filter(hour__gte=this_hour.replace(hour=0) - timedelta(days=29))
        .annotate(day=TruncDate("hour"))
        .values("source_id", "day")
        .annotate(a=Sum("accepted"), r=Sum("rejected"))
        .values_list("source_id", "day", "a", "r")
    )
    out: dict[int, dict[str, dict]] = {s.pk: {"hours": {}, "days": {}} for s in sources}
    for source_id, hour, a, r in hours:
        out[source_id]["hours"][hour_of(hour)] = (a, r)
    for source_id, day, a, r in days:
        out[source_id]["days"][day if isinstance(day, date) else day.date()] = (a, r)
    return out


SOURCE_SERIES = [("accepted", "Accepted"), ("rejected", "Rejected")]


def source_charts(
    *, workspace: Workspace, sources: list[Source], now: datetime
) -> dict[int, tuple[Chart, Chart]]:
    """Per source id: (messages per hour over the last 24 hours, per day over the last 30)."""
    activity = source_activity(workspace=workspace, sources=sources, now=now)
    hours = last_hours(hour_of(now), 24)
    days = last_days(hour_of(now).date(), 30)
    charts = {}
    for source in sources:
        mine = activity[source.pk]
        charts[source.pk] = (
            bar_chart(
                what="per hour over the last 24 hours",
                unit="messages",
                series=SOURCE_SERIES,
                slots=[(hour_label(h), _pair(mine["hours"].get(h))) for h in hours],
                bar_width=8,
            ),
            bar_chart(
                what="per day over the last 30 days",
                unit="messages",
                series=SOURCE_SERIES,
                slots=[(day_label(d), _pair(mine["days"].get(d))) for d in days],
                bar_width=6,
            ),
        )
    return charts


def _pair(counts: tuple[int, int] | None) -> dict[str, int]:
    accepted, rejected = counts or (0, 0)
    return {"accepted": accepted, "rejected": rejected}
