import pytest
from playwright.sync_api import expect

from accounts.models import Source
from accounts.services import source_for_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_generated_token_is_shown_once_then_only_its_prefix(
    logged_in_page, live_server, workspace, screenshot
):
    page = logged_in_page
    page.click("text=Sources")
    page.wait_for_url(f"{live_server.url}/sources/")
    page.click("#generate-token")
    token = page.locator("#token-value").inner_text().strip()
    screenshot(page, "sources-token-shown")

    source = Source.objects.get(workspace=workspace)
    assert token.startswith(source.token_prefix)
    assert token not in source.token_hash
    assert "API Key" in page.locator("#issued-token").inner_text()

    page.goto(f"{live_server.url}/sources/")
    body = page.locator("body").inner_text()
    assert token not in body
    assert source.token_prefix in body
    screenshot(page, "sources-after-reload")


def test_copy_button_and_confirms_work_under_the_content_security_policy(
    logged_in_page, live_server, workspace
):
    page = logged_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}/sources/")
    assert "script-src 'self'" in page.evaluate(
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    page.click("#generate-token")
    token = page.locator("#token-value").inner_text().strip()

    page.click("#copy-token")
    expect(page.locator("#copy-token")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").strip() == token

    source = Source.objects.get(workspace=workspace)
    questions: list[str] = []

    def answer(accept: bool):
        def handle(dialog):
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    # Dismissed: nothing happens.
    page.once("dialog", answer(False))
    page.click("form[action$='/rotate/'] button")
    page.wait_for_load_state()
    assert questions[-1].startswith("Issue a new token?")
    assert source_for_token(token) == source
    assert page.locator("#token-value").count() == 1  # still the page of the first token

    # Accepted: a new token, and the old one stops working.
    page.once("dialog", answer(True))
    page.click("form[action$='/rotate/'] button")
    expect(page.locator("#token-value")).not_to_have_text(token)
    rotated = page.locator("#token-value").inner_text().strip()
    assert source_for_token(token) is None
    assert source_for_token(rotated) == source

    page.once("dialog", answer(False))
    page.click("form[action$='/revoke/'] button")
    page.wait_for_load_state()
    assert questions[-1].startswith("Revoke this token?")
    assert source_for_token(rotated) == source

    page.once("dialog", answer(True))
    page.click("form[action$='/revoke/'] button")
    expect(page.locator(".badge", has_text="revoked")).to_be_visible()
    assert source_for_token(rotated) is None
    assert page.csp_refused == []
