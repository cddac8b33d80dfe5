"""The activity charts in Chromium: drawn as SVG with the rollups' numbers in each bar's title."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from core.charts import hour_label
from ingest.segment import message_parse
from ingest.store import batch_process, batch_store
from people.models import Person
from tests.factories import stored_message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # tests/people/conftest.py's minute 0
KINDS = ["track", "track", "track", "page", "page", "identify", "screen"]


def minute_of(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 60)


def seed(workspace, source) -> datetime:
    """A day of traffic for Ada, and 60 days of a few events a day, through the real store."""
    now = datetime.now(UTC)
    messages = []
    for hours_ago in range(24):
        for n in range((hours_ago * 7) % 11 + 1):
            kind = KINDS[(hours_ago + n) % len(KINDS)]
            moment = now - timedelta(hours=hours_ago, minutes=n)
            messages.append(
                stored_message(
                    workspace,
                    kind,
                    user_id="ada",
                    event="Clicked",
                    name="Home",
                    traits={"name": "Ada Lovelace"},
                    minute=minute_of(moment),
                )
            )
    for days_ago in range(1, 60, 2):
        moment = now - timedelta(days=days_ago)
        for n in range(days_ago % 5 + 1):
            messages.append(
                stored_message(
                    workspace,
                    "track",
                    anonymous_id="ada-phone",
                    event="Opened",
                    minute=minute_of(moment) + n,
                )
            )
    messages.append(
        stored_message(
            workspace, "alias", previous_id="ada-phone", user_id="ada", minute=minute_of(now)
        )
    )
    batch_process(messages)
    parsed = [
        message_parse(
            {"type": "track", "event": "E", "userId": "u", "messageId": f"s{n}"},
            workspace_id=workspace.pk,
            source_id=source.pk,
            received_at=now - timedelta(hours=n % 20, days=n % 9),
        )
        for n in range(120)
    ]
    rejections = [
        {
            "source_id": source.pk,
            "received_at": (now - timedelta(hours=n)).isoformat(),
            "index": 0,
            "reason": "bad",
            "excerpt": "{}",
        }
        for n in range(0, 24, 3)
    ]
    batch_store(parsed, rejections)
    return now


def test_the_charts_draw_the_rollups(logged_in_page, live_server, workspace, issued, screenshot):
    now = seed(workspace, issued.source)
    page = logged_in_page
    this_hour = hour_label(now.replace(minute=0, second=0, microsecond=0))

    page.goto(f"{live_server.url}/feed/?hidden=1")
    feed = page.locator("#feed-chart")
    expect(feed.locator("svg[role=img]")).to_be_visible()
    expect(feed.locator("g.chart-slot")).to_have_count(24)
    # This hour: Ada's track call, the alias, and the source's first message.
    expect(feed.locator("g.chart-slot title").last).to_have_text(
        f"{this_hour}: 3 events (Track 2, Alias 1)"
    )
    shown = sum(
        int(t)
        for t in feed.locator("g.chart-slot").evaluate_all(
            "slots => slots.map(s => s.dataset.total)"
        )
    )
    label = feed.locator("svg").get_attribute("aria-label")
    assert label.startswith(f"Events per hour over the last 24 hours: {shown:,} in total")
    screenshot(page, "glance-feed-chart")

    person = Person.objects.for_workspace(workspace).current().get(identities__value="ada")
    page.goto(f"{live_server.url}/people/{person.pk}/")
    chart = page.locator("#person-chart")
    expect(chart.locator("svg[role=img]")).to_be_visible()
    expect(chart.locator("g.chart-slot")).to_have_count(90)
    # Three days ago: the merged phone's events (days_ago 3: 4 events), under the survivor.
    three_days = (now - timedelta(days=3)).strftime("%a %d %b %Y")
    expect(chart.locator("g.chart-slot title", has_text=three_days)).to_have_text(
        f"{three_days}: 4 events"
    )
    # The numbers table opens without JavaScript's help (a <details>).
    chart.locator("summary").click()
    expect(chart.locator("table tbody tr", has_text=three_days)).to_contain_text("4")
    screenshot(page, "glance-person-chart")

    page.goto(f"{live_server.url}/sources/")
    mine = page.locator(f'[data-source-id="{issued.source.pk}"]')
    expect(mine.locator("svg[role=img]")).to_have_count(2)
    expect(mine.locator("figure").first.locator("title").last).to_contain_text("Rejected 1")
    screenshot(page, "glance-sources-chart")
