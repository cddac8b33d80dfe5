"""The Feed in Chromium: hidden page events, the remembered toggle, live rows, filters, raw rows."""

import contextlib
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from accounts.models import Membership
from feed.models import Event
from ingest.store import batch_process
from tests.e2e.waits import settled
from tests.factories import stored_message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

XSS_EVENT = '<img src=x onerror="window.__xss=1">Signed Up'
XSS_PROP = '"><script>window.__xss=2</script>'
POLLS = re.compile(r"/feed/new/")


@pytest.fixture
def send(workspace, issued):
    def send_one(type: str, **fields) -> Event:
        fields.setdefault("user_id", "user-1")
        msg = stored_message(workspace, type, source_id=issued.source.pk, live=True, **fields)
        batch_process([msg])
        return Event.objects.get(workspace=workspace, message_id=msg["message_id"])

    return send_one


def rows(page):
    return page.locator("#feed-rows .event")


def row(page, text: str):
    return page.locator("#feed-rows .event", has_text=text)


def test_page_events_stay_hidden_until_asked_and_the_choice_survives_a_reload(
    logged_in_page, live_server, send, owner, screenshot
):
    page = logged_in_page
    send("identify", user_id="user-123", traits={"name": "John Doe", "email": "john@example.com"})
    send("track", user_id="user-123", event="Order Completed",
         properties={"revenue": 42.5, "currency": "EUR"})  # fmt: skip
    send("page", user_id="user-123", name="Pricing", properties={"title": "Pricing - Windsor"})
    send("screen", user_id="user-123", name="Home")

    page.click("text=Feed")
    page.wait_for_url(re.compile(r"/feed/\?hidden=0$"))
    expect(row(page, "Order Completed")).to_be_visible()
    expect(row(page, "Order Completed")).to_contain_text("42.5 EUR")
    expect(row(page, "Home")).to_be_visible()
    expect(row(page, "Pricing")).to_have_count(0)
    screenshot(page, "feed-default")

    page.click("#toggle-hidden")
    expect(page.locator("#toggle-hidden")).to_have_text("Hide Hidden Events")
    expect(row(page, "Pricing")).to_be_visible()
    expect(row(page, "Pricing")).to_contain_text("Pricing - Windsor")
    page.wait_for_url(re.compile(r"/feed/\?hidden=1$"))
    assert Membership.objects.get(user=owner).show_hidden_events
    screenshot(page, "feed-hidden-shown")

    page.reload()
    expect(row(page, "Pricing")).to_be_visible()
    # Coming back through the menu, the remembered choice is used.
    page.goto(f"{live_server.url}/people/")
    page.click("text=Feed")
    page.wait_for_url(re.compile(r"/feed/\?hidden=1$"))
    expect(row(page, "Pricing")).to_be_visible()

    page.click("#toggle-hidden")
    expect(page.locator("#toggle-hidden")).to_have_text("Show Hidden Events")
    expect(row(page, "Pricing")).to_have_count(0)
    expect(row(page, "Home")).to_be_visible()


def test_a_new_event_appears_at_the_top_without_a_reload(logged_in_page, live_server, send,
                                                         screenshot):  # fmt: skip
    page = logged_in_page
    send("track", event="Signed Up")
    page.goto(f"{live_server.url}/feed/?hidden=0")
    expect(rows(page)).to_have_count(1)
    page.evaluate("window.__same_document = true")

    late = send("track", event="Trial Started")
    hidden = send("page", name="Docs")
    expect(rows(page).first).to_contain_text("Trial Started")
    # Two more polls go by; neither repeats a row nor brings the hidden page view.
    for _ in range(2):
        with page.expect_response(lambda r: "/feed/new/" in r.url):
            pass
    expect(page.locator(f"#event-{late.pk}")).to_have_count(1)
    expect(page.locator(f"#event-{hidden.pk}")).to_have_count(0)
    expect(rows(page)).to_have_count(2)
    assert page.evaluate("window.__same_document") is True
    screenshot(page, "feed-live-row")


