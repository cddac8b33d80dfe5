"""Password reset by email with Django's views: neutral replies, throttled like signup, and the
same work in the request for a known and an unknown email (the mail is sent by a task)."""

import re
import time

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.services import worker_start, worker_stop

RESET_LINK = re.compile(r"http://testserver(/accounts/reset/[^/]+/[^/]+/)")
# The mail task is queued when the request's transaction commits: run it here, in process.
queued_mail_sent = TestCase.captureOnCommitCallbacks


def reset(client, email: str, **extra):
    with queued_mail_sent(execute=True):
        return client.post(reverse("password_reset"), {"email": email}, **extra)


def test_login_page_offers_forgot_password(client, db):
    assert reverse("password_reset").encode() in client.get(reverse("login")).content


def test_a_known_and_an_unknown_email_get_the_same_reply(client, owner, mail_in_process):
    known = reset(client, "Owner@Example.com", follow=True)
    unknown = reset(client, "nobody@example.com", follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("password_reset_done"), 302)]
    # Byte for byte, but for the CSRF token every page carries.
    strip = re.compile(rb'"X-CSRFToken": "[^"]+"')
    assert strip.sub(b"", known.content) == strip.sub(b"", unknown.content)
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]


def test_the_mailed_link_sets_a_new_password_once(client, owner, mail_in_process):
    reset(client, "owner@example.com")
    [path] = RESET_LINK.findall(mail.outbox[0].body)
    form = client.get(path, follow=True)
    assert b'id="set-password"' in form.content
    set_url = form.redirect_chain[-1][0]
    new = {"new_password1": "a-brand-new-phrase", "new_password2": "a-brand-new-phrase"}
    done = client.post(set_url, new, follow=True)
    assert done.redirect_chain[-1][0] == reverse("password_reset_complete")
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-phrase")
    again = client.get(path, follow=True)
    assert b'id="reset-invalid"' in again.content


def test_reset_requests_are_throttled_per_email(client, owner, settings, mail_in_process):
    settings.THROTTLE_RESETS_PER_EMAIL = (2, 3600)
    for _ in range(2):
        assert reset(client, "owner@example.com").status_code == 302
    refused = reset(client, "OWNER@example.com")
    assert refused.status_code == 429
    assert b"password-reset requests" in refused.content
    assert len(mail.outbox) == 2


def test_reset_requests_are_throttled_per_ip(client, db, settings):
    settings.THROTTLE_RESETS_PER_IP = (3, 3600)
    for n in range(3):
        client.post(reverse("password_reset"), {"email": f"n{n}@example.com"})
    assert client.post(reverse("password_reset"), {"email": "x@example.com"}).status_code == 429


def view_queries(client, email: str) -> list[str]:
    """The SQL the reset view runs itself (its queued mail waits for a commit that never comes)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.post(reverse("password_reset"), {"email": email}).status_code == 302
    return [q["sql"] for q in queries.captured_queries]


def test_a_known_and_an_unknown_email_cost_the_reset_view_the_same_queries(client, owner):
    known = view_queries(client, "owner@example.com")
    unknown = view_queries(client, "nobody@example.com")
    assert known == unknown
    # The view does not look the account up at all: the worker does, off the request.
    assert not [sql for sql in known if "auth_user" in sql]
    assert mail.outbox == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_reset_view_only_queues_the_mail_and_a_worker_sends_it(client, owner, settings):
    # The production configuration: a broker, tasks not run in the request.
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    log = settings.BASE_DIR / "artifacts" / "mail-worker.log"
    start = log.stat().st_size if log.exists() else 0
    # console:// makes the worker print what it sends, so the test can read the link.
    worker = worker_start("mail-worker", env={"EMAIL_URL": "console://"})
    try:
        assert (
            client.post(reverse("password_reset"), {"email": "owner@example.com"}).status_code
            == 302
        )
        assert (
            client.post(reverse("password_reset"), {"email": "nobody@example.com"}).status_code
            == 302
        )
        assert mail.outbox == []  # nothing was sent by the request
        deadline, printed = time.monotonic() + 30, ""
        while "/accounts/reset/" not in printed and time.monotonic() < deadline:
            time.sleep(0.2)
            printed = log.read_bytes()[start:].decode(errors="replace")
    finally:
        worker_stop(worker)
    [path] = re.findall(r"http://testserver(/accounts/reset/[^/]+/[^/]+/)", printed)
    assert "To: owner@example.com" in printed and "nobody@example.com" not in printed
    assert b'id="set-password"' in client.get(path, follow=True).content
