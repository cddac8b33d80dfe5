"""Workspace API keys: issued once, stored as a SHA-256 digest and a visible prefix, revoked for
good. A key only reads (api/permissions.py); the sources' ingest tokens only write.

A key belongs to the member who created it (accounts/holdings.py states the rules): it works
only while its creator is a member of its workspace with a role in KEY_ROLES, checked on every
request, and removing or demoting them revokes it. A key with no creator was made by an operator
(a command, a bench); deleting a user deletes their keys.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.holdings import Held, MemberKeys
from accounts.models import Membership, Workspace
from api.models import ApiKey
from core.secrets import SecretKind, secret_digest, secret_issue, secret_matches

MAX_KEY_LENGTH = 200
# "Last used" is kept to within this much: at most one UPDATE per key per period, whatever the
# request rate.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The roles that manage keys (the API keys page) and so may hold them.
# The roles that hold keys are the roles that manage sources and keys: one table decides both.
KEY_ROLES = Membership.CAPABLE[Membership.Capability.MANAGE_SOURCES]


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


@transaction.atomic
def api_key_create(
    *, workspace: Workspace, name: str, created_by: AbstractBaseUser | None
) -> IssuedKey:
    issued = secret_issue(SecretKind.API_KEY)
    key = ApiKey.objects.create(
        workspace=workspace,
        name=name,
        prefix=issued.visible_prefix,
        key_hash=issued.digest,
        created_by=created_by,
    )
    return IssuedKey(key=key, secret=issued.secret)


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
    holder = Membership.objects.filter(
        user=OuterRef("created_by"), workspace=OuterRef("workspace"), role__in=KEY_ROLES
    )
    key = (
        ApiKey.objects.select_related("workspace")
        .annotate(creator_holds=Exists(holder))
        .filter(key_hash=secret_digest(secret))
        .first()
    )
    if key is None or not secret_matches(secret, key.key_hash) or not key.is_active:
        return None
    # Belt and braces with the revocation on removal and demotion: a membership changed any
    # other way (the Django admin, a shell) stops the key too.
    if key.created_by_id is not None and not key.creator_holds:
        return None
    return key


def _held(key: ApiKey) -> Held:
    return Held(pk=key.pk, name=key.name, prefix=key.prefix, created_at=key.created_at)


def api_keys_held(workspace_id: int, user_id: int) -> list[Held]:
    """The active keys this member created in this workspace."""
    keys = ApiKey.objects.active().filter(workspace_id=workspace_id, created_by_id=user_id)
    return [_held(key) for key in keys.order_by("created_at", "id")]


def api_keys_revoke_held(workspace_id: int, user_id: int) -> list[Held]:
    """Revokes every active key this member created in this workspace (one UPDATE)."""
    keys = ApiKey.objects.active().filter(workspace_id=workspace_id, created_by_id=user_id)
    held = [_held(key) for key in keys.select_for_update().order_by("id")]
    keys.filter(pk__in=[h.pk for h in held]).update(revoked_at=timezone.now())
    return held


API_KEYS = MemberKeys(
    label="API key", roles=KEY_ROLES, held=api_keys_held, revoke=api_keys_revoke_held
)


def api_keys_kind(sender: object, **kwargs: object) -> MemberKeys:
    """accounts.holdings.member_key_kinds's receiver (api.apps connects it): the API keys."""
    return API_KEYS


def api_key_used(*, key: ApiKey) -> None:
    """Stamps the key used now, unless it was done within LAST_USED_RESOLUTION."""
    now = timezone.now()
    last = key.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    # Conditional, so that concurrent requests with one key write once.
    ApiKey.objects.filter(pk=key.pk, last_used_at=last).update(last_used_at=now)
    key.last_used_at = now