def test_a_poll_still_on_the_way_when_the_list_is_swapped_changes_nothing(
    logged_in_page, live_server, send
):
    """The toggle swaps the whole list, its poller too. A poll the old poller sent before answers
    for the old filters: its next poller (swapped in out of band) must not take the new one's
    place, or the page goes on polling for what the member no longer asked for."""
    page = logged_in_page
    send("track", event="Signed Up")
    # Each poll's request, to know when the page is done with it (loaded or cancelled).
    page.add_init_script("""
        window.__polls = [];
        document.addEventListener("htmx:beforeSend", (e) => {
          if (e.detail.elt.id !== "feed-poller") return;
          const xhr = e.detail.xhr;
          window.__polls.push(new Promise((done) => xhr.addEventListener("loadend", done)));
        });
    """)
    held = []
    page.route(POLLS, lambda route: held.append(route))
    page.goto(f"{live_server.url}/feed/?hidden=0")
    expect(rows(page)).to_have_count(1)
    for _ in range(100):  # the first poll (3 s after the page loads) is held here
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "no poll within 10 s"

    page.click("#toggle-hidden")
    expect(page.locator("#toggle-hidden")).to_have_text("Hide Hidden Events")
    settled(page)
    assert "hidden=1" in page.locator("#feed-poller").get_attribute("hx-get")
    send("track", event="Trial Started")
    send("page", name="Pricing")
    stale = held.pop(0)
    with contextlib.suppress(PlaywrightError):  # the page cancelled it: what it should do
        stale.continue_()
    page.evaluate("() => window.__polls[0].then(() => true)")
    assert "hidden=1" in page.locator("#feed-poller").get_attribute("hx-get")

    # The new list's own poll brings both events, the page view too: it shows hidden events now.
    page.unroute(POLLS)
    for route in held:
        route.continue_()
    expect(row(page, "Trial Started")).to_be_visible(timeout=10_000)
    expect(row(page, "Pricing")).to_be_visible(timeout=10_000)


def test_the_live_poll_waits_while_the_tab_is_hidden(logged_in_page, live_server, send):
    page = logged_in_page
    send("track", event="Signed Up")
    # A hidden tab, and a count of the polls htmx starts and of those it really sends.
    page.add_init_script("""
        window.__hidden = true;
        Object.defineProperty(document, "hidden", {get: () => window.__hidden});
        window.__polls = {started: 0, sent: 0};
        document.addEventListener("htmx:beforeRequest", (e) => {
          if (e.detail.elt.id === "feed-poller") window.__polls.started += 1;
        }, true);
        document.addEventListener("htmx:beforeSend", (e) => {
          if (e.detail.elt.id === "feed-poller") window.__polls.sent += 1;
        }, true);
    """)
    page.goto(f"{live_server.url}/feed/?hidden=0")
    page.wait_for_function("() => window.__polls.started >= 2")
    assert page.evaluate("window.__polls.sent") == 0

    page.evaluate("window.__hidden = false")
    page.wait_for_function("() => window.__polls.sent >= 1")


def test_a_control_swapped_in_is_live_the_moment_it_is_drawn(logged_in_page, live_server, send):
    """A key pressed on the new toolbar straight after a filter swapped it in (before htmx's settle
    timer, which a busy device runs late) still goes through htmx: the toggle swaps the list and
    keeps focus, instead of posting the whole page and leaving focus at its top."""
    page = logged_in_page
    send("track", event="Order Completed")
    send("page", name="Pricing")
    page.goto(f"{live_server.url}/feed/?hidden=0")
    expect(rows(page)).to_have_count(1)
    page.evaluate("window.__same_document = true")
    # Press the toggle as soon as the filter's answer is in: a microtask runs when htmx's swap
    # hands back control, before any timer.
    page.evaluate("""() => {
        let pressed = false;
        document.addEventListener("htmx:afterSwap", (event) => {
          if (pressed || event.detail.target.id !== "feed-body") return;
          pressed = true;
          queueMicrotask(() => {
            const toggle = document.getElementById("toggle-hidden");
            toggle.focus();
            toggle.click();
          });
        });
    }""")
    page.select_option("#filter-type", "page")
    expect(row(page, "Pricing")).to_be_visible()
    expect(page.locator("#toggle-hidden")).to_have_text("Hide Hidden Events")
    expect(page.locator("#toggle-hidden")).to_be_focused()
    assert page.evaluate("window.__same_document") is True


