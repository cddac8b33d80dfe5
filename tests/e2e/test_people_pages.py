"""The People pages in Chromium, on data made with the ORM (see tests/people/conftest.py)."""

import json
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import PeopleFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(workspace) -> PeopleFactory:
    return PeopleFactory(workspace=workspace, now=timezone.now())


TEAM = [
    ("Ada Lovelace", "ada@analytical.io", "+44 20 7946 0018", "analytical", ["power_users"]),
    ("Grace Hopper", "grace@cobol.dev", "+1 212 555 0143", "navy", ["power_users", "beta"]),
    ("Alan Turing", "alan@bletchley.org", None, "analytical", []),
    ("Katherine Johnson", "katherine@nasa.gov", "+1 757 555 0199", "nasa", ["beta"]),
    ("Linus Torvalds", "linus@kernel.org", None, None, []),
    ("Margaret Hamilton", "margaret@apollo.space", "+1 617 555 0101", "nasa", ["power_users"]),
    ("Dennis Ritchie", None, None, None, []),
    ("Barbara Liskov", "barbara@mit.edu", "+1 617 555 0120", "analytical", ["churn_risk"]),
    ("Ken Thompson", "ken@bell-labs.com", None, "navy", []),
    ("Radia Perlman", "radia@spanning.net", "+1 425 555 0111", None, ["beta"]),
]
GROUPS = {
    "analytical": ("Analytical Engines Ltd", {"plan": "enterprise", "employees": 120}),
    "navy": ("US Navy Labs", {"plan": "growth", "employees": 48}),
    "nasa": ("NASA Langley", {"plan": "enterprise", "employees": 900}),
}


def seed_team(people: PeopleFactory) -> dict:
    groups = {
        key: people.group(group_id=f"grp_{key}", name=name, **traits)
        for key, (name, traits) in GROUPS.items()
    }
    made = {}
    for minutes, (name, email, phone, group, audiences) in enumerate(TEAM):
        first = name.split()[0].lower()
        made[first] = people.person(
            name=name,
            email=email,
            phone=phone,
            user_id=f"usr_{first}",
            anonymous_id=f"anon-{first}-{minutes:04d}",
            group=groups[group] if group else None,
            audiences={a: True for a in audiences} | ({"churned": False} if audiences else {}),
            traits={"plan": "pro", "company": {"name": "Analytical", "role": "Founder"}},
            minutes_ago=minutes * 47 + 2,
            event_count=(len(name) * 37) % 200,
        )
    return made


def test_people_list_search_narrows_as_you_type(logged_in_page, live_server, people, screenshot):
    seed_team(people)
    page = logged_in_page
    page.goto(f"{live_server.url}/people/")
    rows = page.locator("tr.person-row")
    expect(rows).to_have_count(len(TEAM))
    expect(rows.first).to_contain_text("Ada Lovelace")
    expect(page.locator("tr.person-row", has_text="Dennis Ritchie")).to_contain_text("no email")
    screenshot(page, "people-list")

    page.locator("#people-search").press_sequentially("gra", delay=40)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("grace@cobol.dev")
    expect(page).to_have_url(f"{live_server.url}/people/?q=gra")

    page.locator("#people-search").fill("usr_ma")
    expect(rows.first).to_contain_text("Margaret Hamilton")
    expect(rows).to_have_count(1)

    page.locator("#people-search").fill("")
    expect(rows).to_have_count(len(TEAM))
    page.locator("input[name=missing_email]").check()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Dennis Ritchie")
    page.locator("input[name=missing_email]").uncheck()

    page.locator("select[name=group]").select_option(label="NASA Langley")
    expect(rows).to_have_count(2)
    page.locator("select[name=group]").select_option(value="")
    expect(rows).to_have_count(len(TEAM))

    page.locator("tr.person-row", has_text="Grace Hopper").locator(
        "a.audience-chip", has_text="beta"
    ).click()
    expect(rows).to_have_count(3)


