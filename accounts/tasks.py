"""Thin Celery tasks: send the mails a view queued (accounts/emails.py); retry a failing server."""

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from django.core.mail import EmailMessage

from accounts import emails

logger = logging.getLogger(__name__)

# A reset link works two hours: retries over about half an hour, then the mail is given up.
MAIL_RETRIES = 5
MAIL_RETRY_SECONDS = 60


def _send(task: Task, build: Callable[..., list[EmailMessage]], **kwargs: Any) -> None:
    try:
        emails.messages_send(build, **kwargs)
    except Exception as error:  # SMTP refused, timed out or unreachable
        if task.request.is_eager or task.request.retries >= MAIL_RETRIES:
            # In-process (the embedded default) there is no worker to retry: log and go on. The
            # message names the task, never its arguments (a link is a credential).
            logger.error("could not send the mail of %s: %s", task.name, error)
            return
        raise task.retry(countdown=MAIL_RETRY_SECONDS * 2**task.request.retries) from None


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=MAIL_RETRIES)
def invitation_mail_send(self: Task, invitation_id: int, link: str) -> None:
    _send(self, emails.invitation_messages, invitation_id=invitation_id, link=link)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=MAIL_RETRIES)
def password_reset_mail_send(self: Task, email: str, domain: str, use_https: bool) -> None:
    _send(self, emails.password_reset_messages, email=email, domain=domain, use_https=use_https)
