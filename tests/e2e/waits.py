"""Waits the browser and live-server tests share."""

import time

from playwright.sync_api import expect

from feed.models import Event

WAIT_SECONDS = 60


def stored_ids(workspace) -> list[str]:
    return list(Event.objects.filter(workspace=workspace).values_list("message_id", flat=True))


def wait_for_events(workspace, count: int) -> list[str]:
    """The stored message ids once `count` events are there (or whatever is there at the end)."""
    deadline = time.monotonic() + WAIT_SECONDS
    ids = stored_ids(workspace)
    while len(ids) < count and time.monotonic() < deadline:
        time.sleep(0.2)
        ids = stored_ids(workspace)
    # A little longer, so that a duplicate arriving late would be seen.
    time.sleep(0.5)
    return stored_ids(workspace)


def settled(page) -> None:
    """Wait until htmx has no request in flight and has finished swapping. New content is wired
    up (hx- attributes processed) when it settles: at once in Windsor (templates/base.html sets no
    settle delay), else a moment after it appears, and acting on it sooner sends a plain browser
    request instead of htmx's, or nothing."""
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    expect(page.locator(busy)).to_have_count(0)