def test_filters_by_type_and_name_and_pagination(logged_in_page, live_server, send):
    page = logged_in_page
    send("track", event="Order Completed", properties={"revenue": 10, "currency": "USD"})
    send("track", event="Clicked")
    send("screen", name="Home")
    send("identify", traits={"email": "ada@example.com", "name": "Ada"})
    page.goto(f"{live_server.url}/feed/?hidden=0")
    expect(rows(page)).to_have_count(4)

    page.select_option("#filter-type", "track")
    page.wait_for_url(re.compile(r"type=track"))
    expect(rows(page)).to_have_count(2)
    expect(row(page, "Home")).to_have_count(0)
    settled(page)

    page.fill("#filter-name", "Order Completed")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"name=Order\+Completed"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("10 USD")

    page.reload()
    expect(rows(page)).to_have_count(1)
    page.click("#clear-filters")
    # The filters swap the whole list (the filter form too): wait for the new one to be live
    # before choosing in it, or the choice goes to a form htmx has not taken over yet.
    page.wait_for_url(re.compile(r"/feed/\?hidden=0$"))
    expect(rows(page)).to_have_count(4)
    settled(page)
    page.select_option("#filter-type", "identify")
    page.wait_for_url(re.compile(r"/feed/\?hidden=0&type=identify$"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("ada@example.com")


def test_older_appends_the_next_page(logged_in_page, live_server, workspace, issued):
    batch_process(
        [
            stored_message(
                workspace,
                "track",
                source_id=issued.source.pk,
                live=True,
                user_id="user-1",
                event=f"Step {i:03d}",
            )
            for i in range(70)
        ]
    )
    page = logged_in_page
    page.goto(f"{live_server.url}/feed/?hidden=0")
    expect(rows(page)).to_have_count(50)
    page.click("#feed-older")
    expect(rows(page)).to_have_count(70)
    expect(page.locator("#feed-older")).to_have_count(0)
    names = rows(page).locator(".event-name").all_inner_texts()
    assert len(set(names)) == 70


def test_a_row_expands_to_its_raw_message(logged_in_page, live_server, send, screenshot):
    page = logged_in_page
    event = send("track", event="Order Completed", properties={"order_id": "o-77", "revenue": 5})
    page.goto(f"{live_server.url}/feed/?hidden=0")
    row(page, "Order Completed").locator("summary").click()
    raw = page.locator(f"#raw-{event.pk}")
    expect(raw).to_be_visible()
    expect(raw).to_contain_text(f'"messageId": "{event.message_id}"')
    expect(raw).to_contain_text('"order_id": "o-77"')
    screenshot(page, "feed-row-expanded")


def test_script_in_event_names_and_properties_is_shown_as_text(logged_in_page, live_server, send,
                                                                screenshot):  # fmt: skip
    page = logged_in_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    event = send("track", event=XSS_EVENT, properties={"plan": XSS_PROP})
    page.goto(f"{live_server.url}/feed/?hidden=0")
    target = row(page, "Signed Up")
    expect(target.locator(".event-name")).to_have_text(XSS_EVENT)
    expect(target).to_contain_text(XSS_PROP)
    target.locator("summary").click()
    expect(page.locator(f"#raw-{event.pk}")).to_contain_text("window.__xss=2")
    expect(page.locator("#feed-rows img[src=x]")).to_have_count(0)
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    screenshot(page, "feed-xss-as-text")
