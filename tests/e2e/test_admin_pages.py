"""Django admin's own pages run under the same Content-Security-Policy (the page fixture fails
the test on any refusal)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_login_and_pages_work_under_the_content_security_policy(
    page, live_server, issued, django_user_model
):
    django_user_model.objects.create_superuser(
        "root@example.com", "root@example.com", "x-Long-pass-9"
    )
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=username]", "root@example.com")
    page.fill("input[name=password]", "x-Long-pass-9")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    for path in ("/admin/accounts/source/", f"/admin/accounts/source/{issued.source.pk}/change/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("#content")).to_be_visible()
    # The changelist's select-all checkbox is wired up by the admin's own static script.
    page.goto(f"{live_server.url}/admin/accounts/source/")
    page.check("#action-toggle")
    expect(page.locator("input.action-select").first).to_be_checked()