def test_person_page_shows_traits_group_audiences_and_timeline(
    logged_in_page, live_server, people, screenshot
):
    team = seed_team(people)
    grace = team["grace"]
    people.event(
        grace, name="Signed Up", properties={"plan": "pro", "source": "ads"}, minutes_ago=600
    )
    people.event(
        grace, type="page", name="Pricing", properties={"path": "/pricing"}, minutes_ago=400
    )
    people.event(
        grace, name="Invited Teammate", properties={"invitee": "ken@bell-labs.com"}, minutes_ago=300
    )
    people.event(grace, type="page", name="Docs", properties={"path": "/docs/api"}, minutes_ago=200)
    people.event(
        grace,
        name="Order Completed",
        properties={"revenue": 249.0, "currency": "USD", "order_id": "A-1042"},
        minutes_ago=30,
    )
    people.event(grace, type="identify", name="", minutes_ago=20)

    page = logged_in_page
    page.goto(f"{live_server.url}/people/")
    page.click("text=Grace Hopper")
    page.wait_for_url(f"{live_server.url}/people/{grace.pk}/")

    expect(page.locator("h1.person-title")).to_have_text("Grace Hopper")
    expect(page.locator("#traits")).to_contain_text("company.role")
    expect(page.locator("#traits")).to_contain_text("Founder")
    expect(page.locator("#group")).to_contain_text("US Navy Labs")
    expect(page.locator("#group")).to_contain_text("growth")
    expect(page.locator("#audiences")).to_contain_text("power_users")
    expect(page.locator("#audiences li", has_text="churned")).to_contain_text("false")
    expect(page.locator("#identities")).to_contain_text("usr_grace")
    events = page.locator("#timeline li.event")
    expect(events).to_have_count(4)
    expect(events.first).to_contain_text("Identify")
    expect(events.nth(1)).to_contain_text("Order Completed")
    expect(page.locator("#timeline")).not_to_contain_text("Pricing")

    events.nth(1).locator("summary").click()
    expect(events.nth(1).locator("pre.raw")).to_contain_text('"revenue": 249.0')
    screenshot(page, "person-page")

    page.click("#hidden-toggle")
    expect(events).to_have_count(6)
    expect(page.locator("#timeline")).to_contain_text("Pricing")
    expect(page).to_have_url(f"{live_server.url}/people/{grace.pk}/?hidden=1")
    screenshot(page, "person-page-hidden-events")

    # The choice is remembered, and it is the Feed's choice too.
    page.goto(f"{live_server.url}/feed/")
    expect(page).to_have_url(f"{live_server.url}/feed/?hidden=1")
    page.goto(f"{live_server.url}/people/{grace.pk}/")
    expect(events).to_have_count(6)
    page.click("#hidden-toggle")
    expect(events).to_have_count(4)
    expect(page).to_have_url(f"{live_server.url}/people/{grace.pk}/?hidden=0")


XSS = '<img src=x onerror="window.__xss=(window.__xss||0)+1"><script>window.__xss=1</script>'


def test_xss_payloads_show_as_text_and_run_nothing(logged_in_page, live_server, people):
    page = logged_in_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    victim = people.person(
        name=XSS,
        email="victim@example.com",
        user_id=XSS,
        avatar="javascript:window.__xss=1",
        traits={"bio": XSS, XSS: {"nested": XSS}},
        audiences={XSS: True},
        group=people.group(group_id="evil", name=XSS),
    )
    people.event(victim, name=XSS, properties={"note": XSS, XSS: "key"})
    people.person(name="Innocent Bystander", email="bystander@example.com")
    people.event(victim, type="page", name=XSS, properties={"url": "javascript:alert(1)"})

    page.goto(f"{live_server.url}/people/?hidden=1")
    expect(page.locator("tr.person-row", has_text="victim@example.com")).to_contain_text(XSS)
    page.goto(f"{live_server.url}/people/{victim.pk}/?hidden=1")
    expect(page.locator("h1.person-title")).to_have_text(XSS)
    expect(page.locator("#traits")).to_contain_text(XSS)
    expect(page.locator("#timeline li.event")).to_have_count(2)
    for summary in page.locator("#timeline summary").all():
        summary.click()
    expect(page.locator("#timeline")).to_contain_text(f'"note": {json.dumps(XSS)}')
    page.goto(f"{live_server.url}/people/")
    expect(page.locator("tr.person-row")).to_have_count(2)
    page.locator("#people-search").fill(XSS[:6])
    expect(page.locator("tr.person-row")).to_have_count(1)
    expect(page.locator("tr.person-row")).to_contain_text(XSS)

    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert page.locator("img[src=x]").count() == 0


