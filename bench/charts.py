"""The activity charts next to each other at two sizes: they read the rollups only, so their cost
must not grow with the events. Two pairs:
- the People section's workspaces (1k and 1M people, with 20 events for one person in a hundred
  and a heavy person of 100,000 events): the Feed chart and the heavy person's chart;
- the Feed section's workspaces (10k and 10M events, over a year, one source): the Feed chart,
  a person's chart and the Sources charts (run the feed section first to seed them).
Times the chart builders (their queries and the SVG layout) and the rendered chart template,
median of 15, the sizes taking turns.
"""

import statistics
import time
from collections.abc import Callable
from datetime import datetime

from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.activity import source_activity, source_charts
from accounts.models import Source, Workspace
from bench import feed as feed_bench
from bench import people as people_bench
from feed.charts import FEED_HOURS, PERSON_DAYS, feed_chart, person_chart
from feed.models import Event
from feed.rollups import feed_activity, person_activity
from people.models import Person

REPETITIONS = 15

Cases = dict[str, Callable[[], object]]


def run(argv: list[str]) -> list[str]:
    if connection.vendor != "postgresql":
        return ["skipped: needs PostgreSQL (set DATABASE_URL)"]
    call_command("migrate", verbosity=0)
    lines = _people_pair(argv)
    lines += _feed_pair(argv)
    return lines


def _people_pair(argv: list[str]) -> list[str]:
    sizes = people_bench._sizes(argv)
    base, big = sizes[0], sizes[-1]
    cases: dict[int, Cases] = {}
    lines = []
    for size in (base, big):
        workspace, _ = people_bench._workspace(size, reseed=False)
        # The bench's data is dated around its fixed NOW: draw the charts as of then.
        now = people_bench.NOW
        heavy = Person.objects.get(pk=people_bench._heavy_person(workspace))
        events = Event.objects.for_workspace(workspace).count()
        lines.append(f"{size:>9,} people, {events:,} events")
        cases[size] = {
            "Feed chart (24 h by type)": lambda w=workspace, n=now: _drawn(
                feed_chart(workspace=w, now=n)
            ),
            "Person chart, 100,000 events (90 days)": lambda w=workspace, p=heavy, n=now: _drawn(
                person_chart(workspace=w, person=p, now=n)
            ),
        }
    lines += _compare(people_bench._label(base), people_bench._label(big), cases[base], cases[big])
    lines.append(f"(drawn as of {timezone.localtime(people_bench.NOW):%Y-%m-%d %H:%M})")
    return lines


def _feed_pair(argv: list[str]) -> list[str]:
    options = feed_bench._options(argv)
    names = [f"{feed_bench.PREFIX}{size}" for size in (options.small, options.scale)]
    workspaces = {w.name: w for w in Workspace.objects.filter(name__in=names)}
    if len(workspaces) != 2:
        return [f"{names} not seeded: run the feed section first"]
    cases: list[Cases] = []
    lines = []
    for name in names:
        workspace = workspaces[name]
        events = Event.objects.for_workspace(workspace)
        last = events.order_by("-timestamp", "-id").first()
        # The seed ends when it ran: draw as of its newest event, so every chart has bars.
        now = last.timestamp
        person = last.identity.person
        sources = list(Source.objects.filter(workspace=workspace).order_by("pk"))
        drawn = _drawn(feed_chart(workspace=workspace, now=now))
        lines.append(
            f"{name}: {events.count():,} events, {len(sources)} source(s),"
            f" drawn as of {timezone.localtime(now):%Y-%m-%d %H:%M};"
            f" the Feed chart has {drawn.count('<rect')} rects"
        )
        cases.append(
            {
                "Feed chart (24 h by type)": lambda w=workspace, n=now: _drawn(
                    feed_chart(workspace=w, now=n)
                ),
                "Person chart (90 days)": lambda w=workspace, p=person, n=now: _drawn(
                    person_chart(workspace=w, person=p, now=n)
                ),
                "Sources charts (24 h and 30 days)": lambda w=workspace, s=sources, n=now: (
                    _sources_drawn(w, s, n)
                ),
                # The rollup reads alone: the drawing above costs one bar segment per non-empty
                # (hour, type), which a sparse small workspace has fewer of (bounded at 24 x 7).
                "  its query: Feed rollup, 24 h": lambda w=workspace, n=now: feed_activity(
                    workspace=w, now=n, hours=FEED_HOURS
                ),
                "  its query: person rollup, 90 days": lambda w=workspace, p=person, n=now: (
                    person_activity(workspace=w, person=p, now=n, days=PERSON_DAYS)
                ),
                "  its query: Sources rollup": lambda w=workspace, s=sources, n=now: (
                    source_activity(workspace=w, sources=s, now=n)
                ),
            }
        )
    small, big = (f"{n:,}" for n in (options.small, options.scale))
    return lines + _compare(small, big, *cases)


def _compare(small: str, big: str, a: Cases, b: Cases) -> list[str]:
    lines = [f"{f'chart (median of {REPETITIONS})':<44}{small:>12}{big:>12}  ratio"]
    for name in a:
        pair = (a[name], b[name])
        times: tuple[list[float], list[float]] = ([], [])
        for case in pair:
            case()  # warm-up
        for _ in range(REPETITIONS):
            for i, case in enumerate(pair):
                start = time.perf_counter()
                case()
                times[i].append(time.perf_counter() - start)
        ms_a, ms_b = (statistics.median(t) * 1000 for t in times)
        lines.append(f"{name:<44}{ms_a:>10.1f}ms{ms_b:>10.1f}ms  {ms_b / ms_a:>5.2f}")
    return lines


def _drawn(chart) -> str:
    return render_to_string("charts/_bar_chart.html", {"chart": chart})


def _sources_drawn(workspace: Workspace, sources: list[Source], now: datetime) -> list[str]:
    charts = source_charts(workspace=workspace, sources=sources, now=now)
    return [_drawn(chart) for pair in charts.values() for chart in pair]
