"""The People page's filter builder in Chromium: a filter typed with the keyboard, saved as a team
segment, opened by a teammate who sees the same people."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from accounts.models import Membership
from segments.models import Segment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shown_ids(page) -> list[str]:
    return page.locator("tr.person-row").evaluate_all("rows => rows.map(r => r.dataset.personId)")


def test_a_filter_built_with_the_keyboard_saved_and_opened_by_a_teammate(
    logged_in_page, live_server, people, workspace, password, browser, screenshot
):
    pro = [people.person(name=f"Pro {i}", traits={"plan": "Pro"}, minutes_ago=i) for i in range(3)]
    people.person(name="Free one", traits={"plan": "Free"})
    people.person(name="Pro long ago", traits={"plan": "Pro"}, minutes_ago=60 * 24 * 30)
    page = logged_in_page
    page.goto(f"{live_server.url}/people/")

    # Keyboard only: choose each control by typing, Tab to the next, Enter to apply.
    page.focus("#builder-conditions .row-field")
    page.keyboard.type("Trait")
    page.keyboard.press("Tab")
    page.keyboard.type("plan")
    page.keyboard.press("Tab")
    page.keyboard.type("equals")
    page.keyboard.press("Tab")
    page.keyboard.type("Pro")
    page.keyboard.press("Enter")
    expect(page.locator("tr.person-row")).to_have_count(4)
    # Another condition, added with the keyboard: focus lands on its field.
    page.focus("#builder-add")
    page.keyboard.press("Enter")
    expect(
        page.locator("#builder-conditions .builder-row").nth(1).locator(".row-field")
    ).to_be_focused()
    page.keyboard.type("Last seen")
    page.keyboard.press("Tab")
    page.keyboard.type("within")
    page.keyboard.press("Tab")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    expect(page.locator("tr.person-row")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"/people/\?filter="))
    expect(page.locator("#people-count")).to_have_text("3 people")
    assert shown_ids(page) == [str(p.pk) for p in pro]

    page.click("#segment-save-box summary")
    page.fill("#segment-name", "Pro this week")
    page.check("input[name=visibility][value=team]")
    page.click("#segment-save-button")
    segment = Segment.objects.get(name="Pro this week")
    expect(page).to_have_url(re.compile(rf"/people/\?segment={segment.pk}$"))
    expect(page.locator("#segment-banner")).to_contain_text("Pro this week")
    screenshot(page, "segment-opened")
    mine = shown_ids(page)

    teammate = get_user_model().objects.create_user(
        username="ada@example.com", email="ada@example.com", password=password
    )
    Membership.objects.create(user=teammate, workspace=workspace, role=Membership.Role.MEMBER)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    other = context.new_page()
    other.goto(f"{live_server.url}/accounts/login/")
    other.fill("input[name=username]", "ada@example.com")
    other.fill("input[name=password]", password)
    other.click("button[type=submit]")
    other.wait_for_url(f"{live_server.url}/people/")
    other.goto(f"{live_server.url}/people/segments/")
    other.click("a.segment-link:text('Pro this week')")
    expect(other.locator("#segment-banner")).to_contain_text("Pro this week")
    assert shown_ids(other) == mine
    # A member does not edit a segment someone else made.
    expect(other.locator("#segment-edit-link")).to_have_count(0)
    context.close()
