"""Workspace API keys: issued once, stored as a SHA-256 digest and a visible prefix, revoked for
good. A key only reads (api/permissions.py); the sources' ingest tokens only write."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.models import Workspace
from accounts.tokens import token_hash, token_matches, token_prefix
from api.models import ApiKey

# Distinct from source tokens (`wsr_`), so that a key pasted as a token, or the reverse, is
# recognisably the wrong kind.
KEY_PREFIX = "wak_"
MAX_KEY_LENGTH = 200
# "Last used" is kept to within this much: at most one UPDATE per key per period, whatever the
# request rate.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


def _secret_generate() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def api_key_create(
    *, workspace: Workspace, name: str, created_by: AbstractBaseUser | None
) -> IssuedKey:
    secret = _secret_generate()
    key = ApiKey.objects.create(
        workspace=workspace,
        name=name,
        prefix=token_prefix(secret),
        key_hash=token_hash(secret),
        created_by=created_by,
    )
    return IssuedKey(key=key, secret=secret)


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_for_secret(secret: str) -> ApiKey | None:
    """The active key of a secret, with its workspace, or None for unknown and revoked keys.

    Looked up by the digest of the whole secret (never by its visible prefix, which anyone who
    saw the keys page knows), and compared in constant time."""
    if not secret or len(secret) > MAX_KEY_LENGTH or not secret.isascii():
        return None
    key = ApiKey.objects.select_related("workspace").filter(key_hash=token_hash(secret)).first()
    if key is None or not token_matches(secret, key.key_hash) or not key.is_active:
        return None
    return key


def api_key_used(*, key: ApiKey) -> None:
    """Stamps the key used now, unless it was done within LAST_USED_RESOLUTION."""
    now = timezone.now()
    last = key.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    # Conditional, so that concurrent requests with one key write once.
    ApiKey.objects.filter(pk=key.pk, last_used_at=last).update(last_used_at=now)
    key.last_used_at = now
