"""Mails Windsor sends, through Django's email framework (settings.EMAIL_BACKEND), off the request.

A view queues a mail (`invitation_mail`, `password_reset_mail`); a Celery task (accounts/tasks.py)
builds and sends it. Two reasons it is not sent in the request:
- A password-reset request must cost the same whether or not the email has an account: the view
  only queues the email typed, and the worker looks the account up. Sending in the request made a
  known address answer measurably slower (rendering, then the SMTP round trips).
- A slow or unreachable mail server holds a worker, not a web request.
In the embedded default (no broker) tasks run in the process that queues them, as every task
does there, so `make run` still prints its mails right away.

`mail_delivery()` says how mail leaves this installation, for the pages that promise a mail: a
deployment without EMAIL_URL sends none (core/email_url.py), the embedded default prints them.
"""

import logging
from collections.abc import Callable
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Invitation
from core.email_url import CONSOLE, NOT_CONFIGURED

logger = logging.getLogger(__name__)

MailDelivery = Literal["sent", "console", "off"]


def mail_delivery() -> MailDelivery:
    """ "sent" (a mail server, or a test's outbox), "console" (printed) or "off" (dropped)."""
    if settings.EMAIL_BACKEND == NOT_CONFIGURED:
        return "off"
    if settings.EMAIL_BACKEND == CONSOLE:
        return "console"
    return "sent"


def _queue(task: Any, **kwargs: Any) -> bool:
    """Queues `task` once the current transaction commits; False when the broker refused it.

    Outside a transaction (a view, under autocommit) it is queued right away and the answer is
    exact; inside one it is queued at the commit and reported as queued.
    """
    queued = True

    def send() -> None:
        nonlocal queued
        try:
            task.delay(**kwargs)
        except Exception:  # the broker down: the mail is lost, the page says so where it can
            logger.exception("could not queue %s", task.name)
            queued = False

    transaction.on_commit(send)
    return queued


def invitation_mail(*, invitation: Invitation, link: str) -> bool:
    """Queues the mail of the link to the invited address; False when it could not be queued.

    The page shows the link to copy either way.
    """
    from accounts.tasks import invitation_mail_send

    return _queue(invitation_mail_send, invitation_id=invitation.pk, link=link)


def password_reset_mail(*, email: str, domain: str, use_https: bool) -> None:
    """Queues a reset mail to each active account of `email` (none for an unknown one)."""
    from accounts.tasks import password_reset_mail_send

    _queue(password_reset_mail_send, email=email, domain=domain, use_https=use_https)


def invitation_messages(*, invitation_id: int, link: str) -> list[EmailMessage]:
    invitation = Invitation.objects.select_related("workspace", "invited_by").filter(
        pk=invitation_id
    )
    messages = []
    for found in invitation:  # none when it was deleted since
        context = {"invitation": found, "link": link}
        subject = render_to_string("accounts/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/invitation_email.txt", context)
        messages.append(EmailMessage(subject, body, None, [found.email]))
    return messages


def password_reset_messages(*, email: str, domain: str, use_https: bool) -> list[EmailMessage]:
    """What Django's PasswordResetForm.save mails, built here so that the worker runs it."""
    messages = []
    for user in PasswordResetForm().get_users(email):
        context = {
            "email": user.email,
            "domain": domain,
            "site_name": domain,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "user": user,
            "token": default_token_generator.make_token(user),
            "protocol": "https" if use_https else "http",
        }
        subject = render_to_string("registration/password_reset_subject.txt", context)
        subject = "".join(subject.splitlines())  # a header cannot hold a newline
        body = render_to_string("registration/password_reset_email.html", context)
        messages.append(EmailMessage(subject, body, None, [user.email]))
    return messages


def messages_send(build: Callable[..., list[EmailMessage]], **kwargs: Any) -> int:
    """Builds the mails and sends them over one connection; raises when the server fails."""
    messages = build(**kwargs)
    if not messages:
        return 0
    return get_connection(fail_silently=False).send_messages(messages) or 0
