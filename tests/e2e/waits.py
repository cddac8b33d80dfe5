"""Waits the browser tests share."""

from playwright.sync_api import expect


def settled(page) -> None:
    """Wait until htmx has finished swapping: new content is wired up (hx- attributes
    processed) only when it settles, a moment after it appears. Acting on it sooner sends a
    plain browser request instead of htmx's, or nothing."""
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    expect(page.locator(busy)).to_have_count(0)
