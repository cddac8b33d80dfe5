from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from core.paging import Cursor
from feed.models import Event
from feed.selectors import (
    FeedFilters,
    feed_event,
    feed_event_names,
    feed_page,
    feed_updates,
)

pytestmark = pytest.mark.django_db

VISIBLE = FeedFilters(show_hidden=False)
ALL = FeedFilters(show_hidden=True)


def names(events: list[Event]) -> list[str]:
    return [e.name for e in events]


def walk(workspace, filters: FeedFilters, limit: int) -> list[Event]:
    """Every page from the first through "Older" to the end."""
    seen: list[Event] = []
    page = feed_page(workspace=workspace, filters=filters, limit=limit)
    seen += page.events
    while page.older is not None:
        page = feed_page(
            workspace=workspace,
            filters=filters,
            before=Cursor.decode(page.older),
            upto=page.watermark,
            limit=limit,
        )
        seen += page.events
    return seen


def test_page_events_are_hidden_unless_asked(workspace, send):
    send("track", event="Signed Up")
    send("page", name="Pricing", properties={"title": "Pricing"})
    send("screen", name="Home")

    assert names(feed_page(workspace=workspace, filters=VISIBLE).events) == ["Home", "Signed Up"]
    assert names(feed_page(workspace=workspace, filters=ALL).events) == [
        "Home",
        "Pricing",
        "Signed Up",
    ]


def test_newest_first_by_event_timestamp_not_by_arrival(workspace, send):
    now = timezone.now()
    send("track", event="Late", timestamp=now - timedelta(hours=2))
    send("track", event="Recent", timestamp=now - timedelta(minutes=1))
    send("track", event="Old", timestamp=now - timedelta(days=3))

    assert names(feed_page(workspace=workspace, filters=VISIBLE).events) == [
        "Recent",
        "Late",
        "Old",
    ]


def test_older_pages_walk_every_event_once_even_with_equal_timestamps(workspace, send_many):
    sent = send_many(23)
    # Ties on the timestamp: the id breaks them, so none is skipped or repeated at a page edge.
    same = timezone.now() - timedelta(hours=1)
    Event.objects.filter(message_id__in=[m["message_id"] for m in sent[5:15]]).update(
        timestamp=same
    )

    seen = walk(workspace, VISIBLE, limit=4)

    assert len(seen) == 23
    assert {e.message_id for e in seen} == {m["message_id"] for m in sent}
    keys = [(e.timestamp, e.id) for e in seen]
    assert keys == sorted(keys, reverse=True)


def test_filters_combine_with_the_hidden_toggle_and_pagination(workspace, send_many, send):
    send_many(7, event="Order Completed")
    send_many(5, event="Clicked")
    send_many(6, type="page", event="Pricing")
    send("screen", name="Home")

    order = FeedFilters(show_hidden=False, name="Order Completed")
    assert names(walk(workspace, order, limit=3)) == ["Order Completed"] * 7

    pages_hidden = FeedFilters(show_hidden=False, type="page")
    assert walk(workspace, pages_hidden, limit=3) == []
    assert pages_hidden.hides_everything_asked

    pages_shown = FeedFilters(show_hidden=True, type="page")
    assert names(walk(workspace, pages_shown, limit=4)) == ["Pricing"] * 6

    screens = FeedFilters(show_hidden=True, type="screen", name="Home")
    assert names(walk(workspace, screens, limit=4)) == ["Home"]

    assert len(walk(workspace, ALL, limit=5)) == 19
    assert len(walk(workspace, VISIBLE, limit=5)) == 13


def test_poll_finds_a_late_event_whose_timestamp_is_older_than_the_page(workspace, send):
    now = timezone.now()
    send("track", event="Shown", timestamp=now)
    page = feed_page(workspace=workspace, filters=VISIBLE)
    assert names(page.events) == ["Shown"]

    # Delivered now, but it happened yesterday (a mobile SDK flushing its queue late).
    send("track", event="Delivered late", timestamp=now - timedelta(days=1))

    update = feed_updates(workspace=workspace, filters=VISIBLE, since=page.watermark)
    assert names(update.events) == ["Delivered late"]
    assert feed_updates(workspace=workspace, filters=VISIBLE, since=update.watermark).events == []


