"""The event rollups: counts of events per workspace, type and hour, and per identity, type and
hour, that the charts read instead of the event table (so a chart costs the same at 10M events as
at 10k); and the track events per identity, event name and day (EventDayCount) that behaviour
conditions read (feed/behaviour.py).

Rules, stated once:
- Only `rollups_add` writes them, in `events_write`'s transaction, which gets new messages only.
- The hour is the event's timestamp, in UTC, and the day its UTC date; person charts and
  behaviour conditions sum their identities' rows.
- Deleting events calls `rollups_forget_events` first, in the same transaction.

Design: docs/design/feed.md
"""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncHour

from accounts.models import Workspace
from core.rollup import counts_add, hour_of
from feed.models import Event, EventDayCount, IdentityActivity, WorkspaceActivity
from people.models import Identity, Person

# The one event type the day counts hold, by event name: behaviour is what people track.
DAY_COUNTED = "track"


def rollups_add(events: Iterable[dict[str, Any]]) -> None:
    """Count event rows (dicts by attname, as events_write inserts them): three statements."""
    per_workspace: Counter = Counter()
    per_identity: Counter = Counter()
    per_day: Counter = Counter()
    for event in events:
        hour = hour_of(event["timestamp"])
        workspace_id, identity_id = event["workspace_id"], event["identity_id"]
        per_workspace[(workspace_id, hour, event["type"])] += 1
        if identity_id is not None:
            per_identity[(workspace_id, identity_id, hour, event["type"])] += 1
            if event["type"] == DAY_COUNTED:
                per_day[(workspace_id, identity_id, event["name"], hour.date())] += 1
    _counts_add(per_workspace, per_identity, per_day)


def rollups_forget_events(events: QuerySet, *, identities_kept: bool = True) -> None:
    """Subtract events about to be deleted (call it before the delete, in its transaction): one
    read that groups them by rollup key in the database, then one statement per table.
    `identities_kept=False`: their identities are deleted too, and with them (CASCADE) the
    per-identity rows, hourly and daily; only the workspace's rows are subtracted."""
    keys = ["workspace_id", "type", "hour_key"]
    if identities_kept:
        keys += ["identity_id", "name"]
    grouped = (
        events.order_by()
        .annotate(hour_key=TruncHour("timestamp"))
        .values(*keys)
        .annotate(n=Count("id"))
    )
    per_workspace: Counter = Counter()
    per_identity: Counter = Counter()
    per_day: Counter = Counter()
    for row in grouped:
        workspace_id, kind, hour, n = row["workspace_id"], row["type"], row["hour_key"], row["n"]
        hour = hour_of(hour)
        per_workspace[(workspace_id, hour, kind)] -= n
        identity_id = row.get("identity_id")
        if identity_id is not None:
            per_identity[(workspace_id, identity_id, hour, kind)] -= n
            if kind == DAY_COUNTED:
                per_day[(workspace_id, identity_id, row["name"], hour.date())] -= n
    _counts_add(per_workspace, per_identity, per_day)


def rollups_forget_identities(
    sender: object, *, identities: QuerySet[Identity], **kwargs: object
) -> None:
    """Subtract the events of identities about to be erased: people.signals.person_erasing's
    receiver (feed.apps connects it), run in the erasure's transaction before the identities and
    their events are deleted. Their per-identity rows go with them (CASCADE)."""
    rollups_forget_events(Event.objects.filter(identity__in=identities), identities_kept=False)


def _counts_add(per_workspace: Counter, per_identity: Counter, per_day: Counter) -> None:
    # The identities' rows first: only batches that share a person (and wait for each other on
    # it anyway) write the same ones. Every batch of a workspace writes its hour's rows and holds
    # them until COMMIT, so those come last, to hold them for as short a time as possible.
    counts_add(
        IdentityActivity,
        keys=("workspace", "identity", "hour", "type"),
        conflict=("identity", "hour", "type"),
        counts=("n",),
        rows={key: (n,) for key, n in per_identity.items()},
    )
    counts_add(
        EventDayCount,
        keys=("workspace", "identity", "name", "day"),
        conflict=("identity", "name", "day"),
        counts=("n",),
        rows={key: (n,) for key, n in per_day.items()},
    )
    counts_add(
        WorkspaceActivity,
        keys=("workspace", "hour", "type"),
        counts=("n",),
        rows={key: (n,) for key, n in per_workspace.items()},
    )


# --- Reads for the charts ---------------------------------------------------------------------


def feed_activity(*, workspace: Workspace, now: datetime, hours: int = 24) -> dict[tuple, int]:
    """{(hour, type): events} for the last `hours` hours, this hour included: one query over at
    most hours x types rows."""
    start = hour_of(now) - timedelta(hours=hours - 1)
    rows = (
        WorkspaceActivity.objects.for_workspace(workspace)
        .filter(hour__gte=start, n__gt=0)
        .values_list("hour", "type", "n")
    )
    return {(hour_of(hour), kind): n for hour, kind, n in rows}


def person_activity(
    *, workspace: Workspace, person: Person, now: datetime, days: int = 90
) -> dict[Any, int]:
    """{day (a date, UTC): events} of a person over the last `days` days: their identities' rows,
    summed per day by the database."""
    start = hour_of(now).replace(hour=0) - timedelta(days=days - 1)
    identities = Identity.objects.for_workspace(workspace).filter(person=person).values("pk")
    rows = (
        IdentityActivity.objects.for_workspace(workspace)
        .filter(identity__in=identities, hour__gte=start)
        .annotate(day=TruncDate("hour"))
        .values("day")
        .annotate(total=Sum("n"))
        .values_list("day", "total")
    )
    return {day: total for day, total in rows if total}


def events_counted(workspace: Workspace) -> dict[str, Counter]:
    """The rollups recounted from the event table: for tests and checks, never for a page."""
    events = Event.objects.for_workspace(workspace)
    per_workspace: Counter = Counter()
    per_identity: Counter = Counter()
    per_day: Counter = Counter()
    rows = events.values_list("timestamp", "type", "identity_id", "name")
    for timestamp, kind, identity_id, name in rows:
        per_workspace[(hour_of(timestamp), kind)] += 1
        if identity_id is not None:
            per_identity[(identity_id, hour_of(timestamp), kind)] += 1
            if kind == DAY_COUNTED:
                per_day[(identity_id, name, hour_of(timestamp).date())] += 1
    return {"workspace": per_workspace, "identity": per_identity, "day": per_day}


def rollups_counted(workspace: Workspace) -> dict[str, Counter]:
    """The rollups as stored, in the shape of events_counted (zero rows left out)."""
    per_workspace = Counter(
        {
            (hour_of(hour), kind): n
            for hour, kind, n in WorkspaceActivity.objects.for_workspace(workspace)
            .filter(n__gt=0)
            .values_list("hour", "type", "n")
        }
    )
    per_identity = Counter(
        {
            (identity_id, hour_of(hour), kind): n
            for identity_id, hour, kind, n in IdentityActivity.objects.for_workspace(workspace)
            .filter(n__gt=0)
            .values_list("identity_id", "hour", "type", "n")
        }
    )
    per_day = Counter(
        {
            (identity_id, name, day): n
            for identity_id, name, day, n in EventDayCount.objects.for_workspace(workspace)
            .filter(n__gt=0)
            .values_list("identity_id", "name", "day", "n")
        }
    )
    return {"workspace": per_workspace, "identity": per_identity, "day": per_day}
