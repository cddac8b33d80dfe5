"""Logging that never writes a source token, an API key, an invitation link's token
(/invite/<token>) nor a password-reset link's token (/accounts/reset/<uid>/<token>/: whoever
reads it can set the password; the page it redirects to, .../set-password/, carries none and is
kept).

windsor-node puts the token in the URL (`POST /hook/<token>`), and every logged path would carry
it: Django's request warnings ("Unauthorized: /hook/<token>"), runserver's and gunicorn's access
lines, gunicorn's "Error handling request". `TokenRedactingFilter` rewrites any such path to keep
only the token's visible prefix (what the Sources page shows, enough to tell sources apart).
Any secret Windsor issued (core/secrets.py: each kind's prefix, then URL-safe characters) is
redacted the same way wherever else it appears: a key in a query string, a token in a message.
settings.LOGGING installs it; `RedactingGunicornLogger` (gunicorn.conf.py) puts it on gunicorn's
own loggers, which Django's configuration does not reach.
"""

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

from core.secrets import VISIBLE_PREFIX_LENGTH, SecretKind, secret_visible

REDACTED = "[redacted]"
# /hook/ followed by the token: anything up to the next slash, query, quote, bracket or space
# (percent-escapes included), unless it is already redacted: a record passes through the filter
# of its logger and then of each handler, and must come out the same.
_HOOK_TOKEN = re.compile(
    r"(/(?:hook|invite)(?:/|%2[Ff]))((?:[^/?#\s\"'%\[]|%[0-9A-Fa-f]{2})++)(?!"
    + re.escape(REDACTED)
    + ")"
)


# /reset/<uidb64>/ then the token (Django's PasswordResetConfirmView), slashes maybe escaped.
_SLASH = r"(?:/|%2[Ff])"
_RESET_TOKEN = re.compile(
    rf"(/reset{_SLASH}[\w-]+{_SLASH})(?!set-password(?:[/?#\s\"']|%2[Ff]|$))"
    r"((?:[^/?#\s\"'%\[]|%[0-9A-Fa-f]{2})++)"
)


_PREFIXES = tuple(kind.prefix for kind in SecretKind)
# A secret of any kind, anywhere (after '=', a space, '%20', ...): its prefix, then its URL-safe
# characters (all of them: possessive, so a shorter match cannot slip past the lookahead), unless
# already redacted.
_SECRET = re.compile(
    "(?:"
    + "|".join(re.escape(prefix) for prefix in _PREFIXES)
    + r")[\w-]++(?!"
    + re.escape(REDACTED)
    + ")",
    re.ASCII,
)


def _kept(token: str) -> str:
    # Only a token long enough for its prefix to be a small part of it keeps the prefix.
    return secret_visible(token) if len(token) > 2 * VISIBLE_PREFIX_LENGTH else ""


def _redacted(match: re.Match[str]) -> str:
    return f"{match.group(1)}{_kept(match.group(2))}{REDACTED}"


def redact(text: str) -> str:
    """`text` with the token of every /hook/<token> and /invite/<token> path, and every secret
    with a prefix of core/secrets.py, replaced by its prefix and [redacted], and every
    password-reset token by [redacted]."""
    if "/hook" in text or "/invite" in text:
        text = _HOOK_TOKEN.sub(_redacted, text)
    if any(prefix in text for prefix in _PREFIXES):
        text = _SECRET.sub(lambda m: _kept(m.group(0)) + REDACTED, text)
    if "/reset" in text:
        text = _RESET_TOKEN.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return text


class TokenRedactingFilter(logging.Filter):
    """Rewrites a record whose message names a token's path; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format is left for the handler to report
            return True
        redacted = redact(message)
        if redacted != message:
            # The formatted text, with no args left to format it again (it may hold '%').
            record.msg, record.args = redacted, ()
        return True


_FILTER = TokenRedactingFilter()


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with the token filter on its access and error logs."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(_FILTER)  # the same instance: re-running setup adds nothing
