"""EMAIL_URL: one variable for how Windsor sends mail, parsed into Django's EMAIL_* settings.

    smtp://user:password@host:25         plain SMTP (user and password optional)
    smtp+tls://user:password@host:587    SMTP with STARTTLS (submission)
    smtps://user:password@host:465       SMTP over TLS from the first byte
    console://                           print mails, links included, to the process's output

User and password are percent-decoded (write `@` as `%40`). `?timeout=10` sets the SMTP timeout
in seconds (default 10), so a slow mail server cannot hold a worker for long.

With no EMAIL_URL, the embedded default (`make run`) prints mails: that is how a newcomer trying
Windsor on a laptop gets a reset link. A deployment does not: its process output goes to log
collectors that many people can read, and a reset or invitation link there is a way into an
account. It gets `NotConfiguredBackend`, which sends nothing and logs that a mail was dropped
(never its text); `manage.py check` warns (accounts/checks.py) and the pages that promise a mail
say mail is not set up.

Not django-environ's ``email_url`` (settings read everything else through it): it reads
``smtps://`` as STARTTLS where ours is TLS from the first byte (port 465, as documented), knows no
``console://``, sets no default port nor ``?timeout=``, and accepts a URL with no host or a port
that is not a number. Bridging those would take as many lines as this parser.
"""

import logging
from collections.abc import Sequence
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

CONSOLE = "django.core.mail.backends.console.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"
NOT_CONFIGURED = "core.email_url.NotConfiguredBackend"
DEFAULT_PORTS = {"smtp": 25, "smtp+tls": 587, "smtps": 465}

logger = logging.getLogger(__name__)


class NotConfiguredBackend(BaseEmailBackend):
    """A deployment with no EMAIL_URL: drops each mail and says so, without its text."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            logger.warning(
                "EMAIL_URL is not set: a mail (%r) was not sent. Set EMAIL_URL to send mail.",
                message.subject,
            )
        return 0


def email_settings(url: str, *, embedded: bool = True) -> dict[str, object]:
    """Django's EMAIL_* settings for `url`; for an empty one, the console backend in the
    embedded default, else the backend that sends nothing."""
    if not url.strip():
        return {"EMAIL_BACKEND": CONSOLE if embedded else NOT_CONFIGURED}
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": CONSOLE}
    if scheme not in DEFAULT_PORTS:
        raise ImproperlyConfigured(
            "EMAIL_URL must start with smtp://, smtp+tls://, smtps:// or console://."
        )
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL names no mail server host.")
    query = parse_qs(parts.query)
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
        timeout = float(query.get("timeout", ["10"])[0])
    except ValueError as error:
        raise ImproperlyConfigured(f"EMAIL_URL: {error}") from None
    return {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": scheme == "smtp+tls",
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_TIMEOUT": timeout,
    }
