"""The charts show the rollups' numbers: in each bar's <title>, the SVG's summary and the table."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from core.charts import bar_chart, hour_label
from ingest.segment import message_parse
from ingest.store import batch_process, batch_store
from people.models import Person
from tests.factories import stored_message

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # tests/people/conftest.py's minute 0


def minute_of(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 60)


def titles(html: str, chart_id: str) -> list[str]:
    chart = html[html.index(f'id="{chart_id}"') :]
    chart = chart[: chart.index("</svg>")]
    return re.findall(r"<title>([^<]+)</title>", chart)


def test_the_feed_chart_counts_events_per_hour_by_type(owner_client, workspace):
    hour = NOW.replace(minute=0, second=0, microsecond=0)
    at = minute_of(hour)
    batch_process(
        [
            stored_message(
                workspace, "track", user_id="u", event="E", minute=at, message_id=f"t{i}"
            )
            for i in range(3)
        ]
        + [stored_message(workspace, "page", user_id="u", name="Home", minute=at, message_id="p")]
        + [stored_message(workspace, "identify", user_id="u", minute=at - 120, message_id="i")]
    )

    html = owner_client.get(reverse("feed:list"), {"hidden": "0"}).content.decode()

    bars = titles(html, "feed-chart")
    assert len(bars) == 24
    assert bars[-1] == f"{hour_label(hour)}: 4 events (Track 3, Page 1)"
    assert bars[-3] == f"{hour_label(hour - timedelta(hours=2))}: 1 event (Identify 1)"
    assert 'role="img" aria-label="Events per hour over the last 24 hours: 5 in total' in html


def test_the_person_chart_sums_every_id_of_the_person(owner_client, workspace):
    day = (NOW - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    at = minute_of(day)
    batch_process(
        [
            stored_message(workspace, "track", anonymous_id="anon", event="E", minute=at),
            stored_message(workspace, "track", user_id="u", event="E", minute=at + 1),
            stored_message(workspace, "alias", previous_id="anon", user_id="u", minute=at + 2),
        ]
    )
    [person] = Person.objects.for_workspace(workspace).current()

    html = owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()

    bars = titles(html, "person-chart")
    assert len(bars) == 90
    assert f"{day.strftime('%a %d %b %Y')}: 3 events" in bars
    assert "Events per day over the last 90 days: 3 in total" in html


def test_source_charts_show_accepted_and_rejected(owner_client, issued):
    received = NOW.replace(microsecond=0)
    parsed = [
        message_parse(
            {"type": "track", "event": "E", "userId": "u", "messageId": f"m{n}"},
            workspace_id=issued.source.workspace_id,
            source_id=issued.source.pk,
            received_at=received,
        )
        for n in range(2)
    ]
    rejection = {"source_id": issued.source.pk, "received_at": received.isoformat(),
                 "index": 0, "reason": "bad", "excerpt": "{}"}  # fmt: skip
    batch_store(parsed, [rejection])

    html = owner_client.get(reverse("sources:list")).content.decode()

    hour = received.replace(minute=0, second=0)
    assert f"<title>{hour_label(hour)}: 3 messages (Accepted 2, Rejected 1)</title>" in html
    day = hour.strftime("%a %d %b %Y")
    assert f"<title>{day}: 3 messages (Accepted 2, Rejected 1)</title>" in html


def test_charts_never_count_the_event_table(
    owner_client, workspace, issued, django_assert_max_num_queries
):
    batch_process(
        [stored_message(workspace, "track", user_id="u", event="E", minute=minute_of(NOW))]
    )
    person = Person.objects.for_workspace(workspace).get()
    for url in (
        reverse("feed:list") + "?hidden=0",
        reverse("people:detail", args=[person.pk]),
        reverse("sources:list"),
    ):
        with django_assert_max_num_queries(20) as queries:
            owner_client.get(url)
        chart_reads = [q["sql"] for q in queries.captured_queries if "activity" in q["sql"]]
        assert chart_reads, url
        assert not any('"feed_event"' in sql for sql in chart_reads), url


def test_a_quiet_slot_still_shows_and_every_nonzero_value_gets_a_pixel():
    chart = bar_chart(
        what="per hour",
        unit="events",
        series=[("events", "Events")],
        slots=[("a", {"events": 0}), ("b", {"events": 1}), ("c", {"events": 10_000})],
    )
    assert [s.title for s in chart.slots] == ["a: 0 events", "b: 1 event", "c: 10,000 events"]
    assert [len(s.rects) for s in chart.slots] == [0, 1, 1]
    assert chart.slots[1].rects[0].height == 1
    assert chart.summary == "Events per hour: 10,001 in total, most at c (10,000)."
