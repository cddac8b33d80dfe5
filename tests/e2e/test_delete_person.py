"""Deleting a person in Chromium: confirm on the page that names them, and the Feed, the People
list and search no longer show anything of theirs."""

import re

import pytest
from playwright.sync_api import expect

from ingest.store import batch_process
from tests.factories import person_of, stored_message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def seed(workspace) -> None:
    batch_process(
        [
            stored_message(
                workspace,
                "identify",
                user_id="usr_ada",
                anonymous_id="anon-ada",
                traits={"name": "Ada Lovelace", "email": "ada@analytical.io"},
                minute=1,
            ),
            stored_message(workspace, "track", user_id="usr_ada", event="Engine Started", minute=2),
            stored_message(
                workspace, "track", anonymous_id="anon-ada", event="Note Written", minute=3
            ),
            stored_message(
                workspace,
                "identify",
                user_id="usr_grace",
                traits={"name": "Grace Hopper", "email": "grace@cobol.dev"},
                minute=4,
            ),
            stored_message(workspace, "track", user_id="usr_grace", event="Bug Found", minute=5),
        ]
    )


def test_a_person_deleted_in_the_ui_leaves_the_feed_and_the_people_list(
    logged_in_page, live_server, workspace, screenshot
):
    seed(workspace)
    ada = person_of(workspace, "usr_ada")
    page = logged_in_page
    base = live_server.url
    page.goto(f"{base}/feed/")
    expect(page.locator("#feed-rows .event", has_text="Engine Started")).to_have_count(1)
    expect(page.locator("#feed-rows .event", has_text="Note Written")).to_have_count(1)

    page.goto(f"{base}/people/{ada.pk}/")
    page.click("#delete-person")
    page.wait_for_url(f"{base}/people/{ada.pk}/delete/")
    expect(page.locator("h1")).to_have_text("Delete Ada Lovelace?")
    expect(page.locator("#delete-ids")).to_contain_text("usr_ada")
    expect(page.locator("#delete-ids")).to_contain_text("anon-ada")
    screenshot(page, "person-delete-confirmation")
    page.click("#delete-confirm")
    page.wait_for_url(f"{base}/people/")
    expect(page.locator(".messages")).to_contain_text(f"Person #{ada.pk} deleted")
    expect(page.locator("tr.person-row")).to_have_count(1)
    expect(page.locator("tr.person-row")).to_contain_text("Grace Hopper")
    expect(page.locator("body")).not_to_contain_text("Ada Lovelace")
    screenshot(page, "people-after-delete")

    page.locator("#people-search").fill("ada")
    page.wait_for_url(re.compile(r"q=ada"))
    expect(page.locator("tr.person-row")).to_have_count(0)

    page.goto(f"{base}/feed/")
    expect(page.locator("#feed-rows .event", has_text="Bug Found")).to_have_count(1)
    expect(page.locator("#feed-rows .event", has_text="Engine Started")).to_have_count(0)
    expect(page.locator("#feed-rows .event", has_text="Note Written")).to_have_count(0)
    expect(page.locator("#feed-rows")).not_to_contain_text("Ada")
    screenshot(page, "feed-after-delete")
    assert page.goto(f"{base}/people/{ada.pk}/").status == 404
