"""Settings read in a fresh interpreter with a given environment: what a deploy gets by default."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.windsor.fresh_settings import CLEARED, SECRET, settings_with


def test_nothing_configured_is_the_embedded_default_in_debug_with_open_signup(tmp_path):
    s = settings_with(tmp_path)
    assert s["EMBEDDED"] and s["DEBUG"]
    assert s["WINDSOR_SIGNUP"] == "open"
    assert not s["SECURE_SSL_REDIRECT"] and not s["SESSION_COOKIE_SECURE"]
    assert s["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")


def settings_import(tmp_path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return subprocess.run(
        [sys.executable, "-c", "import windsor.settings"],
        cwd=settings.BASE_DIR,
        env={**base, "WINDSOR_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "variable, value",
    [
        ("DATABASE_URL", "postgres://windsor@db:5432/windsor"),
        ("CELERY_BROKER_URL", "redis://redis:6379/0"),
        ("INGEST_REDIS_URL", "redis://redis:6379/1"),
        ("CACHE_URL", "redis://redis:6379/2"),
        ("DJANGO_ALLOWED_HOSTS", "windsor.example.com"),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "https://windsor.example.com"),
    ],
)
def test_a_deploy_that_forgets_django_debug_does_not_run_in_debug(tmp_path, variable, value):
    # Debug off wants a real secret key: the refusal shows debug is off without reading it.
    result = settings_import(tmp_path, **{variable: value})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off" in result.stderr

    s = settings_with(tmp_path, DJANGO_SECRET_KEY=SECRET, **{variable: value})
    assert not s["EMBEDDED"]
    assert not s["DEBUG"]
    assert s["WINDSOR_SIGNUP"] == "invite"


def test_a_secret_key_alone_is_a_deploy_too(tmp_path):
    s = settings_with(tmp_path, DJANGO_SECRET_KEY=SECRET)
    assert not s["EMBEDDED"] and not s["DEBUG"]


def test_django_debug_still_turns_debug_on_for_a_configured_stack(tmp_path):
    s = settings_with(tmp_path, DATABASE_URL="postgres://db/windsor", DJANGO_DEBUG="1")
    assert s["DEBUG"] and not s["SECURE_SSL_REDIRECT"]


def test_production_is_https_only_by_default(tmp_path):
    s = settings_with(tmp_path, DJANGO_SECRET_KEY=SECRET, CELERY_BROKER_URL="redis://redis:6379/3")
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_SSL_REDIRECT"]
    assert s["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    # X-Forwarded-For is trusted only when the deploy says how many proxies append to it.
    assert s["WINDSOR_PROXY_COUNT"] == 0
    # Throttle counters are shared by every web process: the cache is the broker's Redis.
    assert s["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert s["CACHES"]["default"]["LOCATION"] == "redis://redis:6379/3"


def test_each_production_default_has_its_own_opt_out(tmp_path):
    s = settings_with(
        tmp_path,
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_SECURE_PROXY_SSL_HEADER="0",
    )
    assert not s["DEBUG"]
    assert not s["SECURE_SSL_REDIRECT"]
    assert s["SECURE_HSTS_SECONDS"] == 0
    assert not s["SESSION_COOKIE_SECURE"] and not s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    assert s["WINDSOR_PROXY_COUNT"] == 0


def test_signup_mode_is_read_from_the_environment(tmp_path):
    assert settings_with(tmp_path, WINDSOR_SIGNUP="closed")["WINDSOR_SIGNUP"] == "closed"
    s = settings_with(tmp_path, DJANGO_SECRET_KEY=SECRET, WINDSOR_SIGNUP="open")
    assert s["WINDSOR_SIGNUP"] == "open"


def test_the_proxy_count_is_read_from_the_environment(tmp_path):
    s = settings_with(tmp_path, DJANGO_SECRET_KEY=SECRET, WINDSOR_PROXY_COUNT="2")
    assert s["WINDSOR_PROXY_COUNT"] == 2


def test_a_value_starting_with_a_dollar_is_read_as_written(tmp_path):
    # Django's get_random_secret_key() draws from an alphabet with "$" in it.
    s = settings_with(tmp_path, DJANGO_SECRET_KEY=f"$HOME{SECRET}")
    assert s["SECRET_KEY"] == f"$HOME{SECRET}"


def test_lists_are_comma_separated_with_spaces_and_blanks_ignored(tmp_path):
    s = settings_with(tmp_path, DJANGO_SECRET_KEY=SECRET, DJANGO_ALLOWED_HOSTS=" a.io, b.io, ,")
    assert s["ALLOWED_HOSTS"] == ["a.io", "b.io"]


def test_only_the_embedded_default_prints_mails_when_no_email_url_is_set(tmp_path):
    from core.email_url import CONSOLE, NOT_CONFIGURED, SMTP

    assert settings_with(tmp_path)["EMAIL_BACKEND"] == CONSOLE
    assert settings_with(tmp_path, DJANGO_SECRET_KEY=SECRET)["EMAIL_BACKEND"] == NOT_CONFIGURED
    deployed = settings_with(
        tmp_path, DATABASE_URL="postgres://db/windsor", DJANGO_DEBUG="1", EMAIL_URL="smtp://mx"
    )
    assert deployed["EMAIL_BACKEND"] == SMTP
    # Asked for by name, a deployment still gets the console.
    assert (
        settings_with(tmp_path, DJANGO_SECRET_KEY=SECRET, EMAIL_URL="console://")["EMAIL_BACKEND"]
        == CONSOLE
    )


LINK = "https://windsor.example.com/accounts/reset/MQ/cz5rht-0123456789abcdef0123456789abcdef/"


def mail_output(tmp_path, **env: str) -> str:
    """What a process with this environment writes when it sends a reset-like mail."""
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    code = (
        "import django; django.setup(); from django.core.mail import send_mail; "
        f"send_mail('Reset your Windsor password', {LINK!r}, None, ['a@example.com'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "windsor.settings",
            "WINDSOR_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def test_a_deployment_without_email_url_prints_no_link(tmp_path):
    output = mail_output(tmp_path, DATABASE_URL="postgres://db/windsor", DJANGO_DEBUG="1")
    assert "cz5rht" not in output
    assert "EMAIL_URL is not set" in output
    # The embedded default (`make run`) prints it: that is how a newcomer gets the link.
    assert LINK in mail_output(tmp_path)
