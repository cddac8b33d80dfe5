"""The Feed after real SDK calls: segment-analytics-python -> ingest -> Redis -> Celery worker.

The page is open before anything is sent, so every row here arrives through the live poll.
"""

import re
import time

import pytest
from playwright.sync_api import expect
from segment.analytics import Client

from feed.models import Event
from tests.e2e.waits import settled

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]

# The worker shares two cores with the browser and the server: give a row time to get through.
ARRIVAL_MS = 30_000
XSS_EVENT = '<img src=x onerror="window.__xss=1">Plan Chosen'
XSS_PROP = '"><script>window.__xss=2</script>'


@pytest.fixture
def sdk(live_server, issued):
    errors: list = []
    client = Client(
        write_key=issued.token,
        host=live_server.url,
        sync_mode=True,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    yield client
    assert errors == []


def stored(workspace, **filters) -> Event:
    """The event once the worker has stored it (the SDK's reply only says it was queued)."""
    deadline = time.monotonic() + ARRIVAL_MS / 1000
    while time.monotonic() < deadline:
        event = Event.objects.filter(workspace=workspace, **filters).first()
        if event is not None:
            return event
        time.sleep(0.2)
    raise AssertionError(f"no event {filters} stored within {ARRIVAL_MS} ms")


def row(page, text: str):
    return page.locator("#feed-rows .event", has_text=text)


def polls(page, count: int) -> None:
    for _ in range(count):
        with page.expect_response(lambda r: "/feed/new/" in r.url, timeout=ARRIVAL_MS):
            pass


def test_sdk_events_arrive_live_with_page_views_hidden_until_asked(
    logged_in_page, live_server, celery_worker, sdk, workspace, screenshot
):
    page = logged_in_page
    page.goto(f"{live_server.url}/feed/")
    page.wait_for_url(re.compile(r"/feed/\?hidden=0$"))
    page.evaluate("window.__same_document = true")

    sdk.identify("user-123", {"name": "John Doe", "email": "john@example.com"})
    sdk.track("user-123", "Order Completed", {"revenue": 42.5, "currency": "EUR"})
    sdk.page("user-123", "Docs", "Pricing", {"title": "Pricing", "path": "/pricing"})
    sdk.screen("user-123", "App", "Home")

    expect(row(page, "Order Completed")).to_be_visible(timeout=ARRIVAL_MS)
    expect(row(page, "Order Completed")).to_contain_text("42.5 EUR")
    expect(row(page, "Home")).to_be_visible(timeout=ARRIVAL_MS)
    pricing = stored(workspace, type="page")
    polls(page, 2)
    expect(page.locator(f"#event-{pricing.pk}")).to_have_count(0)
    # The person is the one the identify described, linked to their page.
    person_link = row(page, "Order Completed").locator("a.person-link")
    expect(person_link).to_have_text("John Doe", timeout=ARRIVAL_MS)
    assert re.fullmatch(r"/people/\d+/", person_link.get_attribute("href"))
    assert page.evaluate("window.__same_document") is True
    screenshot(page, "feed-sdk-live")

    page.click("#toggle-hidden")
    expect(page.locator("#toggle-hidden")).to_have_text("Hide Hidden Events")
    expect(page.locator(f"#event-{pricing.pk}")).to_be_visible()
    page.reload()
    expect(page.locator(f"#event-{pricing.pk}")).to_be_visible()
    assert page.url.endswith("/feed/?hidden=1")
    screenshot(page, "feed-sdk-hidden-shown")

    # A new event while the page is open comes in at the top, once.
    page.evaluate("window.__same_document = true")
    sdk.track("user-123", "Trial Started", {"plan": "pro"})
    trial = stored(workspace, name="Trial Started")
    expect(page.locator("#feed-rows .event").first).to_have_id(f"event-{trial.pk}",
                                                              timeout=ARRIVAL_MS)  # fmt: skip
    polls(page, 2)
    expect(page.locator(f"#event-{trial.pk}")).to_have_count(1)
    assert page.evaluate("window.__same_document") is True


def test_sdk_events_filter_expand_and_show_scripts_as_text(
    logged_in_page, live_server, celery_worker, sdk, workspace, screenshot
):
    page = logged_in_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sdk.track("user-9", "Order Completed", {"revenue": 10, "currency": "USD", "order_id": "o-9"})
    sdk.screen("user-9", "App", "Settings")
    sdk.track("user-9", XSS_EVENT, {"plan": XSS_PROP})
    order = stored(workspace, name="Order Completed")
    stored(workspace, type="screen")
    stored(workspace, name=XSS_EVENT)

    page.goto(f"{live_server.url}/feed/?hidden=0")
    expect(page.locator("#feed-rows .event")).to_have_count(3)
    page.select_option("#filter-type", "screen")
    page.wait_for_url(re.compile(r"/feed/\?hidden=0&type=screen$"))
    expect(page.locator("#feed-rows .event")).to_have_count(1)
    expect(row(page, "Settings")).to_be_visible()
    settled(page)
    page.select_option("#filter-type", "")
    # The filters swap the list: wait for the new one before typing into it.
    page.wait_for_url(re.compile(r"/feed/\?hidden=0$"))
    settled(page)
    page.fill("#filter-name", "Order Completed")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"name=Order\+Completed"))
    expect(page.locator("#feed-rows .event")).to_have_count(1)

    row(page, "Order Completed").locator("summary").click()
    raw = page.locator(f"#raw-{order.pk}")
    expect(raw).to_contain_text(f'"messageId": "{order.message_id}"')
    expect(raw).to_contain_text('"order_id": "o-9"')
    expect(raw).to_contain_text('"library"')
    screenshot(page, "feed-sdk-expanded")

    page.click("#clear-filters")
    target = row(page, "Plan Chosen")
    expect(target.locator(".event-name")).to_have_text(XSS_EVENT)
    expect(target).to_contain_text(XSS_PROP)
    target.locator("summary").click()
    expect(target.locator(".event-raw")).to_contain_text("window.__xss=2")
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