def test_poll_respects_filters_and_hidden(workspace, send):
    page = feed_page(workspace=workspace, filters=VISIBLE)
    send("page", name="Pricing")
    send("track", event="Clicked")
    send("track", event="Order Completed")

    visible = feed_updates(workspace=workspace, filters=VISIBLE, since=page.watermark)
    assert sorted(names(visible.events)) == ["Clicked", "Order Completed"]
    named = FeedFilters(show_hidden=True, name="Pricing")
    assert names(feed_updates(workspace=workspace, filters=named, since=page.watermark).events) == [
        "Pricing"
    ]


def test_rows_stored_while_the_page_is_read_are_left_to_the_poll(workspace, send):
    send("track", event="Before")
    page = feed_page(workspace=workspace, filters=VISIBLE)
    send("track", event="After")
    # A page cut at an old watermark does not show what the poll will bring.
    far = Cursor(moment=timezone.now() + timedelta(days=1), id=10**12)
    again = feed_page(workspace=workspace, filters=VISIBLE, before=far, upto=page.watermark)
    assert names(again.events) == ["Before"]
    update = feed_updates(workspace=workspace, filters=VISIBLE, since=page.watermark)
    assert names(update.events) == ["After"]


def test_poll_in_chunks_resumes_without_gap_or_repeat(workspace, send_many):
    start = feed_page(workspace=workspace, filters=VISIBLE).watermark
    sent = send_many(9)
    after, seen = start, []
    while True:
        update = feed_updates(workspace=workspace, filters=VISIBLE, since=after, limit=4)
        if not update.events:
            break
        seen += update.events
        after = update.watermark
    assert sorted(e.message_id for e in seen) == sorted(m["message_id"] for m in sent)


def test_other_workspaces_events_never_show(workspace, other_workspace, send):
    mine = send("track", event="Mine")
    theirs = send("track", event="Theirs", into=other_workspace, user_id="x")
    page = feed_page(workspace=workspace, filters=ALL)
    assert names(page.events) == ["Mine"]
    assert names(feed_updates(workspace=workspace, filters=ALL, since=0).events) == ["Mine"]
    assert feed_event_names(workspace=workspace) == ["Mine"]
    their_event = Event.objects.get(message_id=theirs["message_id"])
    assert feed_event(workspace=workspace, event_id=their_event.pk) is None
    assert feed_event(workspace=other_workspace, event_id=their_event.pk) is not None
    assert mine


def test_event_names_are_distinct_and_sorted(workspace, send_many, send):
    send_many(4, event="Signed Up")
    send_many(3, event="Clicked")
    send("identify", traits={"email": "a@example.com"})
    send("page", name="Pricing")
    assert feed_event_names(workspace=workspace) == ["Clicked", "Pricing", "Signed Up"]


@pytest.mark.parametrize(
    "value",
    ["", "nope", "12", "x.1", "1.y", "99999999999999999999999.1", "1.-5", "1." + "9" * 20, "1.²"],
)
def test_malformed_cursor_means_first_page(value):
    assert Cursor.decode(value) is None


def test_cursor_round_trips():
    when = timezone.now()
    assert Cursor.decode(Cursor(moment=when, id=42).encode()) == Cursor(moment=when, id=42)


def test_filters_from_the_url_ignore_unknown_types():
    filters = FeedFilters.from_query(
        QueryDict("type=<script>&name=+Order+&hidden=1"), default_show_hidden=False
    )
    assert filters == FeedFilters(show_hidden=True, type="", name="Order")
    assert FeedFilters.from_query(QueryDict(""), default_show_hidden=True).show_hidden
