import pytest

from accounts.models import Source

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