def test_empty_people_page_shows_how_to_send_the_first_identify(
    logged_in_page, live_server, screenshot
):
    page = logged_in_page
    page.goto(f"{live_server.url}/people/")

    empty = page.locator("#people-empty")
    expect(empty).to_contain_text("No people yet")
    expect(empty.locator("pre")).to_contain_text("curl -u 'YOUR_TOKEN:'")
    expect(empty.locator("pre")).to_contain_text(f"{live_server.url}/v1/batch")
    screenshot(page, "people-empty")
    empty.locator("a", has_text="Sources page").click()
    page.wait_for_url(f"{live_server.url}/sources/")


def test_older_and_newer_pages_in_the_browser(logged_in_page, live_server, people, monkeypatch):
    # The live server runs in this process: a small page size makes pages of the ten people.
    from people import selectors

    monkeypatch.setattr(selectors, "PEOPLE_PAGE_SIZE", 4)
    seed_team(people)
    page = logged_in_page
    page.goto(f"{live_server.url}/people/")
    rows = page.locator("tr.person-row")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Ada Lovelace")
    expect(page.locator("a[rel=prev]")).to_have_count(0)

    page.click("a[rel=next]")
    expect(rows.first).to_contain_text("Linus Torvalds")
    expect(page).to_have_url(re.compile(r"/people/\?after=\d+\.\d+$"))
    page.click("a[rel=next]")
    expect(rows.first).to_contain_text("Ken Thompson")
    expect(rows).to_have_count(2)
    expect(page.locator("a[rel=next]")).to_have_count(0)

    page.click("a[rel=prev]")
    expect(rows.first).to_contain_text("Linus Torvalds")
    page.click("a[rel=prev]")
    expect(rows.first).to_contain_text("Ada Lovelace")
    expect(page.locator("a[rel=prev]")).to_have_count(0)


def test_an_avatar_that_fails_to_load_shows_the_initials(
    logged_in_page, live_server, people, browser, screenshot
):
    missing = f"{live_server.url}/static/no-such-avatar.png"  # answers 404
    ada = people.person(name="Ada Lovelace", email="ada@analytical.io", avatar=missing)
    page = logged_in_page
    page.goto(f"{live_server.url}/people/{ada.pk}/")

    # The failed picture is gone (static/avatars.js), its initials shown in the same place.
    expect(page.locator("img[data-avatar-image]")).to_have_count(0)
    expect(page.locator(".profile .avatar")).to_have_text("AL")
    expect(page.locator(".profile .avatar")).to_be_visible()
    screenshot(page, "avatar-fallback")
    # The list too, including rows htmx swaps in after a search.
    page.goto(f"{live_server.url}/people/")
    page.locator("#people-search").fill("lovelace")
    row = page.locator("tr.person-row")
    expect(row).to_have_count(1)
    expect(row.locator("img[data-avatar-image]")).to_have_count(0)
    expect(row.locator(".avatar")).to_have_text("AL")

    # Without JavaScript the picture stays, with an empty alt (no broken-image icon or text)
    # over the initials, and the name is said once by the text beside it.
    context = browser.new_context(java_script_enabled=False)
    try:
        context.add_cookies(page.context.cookies())
        plain = context.new_page()
        plain.goto(f"{live_server.url}/people/{ada.pk}/")
        image = plain.locator("img[data-avatar-image]")
        expect(image).to_have_attribute("alt", "")
        box = image.bounding_box()
        initials = plain.locator(".profile .avatar").bounding_box()
        assert box == initials
    finally:
        context.close()


def test_people_search_finds_anyone_by_any_word_of_their_name(logged_in_page, live_server, people):
    seed_team(people)
    page = logged_in_page
    page.goto(f"{live_server.url}/people/")
    rows = page.locator("tr.person-row")
    expect(rows).to_have_count(len(TEAM))

    page.locator("#people-search").fill("hopper")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace Hopper")
    page.locator("#people-search").fill("lovelace")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Lovelace")
