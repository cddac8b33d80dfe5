"""Segments at scale: each filter of issue 25's list, its first People page and its count, next
to the unfiltered People first page measured in the same run (the goal: a page within 3x, a
count within 10x or an estimate).

Reuses the people section's workspace of `--people=N` people (default 1M; seeded by
bench/people.py if absent, the same seed) and adds, in one idempotent segments step:
- an industry trait on its groups (UPDATE; the people already have plan and emails at 97 domains);
- tracks over the 60 days before the seed's clock from two people in five ("Order Completed" one
  in four of them), until the workspace holds `--events=M` events (default 10M), generated in
  PostgreSQL (INSERT ... SELECT), the event table's indexes rebuilt once above a million rows;
- the per-day event counts (feed.EventDayCount) of the workspace's events, from the events.
The other sections do not read these additions. `--segments-repeat=N` (default 7) runs per
figure; the median counts.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import Workspace
from bench import feed as feed_bench
from bench import people as people_bench
from bench.rollups import rollups_fill
from core.paging import keyset_page
from feed.models import Event, EventDayCount
from feed.rollups import DAY_COUNTED
from people.selectors import LIST_COLUMNS, PEOPLE_PAGE_SIZE, PeopleFilters, people_page
from segments.filters import filter_parse
from segments.query import people_count, people_matching

NOW = people_bench.NOW
SPAN_DAYS = 60
INDUSTRIES = ("Software", "Retail", "Finance", "Health", "Education")
EVENT_NAMES = ("Order Completed", "Product Viewed", "Added to Cart", "Checkout Started")
PAGE_GOAL = 3.0
COUNT_GOAL = 10.0
# One in how many people sends the added tracks (ACTIVE_OF of them): two in five.
ACTIVE_EVERY, ACTIVE_OF = 5, 2

PRO = {"field": "trait", "key": "plan", "operator": "equals", "value": "Pro"}
DOMAIN = {"field": "email_domain", "operator": "equals", "value": "example5.com"}
SLIPPING = {"field": "last_seen", "operator": "not_within_days", "value": 14}
ORDERS = {
    "field": "event", "name": "Order Completed", "operator": "at_least", "value": 3, "days": 30,
    "where": None,
}  # fmt: skip
INDUSTRY = {"field": "group_trait", "key": "industry", "operator": "equals", "value": "Finance"}
FILTERS = {
    "plan = Pro": [PRO],
    "email domain = example5.com": [DOMAIN],
    "last seen more than 14 days ago": [SLIPPING],
    "did Order Completed >= 3 times in 30 days": [ORDERS],
    "group industry = Finance": [INDUSTRY],
    "plan = Pro AND Order Completed >= 3 in 30 days": [PRO, ORDERS],
}


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench segments", add_help=False)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--segments-repeat", type=int, default=7)
    options, _ = parser.parse_known_args(argv)
    return options


def _log(text: str) -> None:
    print(f"  [segments] {text}", file=sys.stderr, flush=True)


def run(argv: list[str]) -> list[str]:
    if connection.vendor != "postgresql":
        return ["skipped: needs PostgreSQL (set DATABASE_URL)"]
    call_command("migrate", verbosity=0)
    options = _options(argv)
    workspace, seeded_in = people_bench._workspace(options.people, reseed=False)
    lines = [
        f"{options.people:,} people: "
        + (f"seeded in {seeded_in:.1f} s" if seeded_in else "reused the people section's seed")
    ]
    lines += segments_seed(workspace, people=options.people, events=options.events)
    lines += measure(workspace, repeat=options.segments_repeat)
    return lines


# --- The segments step of the seed -----------------------------------------------------------


def segments_seed(workspace: Workspace, *, people: int, events: int) -> list[str]:
    """Add what the filters need to the people section's seed; each part only once."""
    lines = []
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_group SET traits = traits || jsonb_build_object('industry', "
            "(%s::text[])[1 + substring(group_id from 5)::int %% %s]) "
            "WHERE workspace_id = %s AND group_id LIKE 'grp\\_%%' AND NOT traits ? 'industry'",
            [list(INDUSTRIES), len(INDUSTRIES), workspace.pk],
        )
        if cursor.rowcount:
            lines.append(f"industry trait set on {cursor.rowcount:,} groups")
    held = Event.objects.for_workspace(workspace).count()
    missing = events - held
    if missing > 0:
        began = time.perf_counter()
        _events_add(workspace, people=people, count=missing, held=held)
        lines.append(f"added {missing:,} tracks in {time.perf_counter() - began:.0f} s")
        held = events
    lines.append(f"{held:,} events in the workspace")
    began = time.perf_counter()
    if day_counts_fill(workspace, refill=missing > 0):
        lines.append(f"filled the per-day event counts in {time.perf_counter() - began:.0f} s")
    return lines


