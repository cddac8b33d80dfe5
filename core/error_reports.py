"""What Django's error reports may show: its own rules, plus no credentials inside URLs.

Django hides a setting (or request.META entry) whose name looks secret (`API`, `TOKEN`, `KEY`,
`PASS`, ...), but `CELERY_BROKER_URL`, `INGEST_REDIS_URL`, `CACHE_URL`, `CACHES`' `LOCATION` and
the environment's `DATABASE_URL` (which runserver copies into request.META) carry the password
inside the value. With `DJANGO_DEBUG=1` the error page showed them to whoever hit an error; the
mails to ADMINS would too. Here the userinfo of every URL-shaped string is hidden, in settings,
request.META and each frame's local variables, keeping the rest (scheme, host, port, the user
name) for debugging.
"""

import re
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

SUBSTITUTE = SafeExceptionReporterFilter.cleansed_substitute

# scheme://userinfo@ : the userinfo runs to the authority's last "@" (a password with an
# unescaped "@" is still hidden whole), and never past "/", "?", "#" or white space.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/?#\s]+)@")


def _hide(match: re.Match[str]) -> str:
    user, colon, _password = match["userinfo"].partition(":")
    # Without a colon the lone part may be the secret (redis://<password>@ in some clients).
    return f"{match['scheme']}{user}:{SUBSTITUTE}@" if colon else f"{match['scheme']}{SUBSTITUTE}@"


def url_credentials_hidden(text: str) -> str:
    """`text` with the user information of each URL in it replaced (the user name kept)."""
    return _URL_USERINFO.sub(_hide, text) if "://" in text else text


def _hidden(value: Any) -> Any:
    if isinstance(value, str):
        return url_credentials_hidden(value)
    if type(value) is dict:
        return {key: _hidden(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_hidden(item) for item in value)
    return value


class UrlCredentialsHidingFilter(SafeExceptionReporterFilter):
    def cleanse_setting(self, key: Any, value: Any) -> Any:
        # Django's own rule first; it calls back here for each item of a dict, list or tuple.
        cleansed = super().cleanse_setting(key, value)
        return url_credentials_hidden(cleansed) if isinstance(cleansed, str) else cleansed

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> list[tuple[str, Any]]:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, _hidden(value)) for name, value in variables]
