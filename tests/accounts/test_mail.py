"""How mail leaves the installation, said honestly: a deployment without EMAIL_URL sends and prints
no mail (no link in its output), warns at `manage.py check`, and the pages that promise a mail say
it is not set up; the embedded default prints mails and says that it does."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.checks import run_checks
from django.core.mail import send_mail
from django.test import TestCase
from django.urls import reverse

from accounts.checks import NO_MAIL
from accounts.models import Membership
from core.email_url import CONSOLE, NOT_CONFIGURED

pytestmark = pytest.mark.usefixtures("mail_in_process")
queued_mail_sent = TestCase.captureOnCommitCallbacks
LINK = "http://windsor.example.com/accounts/reset/MQ/cz5rht-0123456789abcdef0123456789abcdef/"


def test_the_backend_of_a_deployment_without_email_url_sends_and_logs_no_text(caplog, capsys):
    from django.core.mail import get_connection

    connection = get_connection(NOT_CONFIGURED)
    sent = send_mail(
        "Reset your Windsor password", LINK, None, ["a@example.com"], connection=connection
    )
    assert sent == 0
    assert "EMAIL_URL is not set" in caplog.text
    assert "cz5rht" not in caplog.text and "a@example.com" not in caplog.text
    captured = capsys.readouterr()
    assert "cz5rht" not in captured.out + captured.err


def test_check_warns_a_deployment_that_cannot_mail(settings):
    settings.EMAIL_BACKEND = NOT_CONFIGURED
    assert NO_MAIL in [m.id for m in run_checks()]
    settings.EMAIL_BACKEND = CONSOLE
    assert NO_MAIL not in [m.id for m in run_checks()]


def reset_pages(client) -> bytes:
    form = client.get(reverse("password_reset")).content
    with queued_mail_sent(execute=True):
        done = client.post(reverse("password_reset"), {"email": "owner@example.com"}, follow=True)
    return form + done.content


def test_reset_pages_say_when_no_mail_can_be_sent(client, owner, settings, caplog):
    settings.EMAIL_BACKEND = NOT_CONFIGURED
    with caplog.at_level(logging.INFO):
        pages = reset_pages(client)
    assert b'id="mail-not-configured"' in pages
    assert b"not set up to send mail, so no link was sent" in pages
    assert b"on its way" not in pages
    assert "EMAIL_URL is not set" in caplog.text and "/accounts/reset/" not in caplog.text


def test_reset_pages_say_the_embedded_default_prints_the_link(client, owner, settings, capsys):
    settings.EMAIL_BACKEND = CONSOLE
    pages = reset_pages(client)
    assert b"printed in the output of the Windsor process" in pages
    assert b"on its way" not in pages and b"we mail it" not in pages
    # Where a newcomer finds the link: the process's output.
    assert "/accounts/reset/" in capsys.readouterr().out


def test_reset_pages_promise_a_mail_when_there_is_a_mail_server(client, owner, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    pages = reset_pages(client)
    assert b"is on its way" in pages and b'id="mail-not-configured"' not in pages


@pytest.mark.parametrize(
    "backend, said",
    [
        (CONSOLE, b"only printed in the output of the Windsor process"),
        (NOT_CONFIGURED, b"this installation is not set up to send mail"),
        ("django.core.mail.backends.locmem.EmailBackend", b"is on its way to ada@example.com"),
    ],
)
def test_the_members_page_says_whether_the_invitation_was_mailed(
    owner_client, workspace, settings, backend, said
):
    settings.EMAIL_BACKEND = backend
    with queued_mail_sent(execute=True):
        response = owner_client.post(
            reverse("members:invite"), {"email": "ada@example.com", "role": Membership.Role.MEMBER}
        )
    assert said in response.content
    assert (b"We mailed" not in response.content) and (b"/invite/wsi_" in response.content)


def test_the_status_page_says_mail_is_not_set_up(client, db, settings):
    staff = get_user_model().objects.create_user("ops@example.com", password="x", is_staff=True)
    client.force_login(staff)
    settings.EMAIL_BACKEND = NOT_CONFIGURED
    assert b"Mail is not set up (no <code>EMAIL_URL</code>)" in client.get("/status/").content
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert b'id="mail-configured"' in client.get("/status/").content
