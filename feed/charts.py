"""The Feed's and a person's activity charts, read from the rollups (feed/rollups.py): one small
query each, whatever the number of events."""

from datetime import datetime

from accounts.models import Workspace
from core.charts import Chart, bar_chart, day_label, hour_label, last_days, last_hours
from core.rollup import hour_of
from feed.models import Event
from feed.rollups import feed_activity, person_activity
from people.models import Person

FEED_HOURS = 24
PERSON_DAYS = 90


def feed_chart(*, workspace: Workspace, now: datetime) -> Chart:
    """Events per hour over the last 24 hours, stacked by type."""
    counts = feed_activity(workspace=workspace, now=now, hours=FEED_HOURS)
    kinds = list(Event.Type.choices)
    hours = last_hours(hour_of(now), FEED_HOURS)
    return bar_chart(
        what=f"per hour over the last {FEED_HOURS} hours",
        unit="events",
        series=kinds,
        slots=[(hour_label(h), {k: counts.get((h, k), 0) for k, _ in kinds}) for h in hours],
        bar_width=14,
    )


def person_chart(*, workspace: Workspace, person: Person, now: datetime) -> Chart:
    """A person's events per day over the last 90 days (all their ids)."""
    counts = person_activity(workspace=workspace, person=person, now=now, days=PERSON_DAYS)
    days = last_days(hour_of(now).date(), PERSON_DAYS)
    return bar_chart(
        what=f"per day over the last {PERSON_DAYS} days",
        unit="events",
        series=[("events", "Events")],
        slots=[(day_label(d), {"events": counts.get(d, 0)}) for d in days],
        bar_width=5,
    )
