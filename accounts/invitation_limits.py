"""How often invitation mails may go out: each one carries the workspace's name, written by
whoever created the workspace, to an address they typed.

Limits per workspace (new invitations), per address (every invitation mail, all workspaces) and
per invitation (re-sends, and never within INVITATION_RESEND_INTERVAL), counted in Django's cache
in fixed windows, atomically, before the mail is sent (numbers: settings.py THROTTLE_INVITATION*).

Design: docs/design/team.md
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.throttle import window_count


class TooMany(Exception):
    """A limit was reached; the message says which, `retry_after` says when to try (seconds)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True)
class _Limit:
    name: str
    mails: int
    window: int
    refusal: str


def _limit(name: str, setting: tuple[int, int], refusal: str) -> _Limit:
    mails, window = setting
    return _Limit(name=name, mails=mails, window=window, refusal=refusal)


def _key(limit: _Limit, subject: str) -> str:
    # Hashed: an address is no valid cache key for every backend, nor kept in clear.
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"invitations:{limit.name}:{digest}"


def _count(limit: _Limit, subject: str) -> None:
    key = _key(limit, subject)
    if window_count(key, limit.window) > limit.mails:
        cache.decr(key)  # the refused mail is not sent, so it does not count
        hours = limit.window // 3600
        window = f"{hours} hours" if hours > 1 else "hour"
        raise TooMany(limit.refusal.format(n=limit.mails, window=window), retry_after=limit.window)


def _address_limit() -> _Limit:
    return _limit(
        "address",
        settings.THROTTLE_INVITATION_MAILS_PER_ADDRESS,
        "Too many invitations were mailed to this address: at most {n} per {window}. "
        "Copy an existing link to them instead, or try later.",
    )


def invitation_new_count(*, workspace_id: int, email: str) -> None:
    """Counts a new invitation's mail, or raises TooMany."""
    per_workspace = _limit(
        "workspace",
        settings.THROTTLE_INVITATIONS_PER_WORKSPACE,
        "Too many invitations: a workspace sends at most {n} per {window}. Try again later.",
    )
    _count(per_workspace, str(workspace_id))
    _count(_address_limit(), email.strip().lower())


def invitation_resend_count(*, invitation_id: int, email: str, sent_at: datetime) -> None:
    """Counts a re-sent invitation's mail, or raises TooMany."""
    interval = settings.INVITATION_RESEND_INTERVAL
    waited = (timezone.now() - sent_at).total_seconds()
    if waited < interval:
        raise TooMany(
            f"This invitation was mailed less than {interval // 60} minutes ago: "
            "give the mail time to arrive, or copy the link from that page.",
            retry_after=int(interval - waited) + 1,
        )
    per_invitation = _limit(
        "resend",
        settings.THROTTLE_RESENDS_PER_INVITATION,
        "Too many invitations: this one was re-sent {n} times in the last {window}. "
        "Try again later.",
    )
    _count(per_invitation, str(invitation_id))
    _count(_address_limit(), email.strip().lower())
