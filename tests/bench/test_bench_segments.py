"""The segments bench section's harness at a tiny scale (bench/segments.py): its step seeds what
the filters need once (another run adds nothing), the per-day counts equal the events, every
filter finds people, and the section prints a line per filter with its ratios."""

import pytest
from django.db import connection
from django.db.models import Sum

from bench import people as people_bench
from bench.segments import FILTERS, NOW, measure, segments_seed
from feed.models import Event, EventDayCount
from segments.filters import filter_parse
from segments.query import people_count

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the step VACUUMs, which a transaction refuses
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the bench needs PostgreSQL"),
]

PEOPLE, EVENTS = 300, 5_000


def test_the_segments_step_seeds_once_and_every_filter_finds_people():
    workspace, _ = people_bench._workspace(PEOPLE, reseed=False)

    lines = segments_seed(workspace, people=PEOPLE, events=EVENTS)

    events = Event.objects.for_workspace(workspace)
    assert events.count() == EVENTS, lines
    tracks = events.filter(type="track").count()
    counted = EventDayCount.objects.for_workspace(workspace).aggregate(n=Sum("n"))["n"]
    assert counted == tracks
    orders = events.filter(name="Order Completed")
    assert orders.filter(timestamp__lt=NOW.replace(day=1)).exists()  # spread over 60 days
    assert segments_seed(workspace, people=PEOPLE, events=EVENTS) == [
        f"{EVENTS:,} events in the workspace"
    ]
    for label, conditions in FILTERS.items():
        tree = filter_parse({"op": "and", "conditions": conditions})
        found = people_count(workspace=workspace, filter=tree, now=NOW)
        assert 0 < found.n < PEOPLE, label


def test_the_section_prints_a_line_per_filter_with_both_ratios():
    workspace, _ = people_bench._workspace(PEOPLE, reseed=False)
    segments_seed(workspace, people=PEOPLE, events=EVENTS)

    lines = measure(workspace, repeat=1)

    assert "baseline" in lines[1]
    for label in FILTERS:
        [line] = [line for line in lines if line[:48].rstrip() == label]
        assert line.count("ms") == 2 and line.count("x ") == 2, line
    assert lines[-1].startswith("goals:")
