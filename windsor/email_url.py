"""EMAIL_URL: one variable for how Windsor sends mail, parsed into Django's EMAIL_* settings.

    smtp://user:password@host:25         plain SMTP (user and password optional)
    smtp+tls://user:password@host:587    SMTP with STARTTLS (submission)
    smtps://user:password@host:465       SMTP over TLS from the first byte
    console://                           print mails to the process's output (the default)

User and password are percent-decoded (write `@` as `%40`). `?timeout=10` sets the SMTP timeout
in seconds (default 10), so a slow mail server cannot hold a request for long.
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

CONSOLE = "django.core.mail.backends.console.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"
DEFAULT_PORTS = {"smtp": 25, "smtp+tls": 587, "smtps": 465}


def email_settings(url: str) -> dict[str, object]:
    """Django's EMAIL_* settings for `url`; the console backend for an empty one."""
    if not url.strip():
        return {"EMAIL_BACKEND": CONSOLE}
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
