"""The activity charts next to each other at the People section's two sizes (1k and 1M people,
with 20 events for one person in a hundred and a heavy person of 100,000 events): the charts read
the rollups only, so their cost must not grow with the events. Times the chart builders (their
one query and the SVG layout) and the rendered chart template, median of 15.
"""

import statistics
import time
from collections.abc import Callable

from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone

from bench import people as people_bench
from feed.charts import feed_chart, person_chart
from feed.models import Event
from people.models import Person

REPETITIONS = 15


def run(argv: list[str]) -> list[str]:
    if connection.vendor != "postgresql":
        return ["skipped: needs PostgreSQL (set DATABASE_URL)"]
    sizes = people_bench._sizes(argv)
    call_command("migrate", verbosity=0)
    base, big = sizes[0], sizes[-1]
    cases: dict[int, dict[str, Callable[[], object]]] = {}
    lines = []
    for size in sizes:
        workspace, _ = people_bench._workspace(size, reseed=False)
        # The bench's data is dated around its fixed NOW: draw the charts as of then.
        now = people_bench.NOW
        heavy = Person.objects.for_workspace(workspace).get(email=people_bench.HEAVY_EMAIL)
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
    lines.append(f"{'chart (median of 15)':<44}{people_bench._label(base):>10}"
                 f"{people_bench._label(big):>10}  ratio")  # fmt: skip
    for name in cases[base]:
        times = {size: [] for size in (base, big)}
        for size in (base, big):
            cases[size][name]()  # warm-up
        for _ in range(REPETITIONS):
            for size in (base, big):
                start = time.perf_counter()
                cases[size][name]()
                times[size].append(time.perf_counter() - start)
        a, b = (statistics.median(times[s]) * 1000 for s in (base, big))
        lines.append(f"{name:<44}{a:>8.1f}ms{b:>8.1f}ms  {b / a:>5.2f}")
    lines.append(f"(drawn as of {timezone.localtime(people_bench.NOW):%Y-%m-%d %H:%M})")
    return lines


def _drawn(chart) -> str:
    return render_to_string("charts/_bar_chart.html", {"chart": chart})
