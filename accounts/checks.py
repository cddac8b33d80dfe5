"""System checks for the accounts app: a deployment that cannot mail is told so at start."""

from typing import Any

from django.core.checks import CheckMessage, Warning, register

from accounts.emails import mail_delivery

NO_MAIL = "accounts.W001"


@register()
def mail_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if mail_delivery() != "off":
        return []
    return [
        Warning(
            "EMAIL_URL is not set: password-reset and invitation mails are not sent.",
            hint=(
                "Set EMAIL_URL (smtp://, smtp+tls:// or smtps://). Until then invitation links "
                "are copied from the Members page and nobody can reset a forgotten password."
            ),
            id=NO_MAIL,
        )
    ]
