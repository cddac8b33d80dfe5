import pytest
from django.contrib.auth import get_user_model
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


# U+FF4D, a fullwidth "m": NFKC makes it "m", and Django's login form applies NFKC.
FULLWIDTH_M = "\uff4dembera@example.com"
# "MEMBERA@example.com" all in fullwidth letters (each ASCII character + 0xFEE0).
ALL_FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) for c in "MEMBERA@example.com")


@pytest.mark.parametrize(
    "variant",
    [
        FULLWIDTH_M,
        "MEMBERA@example.com",
        "  membera@example.com  ",
        ALL_FULLWIDTH,
    ],
)
def test_a_locked_account_stays_locked_under_any_spelling_django_logs_in(
    client, django_user_model, password, settings, variant
):
    django_user_model.objects.create_user(username="membera@example.com", password=password)
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_ACCOUNT
    for n in range(attempts):
        log_in(client, "membera@example.com", WRONG, ip=f"203.0.113.{n + 1}")
    assert log_in(client, variant, password, ip="198.51.100.7").status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_under_other_spellings_count_against_one_account(
    client, django_user_model, password, settings
):
    django_user_model.objects.create_user(username="membera@example.com", password=password)
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_ACCOUNT
    spellings = [FULLWIDTH_M, "Membera@example.com", " membera@example.com"]
    for n in range(attempts):
        log_in(client, spellings[n % len(spellings)], WRONG, ip=f"203.0.113.{n + 1}")
    assert log_in(client, "membera@example.com", password, ip="198.51.100.7").status_code == 429


def test_the_fullwidth_spelling_is_the_same_account_to_django(client, django_user_model, password):
    # What makes the two tests above matter: Django logs this spelling in as membera.
    django_user_model.objects.create_user(username="membera@example.com", password=password)
    assert log_in(client, FULLWIDTH_M, password).status_code == 302


def test_rotating_x_forwarded_for_does_not_escape_the_ip_limit_with_the_deploy_default(
    client, owner, password, settings, tmp_path
):
    from tests.windsor.fresh_settings import SECRET, settings_with

    deployed = settings_with(tmp_path, DJANGO_SECRET_KEY=SECRET)
    settings.WINDSOR_PROXY_COUNT = deployed["WINDSOR_PROXY_COUNT"]
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_IP
    codes = [
        client.post(
            reverse("login"),
            {"username": f"nobody{n}@example.com", "password": WRONG},
            REMOTE_ADDR="203.0.113.5",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(attempts + 4)
    ]
    assert codes[:attempts] == [200] * attempts
    assert codes[attempts:] == [429] * 4


def test_behind_one_proxy_only_the_address_it_appended_counts(client, owner, settings):
    settings.WINDSOR_PROXY_COUNT = 1
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_IP
    for n in range(attempts):
        # The client writes its own X-Forwarded-For; the proxy appends the peer it saw.
        forwarded = f"198.51.100.{n}, 192.0.2.44"
        data = {"username": f"nobody{n}@example.com", "password": WRONG}
        client.post(reverse("login"), data, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    data = {"username": owner.username, "password": "x"}
    refused = client.post(
        reverse("login"), data, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.44"
    )
    assert refused.status_code == 429


def test_ipv6_clients_are_counted_by_their_64_network(client, owner, password, settings):
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_IP
    for n in range(attempts):
        # One host owns a whole /64 and picks a new address for each guess.
        log_in(client, f"nobody{n}@example.com", WRONG, ip=f"2001:db8:1:2::{n + 1:x}")
    assert log_in(client, owner.username, password, ip="2001:db8:1:2:ffff::9").status_code == 429
    assert log_in(client, owner.username, password, ip="2001:db8:1:3::1").status_code == 302


def test_ipv4_clients_are_still_counted_per_address(client, owner, password, settings):
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_IP
    for n in range(attempts):
        log_in(client, f"nobody{n}@example.com", WRONG, ip="203.0.113.5")
    assert log_in(client, owner.username, password, ip="203.0.113.5").status_code == 429
    assert log_in(client, owner.username, password, ip="203.0.113.6").status_code == 302


def test_an_ipv4_mapped_ipv6_address_counts_as_its_ipv4_address(client, owner, password, settings):
    attempts, _ = settings.THROTTLE_LOGIN_FAILURES_PER_IP
    for n in range(attempts):
        log_in(client, f"nobody{n}@example.com", WRONG, ip="::ffff:203.0.113.5")
    assert log_in(client, owner.username, password, ip="203.0.113.5").status_code == 429
    assert log_in(client, owner.username, password, ip="::ffff:203.0.113.6").status_code == 302


def test_the_status_page_warns_of_a_proxy_windsor_was_not_told_about(client, db, settings):
    staff = get_user_model().objects.create_user("ops@example.com", password="x", is_staff=True)
    client.force_login(staff)
    settings.WINDSOR_PROXY_COUNT = 0
    proxied = client.get("/status/", HTTP_X_FORWARDED_FOR="192.0.2.44").content
    assert b'id="proxy-unconfigured"' in proxied
    assert b'id="proxy-unconfigured"' not in client.get("/status/").content
    settings.WINDSOR_PROXY_COUNT = 1
    told = client.get("/status/", HTTP_X_FORWARDED_FOR="192.0.2.44").content
    assert b'id="proxy-unconfigured"' not in told