def _events_add(workspace: Workspace, *, people: int, count: int, held: int) -> None:
    """`count` tracks from the active people (user ids usr_<i>, i % ACTIVE_EVERY < ACTIVE_OF),
    each sending a varying number (half to one and a half times the mean), at times spread over
    the SPAN_DAYS before NOW. Their message ids carry the count held before (`held`), so a later
    top-up never repeats one."""
    active = people * ACTIVE_OF // ACTIVE_EVERY
    # A tenth over the mean, so that the LIMIT, not the people, ends the rows.
    mean = max(1, -(-count * 11 // (active * 10)))
    given = [
        "workspace_id", "identity_id", "type", "name", "properties", "context", "message_id",
        "timestamp", "received_at", "hidden", "raw", "warnings",
    ]  # fmt: skip
    extra, _ = feed_bench._defaults(Event, given)
    defaults = {f.column: f.get_default() for f in Event._meta.concrete_fields}
    # The other columns' defaults as literals (% doubled: the statement has named parameters).
    extra_sql = ", ".join(_sql_value(defaults[c]).replace("%", "%%") for c in extra)
    columns = ", ".join(connection.ops.quote_name(c) for c in given + extra)
    span = SPAN_DAYS * 86_400
    # Person i's count: mean/2 + (i * 7919 mod mean+1), i.e. mean on average; the j-th event of
    # a person at a pseudo-random second of the span; the name cycles with j (and i).
    sql = f"""
        INSERT INTO feed_event ({columns})
        SELECT %(ws)s, identity.id, 'track', (%(names)s::text[])[1 + (person.i + n) %% 4],
               '{{"revenue": 10}}'::jsonb, '{{}}'::jsonb,
               'seg-' || %(run)s || '-' || person.i || '-' || n,
               moment, moment, false, '{{}}'::jsonb, '[]'::jsonb
               {", " + extra_sql if extra else ""}
        FROM (
            SELECT value, substring(value from 5)::bigint AS i FROM people_identity
            WHERE workspace_id = %(ws)s AND kind = 'user' AND value ~ '^usr_[0-9]+$'
        ) AS person
        JOIN people_identity identity
          ON identity.workspace_id = %(ws)s AND identity.value = person.value
        CROSS JOIN LATERAL generate_series(
            0, %(mean)s / 2 + (person.i * 7919) %% (%(mean)s + 1) - 1) AS n
        CROSS JOIN LATERAL (
            SELECT %(now)s::timestamptz
                   - make_interval(secs => ((person.i * 104729 + n * 15485863) %% %(span)s))
                   AS moment
        ) AS at
        WHERE person.i %% {ACTIVE_EVERY} < {ACTIVE_OF}
        LIMIT %(count)s
    """
    params: dict[str, Any] = {
        "ws": workspace.pk, "names": list(EVENT_NAMES), "mean": mean, "now": NOW, "span": span,
        "count": count, "run": held,
    }  # fmt: skip
    _log(f"adding {count:,} tracks ({mean} per active person on average)")
    with (
        feed_bench._indexes_rebuilt(count > feed_bench.REBUILD_INDEXES_ABOVE),
        connection.cursor() as cursor,
    ):
        feed_bench._replication_role(cursor, "replica")
        try:
            with transaction.atomic():
                cursor.execute(sql, params)
        finally:
            feed_bench._replication_role(cursor, "origin")
    rollups_fill(workspace.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE feed_event")


def _sql_value(value: object) -> str:
    text = feed_bench._copy_value(value)
    if text == "\\N":
        return "NULL"
    return "'" + text.replace("'", "''") + "'"


def day_counts_fill(workspace: Workspace, *, refill: bool) -> bool:
    """The per-day counts of the workspace's events (what the worker keeps up as it stores them,
    feed/rollups.py), computed from the events when absent or after events were added: the seed
    COPYs events past the worker. True when filled now."""
    counts = EventDayCount.objects.for_workspace(workspace)
    if not refill and counts.exists():
        return False
    table = EventDayCount._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        counts.delete()
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, identity_id, name, day, n) "
            "SELECT workspace_id, identity_id, name, (timestamp AT TIME ZONE 'UTC')::date, "
            "count(*) FROM feed_event WHERE workspace_id = %s AND identity_id IS NOT NULL "
            "AND type = %s GROUP BY 1, 2, 3, 4",
            [workspace.pk, DAY_COUNTED],
        )
    with connection.cursor() as cursor:
        # VACUUM as well: the behaviour reads are index-only scans, which need the visibility
        # map that autovacuum would have set on a table filled over time.
        cursor.execute(f"VACUUM ANALYZE {table}")
    return True


# --- Measuring ----------------------------------------------------------------------------------


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(workspace: Workspace, *, repeat: int) -> list[str]:
    def unfiltered() -> object:
        return people_page(workspace=workspace, filters=PeopleFilters()).rows

    def page_of(tree: Any) -> Callable[[], object]:
        def fetch() -> object:
            people = people_matching(workspace=workspace, filter=tree, now=NOW)
            return keyset_page(
                people.select_related("group").only(*LIST_COLUMNS),
                moment_field="last_seen",
                nullable=True,
                size=PEOPLE_PAGE_SIZE,
                after=None,
                before=None,
            ).rows

        return fetch

    def count_of(tree: Any) -> Callable[[], object]:
        return lambda: people_count(workspace=workspace, filter=tree, now=NOW)

    lines = [
        f"{'filter (median of ' + str(repeat) + ')':<48}{'page':>10}{'ratio':>9}"
        f"{'count':>15}{'ratio':>9}      people"
    ]
    base_times: list[float] = []
    for label, conditions in FILTERS.items():
        tree = filter_parse({"op": "and", "conditions": conditions})
        page, count = page_of(tree), count_of(tree)
        page(), count(), unfiltered()  # warm-up
        pages, counts = [], []
        for _ in range(repeat):
            # Baseline and filter take turns, so load from elsewhere hits both alike.
            base_times.append(_timed(unfiltered))
            pages.append(_timed(page))
            counts.append(_timed(count))
        base = statistics.median(base_times)
        found = count()
        p, c = statistics.median(pages), statistics.median(counts)
        shown = f"{found.n:,}" if found.exact else f"about {found.n:,}"
        page_ok = "ok" if p / base <= PAGE_GOAL else "MISS"
        count_ok = "ok" if c / base <= COUNT_GOAL or not found.exact else "MISS"
        lines.append(
            f"{label:<48}{p * 1000:>8.1f}ms{p / base:>8.1f}x {page_ok:<4}"
            f"{c * 1000:>8.1f}ms{c / base:>8.1f}x {count_ok:<4} {shown}"
        )
    lines.insert(
        1, f"{'unfiltered People first page (the baseline)':<48}"
        f"{statistics.median(base_times) * 1000:>8.1f}ms"
    )  # fmt: skip
    lines.append(f"goals: page <= {PAGE_GOAL:g}x the baseline, count <= {COUNT_GOAL:g}x or 'about'")
    return lines
