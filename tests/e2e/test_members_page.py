"""The team in Chromium: invite, open the link in another browser, sign up, land in the workspace;
switch between workspaces from the header."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Membership
from accounts.services import source_create, workspace_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_invite_open_the_link_elsewhere_sign_up_and_land_in_the_workspace(
    logged_in_page, browser, live_server, workspace, settings, screenshot
):
    settings.WINDSOR_SIGNUP = "invite"  # a deployment's default: signup only by invitation
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the mail task runs here, where mail.outbox is
    page = logged_in_page
    base = live_server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.click("#members-link")
    page.wait_for_url(f"{base}/members/")
    page.fill("input[name=email]", "ada@example.com")
    page.select_option("select[name=role]", "admin")
    page.click("#send-invitation")
    link = page.locator("#invitation-link").inner_text().strip()
    assert re.fullmatch(rf"{re.escape(base)}/invite/wsi_[\w-]+/", link)
    # The same link went by mail (the test process's outbox: the live server runs in it).
    assert link in mail.outbox[-1].body
    page.click("#copy-invitation")
    expect(page.locator("#copy-invitation")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").strip() == link
    expect(page.locator(".invitation-row")).to_contain_text("ada@example.com")
    screenshot(page, "members-invitation")

    # Ada, in a browser of her own.
    other = browser.new_context(viewport={"width": 1280, "height": 860})
    ada = other.new_page()
    ada.set_default_timeout(10_000)
    ada.goto(link)
    expect(ada.locator("h1")).to_have_text("Join Acme")
    expect(ada.locator("input[name=email]")).to_have_value("ada@example.com")
    ada.fill("input[name=password]", "ada-long-pass-phrase")
    screenshot(ada, "invitation-open")
    ada.click("#invited-signup")
    ada.wait_for_url(re.compile(r"/accounts/login/"))
    ada.fill("input[name=username]", "ada@example.com")
    ada.fill("input[name=password]", "ada-long-pass-phrase")
    ada.click("button[type=submit]")
    ada.wait_for_url(f"{base}/people/")
    expect(ada.locator(".workspace-name")).to_have_text("Acme")
    ada.click("#members-link")
    row = ada.locator("tr.member-row", has_text="ada@example.com")
    expect(row).to_contain_text("Admin")
    other.close()

    # The owner sees Ada as a member, and the invitation is no longer pending.
    page.goto(f"{base}/members/")
    expect(page.locator("tr.member-row", has_text="ada@example.com")).to_contain_text("Admin")
    expect(page.locator("#no-invitations")).to_be_visible()
    screenshot(page, "members-page")
    assert Membership.objects.get(user__username="ada@example.com").workspace == workspace

    # The link is used up: opening it again says so.
    again = browser.new_context()
    used = again.new_page()
    used.goto(link)
    expect(used.locator("#invitation-state")).to_contain_text("already used")
    again.close()


def test_switch_workspaces_from_the_header(logged_in_page, live_server, owner, workspace):
    beta = workspace_create(name="Beta Corp", owner=owner)
    source_create(workspace=beta, name="BetaSource", created_by=owner)
    source_create(workspace=workspace, name="AcmeSource", created_by=owner)
    page = logged_in_page
    base = live_server.url
    page.goto(f"{base}/sources/")
    expect(page.locator("table.sources")).to_contain_text("AcmeSource")
    page.select_option("#workspace-select", label="Beta Corp")
    page.click("#workspace-switch")
    page.wait_for_url(f"{base}/people/")
    expect(page.locator("#workspace-select option:checked")).to_have_text("Beta Corp")
    page.goto(f"{base}/sources/")
    expect(page.locator("table.sources")).to_contain_text("BetaSource")
    expect(page.locator("table.sources")).not_to_contain_text("AcmeSource")
    page.select_option("#workspace-select", label="Acme")
    page.click("#workspace-switch")
    page.wait_for_url(f"{base}/people/")
    page.goto(f"{base}/sources/")
    expect(page.locator("table.sources")).to_contain_text("AcmeSource")
