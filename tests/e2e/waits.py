"""Waits the browser tests share."""

from playwright.sync_api import expect


def settled(page) -> None:
    """Wait until htmx has no request in flight and has finished swapping. New content is wired
    up (hx- attributes processed) when it settles: at once in Windsor (templates/base.html sets no
    settle delay), else a moment after it appears, and acting on it sooner sends a plain browser
    request instead of htmx's, or nothing."""
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    expect(page.locator(busy)).to_have_count(0)
