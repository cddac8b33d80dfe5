"""Mails Windsor sends, through Django's email framework (settings.EMAIL_BACKEND)."""

import logging

from django.core.mail import send_mail
from django.template.loader import render_to_string

from accounts.models import Invitation

logger = logging.getLogger(__name__)


def invitation_mail(*, invitation: Invitation, link: str) -> bool:
    """Mails the link to the invited address; False when the mail server refused or failed.

    A failure is not fatal: the page shows the link to copy either way.
    """
    context = {"invitation": invitation, "link": link}
    subject = render_to_string("accounts/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except Exception:  # an SMTP server down or refusing: say so on the page, keep the link
        logger.exception("could not mail invitation %s", invitation.pk)
        return False
    return True
