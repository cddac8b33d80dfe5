"""People made by real SDK calls: segment-analytics-python -> live server -> Redis -> Celery
worker -> the People pages in Chromium."""

import time

import pytest
from playwright.sync_api import expect
from segment.analytics import Client

from people.models import Person

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 60
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


def wait_for(condition, what: str) -> None:
    """The worker stores asynchronously: wait until the stored state says it is done."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"the worker did not store {what} within {WAIT_SECONDS} s")
        time.sleep(0.2)


def send_customers(client: Client) -> None:
    # A visitor browses anonymously, then signs up: the identify links the earlier page view.
    client.page(
        anonymous_id="anon-ada-1",
        category="Marketing",
        name="Pricing",
        properties={"path": "/pricing", "url": "https://windsor.test/pricing"},
    )
    client.identify(
        "usr_ada",
        {
            "email": "ada@analytical.io",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "phone": "+44 20 7946 0018",
            "plan": "enterprise",
            "company": {"name": "Analytical Engines", "role": "Founder"},
        },
        anonymous_id="anon-ada-1",
    )
    client.group(
        "usr_ada",
        "grp_analytical",
        {"name": "Analytical Engines Ltd", "plan": "enterprise", "employees": 120},
    )
    client.track("usr_ada", "Signed Up", {"plan": "enterprise"})
    client.track(
        "usr_ada", "Order Completed", {"revenue": 249.0, "currency": "USD", "order_id": "A-1042"}
    )
    client.page("usr_ada", "Docs", "Getting Started", {"path": "/docs"})
    # An Engage audience sync: an identify whose trait is the audience, marked by
    # context.personas (a boolean trait is an audience only from a sync).
    client.identify(
        "usr_ada",
        {"order_completed_last_30days": True, "churn_risk": False},
        context={"personas": {"computation_class": "audience", "space_id": "spa_1"}},
    )

    client.identify("usr_grace", {"email": "grace@cobol.dev", "name": "Grace Hopper"})
    client.track("usr_grace", "Invited Teammate", {"invitee": "ken@bell-labs.com"})
    client.identify("usr_linus", {"name": "Linus Torvalds"})  # no email: kept, and marked
    client.identify("usr_evil", {"name": XSS, "email": "evil@example.com", "bio": XSS})
    client.track("usr_evil", XSS, {"note": XSS})


def test_people_appear_after_real_sdk_calls(
    logged_in_page, live_server, celery_worker, issued, screenshot
):
    errors: list = []
    client = Client(
        write_key=issued.token,
        host=live_server.url,
        sync_mode=True,
        on_error=lambda error, batch: errors.append(error),
        max_retries=0,
    )
    send_customers(client)
    assert errors == []
    workspace = issued.source.workspace
    people = Person.objects.for_workspace(workspace).current()
    wait_for(lambda: people.filter(email="evil@example.com", event_count=2).exists(), "the people")
    wait_for(
        lambda: people.filter(
            audiences__has_key="order_completed_last_30days", event_count=7
        ).exists(),
        "Ada's seven calls",
    )

    page = logged_in_page
    dialogs: list = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server.url}/people/")
    rows = page.locator("tr.person-row")
    expect(rows).to_have_count(4)
    ada_row = page.locator("tr.person-row", has_text="Ada Lovelace")
    expect(ada_row).to_contain_text("ada@analytical.io")
    expect(ada_row).to_contain_text("Analytical Engines Ltd")
    expect(ada_row).to_contain_text("order_completed_last_30days")
    expect(page.locator("tr.person-row", has_text="Linus Torvalds")).to_contain_text("no email")
    expect(page.locator("tr.person-row", has_text="evil@example.com")).to_contain_text(XSS)
    screenshot(page, "people-list-sdk")

    page.locator("#people-search").fill("grace@")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace Hopper")
    page.locator("#people-search").fill("usr_ad")
    expect(rows.first).to_contain_text("Ada Lovelace")
    expect(rows).to_have_count(1)
    rows.first.locator("a.person-link").click()

    expect(page.locator("h1.person-title")).to_have_text("Ada Lovelace")
    expect(page.locator("#traits")).to_contain_text("company.role")
    expect(page.locator("#group")).to_contain_text("Analytical Engines Ltd")
    expect(page.locator("#group")).to_contain_text("120")
    expect(page.locator("#audiences li", has_text="order_completed_last_30days")).to_contain_text(
        "true"
    )
    expect(page.locator("#audiences li", has_text="churn_risk")).to_contain_text("false")
    expect(page.locator("#identities")).to_contain_text("anon-ada-1")
    expect(page.locator("#identities")).to_contain_text("usr_ada")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Order Completed")
    expect(timeline).to_contain_text("Signed Up")
    expect(timeline).not_to_contain_text("Pricing")
    expect(timeline).not_to_contain_text("Getting Started")
    order = timeline.locator("li.event", has_text="Order Completed")
    order.locator("summary").click()
    expect(order.locator("pre.raw")).to_be_visible()
    expect(order.locator("pre.raw")).to_contain_text('"order_id": "A-1042"')
    screenshot(page, "person-page-sdk")

    page.click("#hidden-toggle")
    # The anonymous page view from before the identify is on the person's timeline too.
    expect(timeline).to_contain_text("Pricing")
    expect(timeline).to_contain_text("Getting Started")

    evil = people.get(email="evil@example.com")
    page.goto(f"{live_server.url}/people/{evil.pk}/")
    expect(page.locator("h1.person-title")).to_have_text(XSS)
    expect(page.locator("#traits")).to_contain_text(XSS)
    expect(page.locator("#timeline")).to_contain_text(XSS)
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
