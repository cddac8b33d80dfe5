import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.throttle import client_ip


@pytest.fixture(autouse=True)
def _fast_password_hashes(settings):
    # Dozens of logins per test: the production hasher's deliberate slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


WRONG = "not-the-password"


def log_in(client, username: str, password: str, *, ip: str = "203.0.113.5", path=None):
    data = {"username": username, "password": password}
    return client.post(path or reverse("login"), data, REMOTE_ADDR=ip)


def test_wrong_logins_lock_the_account_even_for_the_right_password(
    client, owner, password, settings
):
    attempts, window = settings.THROTTLE_LOGIN_FAILURES_PER_ACCOUNT
    for n in range(attempts):
        # From different addresses: the account's count is what stops them.
        assert log_in(client, owner.username, WRONG, ip=f"203.0.113.{n + 1}").status_code == 200
    response = log_in(client, "OWNER@example.com", password, ip="203.0.113.99")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == window
    assert b"Too many failed log-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_wrong_logins_from_one_ip_lock_that_ip(client, owner, password, settings):
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_IP
    for n in range(attempts):
        assert log_in(client, f"nobody{n}@example.com", WRONG).status_code == 200
    assert log_in(client, owner.username, password).status_code == 429
    assert log_in(client, owner.username, password, ip="203.0.113.200").status_code == 302


def test_a_successful_login_clears_the_accounts_count(client, owner, password, settings):
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_ACCOUNT
    for _ in range(attempts - 1):
        log_in(client, owner.username, WRONG)
    assert log_in(client, owner.username, password).status_code == 302
    client.logout()
    for _ in range(attempts - 1):
        assert log_in(client, owner.username, WRONG).status_code == 200
    assert log_in(client, owner.username, password).status_code == 302


def test_the_admin_login_is_throttled_too(client, owner, settings):
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_ACCOUNT
    for _ in range(attempts):
        assert log_in(client, owner.username, WRONG, path="/admin/login/").status_code == 200
    assert log_in(client, owner.username, WRONG, path="/admin/login/").status_code == 429
    assert log_in(client, owner.username, WRONG).status_code == 429


def test_login_error_does_not_tell_whether_the_account_exists(client, owner):
    def error(response) -> bytes:
        body = response.content
        start = body.index(b'<p class="error">')
        return body[start : body.index(b"</p>", start)]

    assert error(log_in(client, owner.username, WRONG)) == error(
        log_in(client, "nobody@example.com", WRONG)
    )


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "192.0.2.1", "10.0.0.9"),
        (1, "192.0.2.1", "192.0.2.1"),
        # A client's own X-Forwarded-For entry comes first; the proxy appends what it saw.
        (1, "6.6.6.6, 192.0.2.1", "192.0.2.1"),
        (2, "6.6.6.6, 192.0.2.1, 10.0.0.2", "192.0.2.1"),
        (1, "", "10.0.0.9"),
    ],
)
def test_client_ip_is_what_the_trusted_proxies_saw(settings, proxies, forwarded, expected):
    settings.WINDSOR_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
