from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone

from accounts.models import AuditEntry, Invitation, Membership, RejectedMessage, Source, Workspace
from accounts.team import audit_record, invitation_accept
from core.secrets import SecretKind, secret_digest, secret_issue, secret_matches

User = get_user_model()


@dataclass(frozen=True)
class IssuedToken:
    source: Source
    token: str


@transaction.atomic
def workspace_create(*, name: str, owner: AbstractBaseUser | None) -> Workspace:
    """A new workspace, owned by `owner` (signup, dev_setup, create_source). Only the
    create_source command makes one without an owner yet; one is attached later."""
    workspace = Workspace.objects.create(name=name)
    if owner is not None:
        Membership.objects.create(user=owner, workspace=workspace, role=Membership.Role.OWNER)
    return workspace


def _email_taken(email: str, password: str) -> bool:
    """Whether the email has an account; either way it costs one password hash, so the reply's
    timing does not tell."""
    if User.objects.filter(username=email).exists():
        make_password(password)
        return True
    return False


def user_signup(*, email: str, password: str, workspace_name: str) -> AbstractBaseUser | None:
    """A new user owning a new workspace; None when the email already has an account.

    Both outcomes take the time of one password hash, so the reply's timing does not tell
    whether an email has an account either.
    """
    if _email_taken(email, password):
        return None
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=email, email=email, password=password)
            workspace_create(name=workspace_name, owner=user)
    except IntegrityError:  # the same email signed up at the same moment
        return None
    return user


def user_signup_invited(
    *, email: str, password: str, invitation: Invitation
) -> AbstractBaseUser | None:
    """A new user who joins the invitation's workspace (no workspace of their own); None when
    the email already has an account (nothing changes: they log in and accept) or the link was
    used meanwhile. Timed like `user_signup`, for the same reason."""
    if _email_taken(email, password):
        return None
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=email, email=email, password=password)
            if invitation_accept(invitation=invitation, user=user) is None:
                raise _LinkUsed
    except (IntegrityError, _LinkUsed):
        return None
    return user


class _LinkUsed(Exception):
    """Rolls back a signup whose invitation was used by someone else meanwhile."""


def source_create(
    *,
    workspace: Workspace,
    name: str,
    kind: str = Source.Kind.SEGMENT,
    created_by: AbstractBaseUser | None = None,
) -> IssuedToken:
    issued = secret_issue(SecretKind.SOURCE_TOKEN)
    source = Source.objects.create(
        workspace=workspace,
        name=name,
        kind=kind,
        token_hash=issued.digest,
        token_prefix=issued.visible_prefix,
        created_by=created_by,
    )
    return IssuedToken(source=source, token=issued.secret)


def source_rotate(*, source: Source) -> IssuedToken:
    """A new token for the same source; the old one stops working at once."""
    issued = secret_issue(SecretKind.SOURCE_TOKEN)
    source.token_hash = issued.digest
    source.token_prefix = issued.visible_prefix
    source.revoked_at = None
    source.save(update_fields=["token_hash", "token_prefix", "revoked_at"])
    return IssuedToken(source=source, token=issued.secret)


def source_revoke(*, source: Source) -> Source:
    if source.revoked_at is None:
        source.revoked_at = timezone.now()
        source.save(update_fields=["revoked_at"])
    return source


def source_log_trim(source_id: int) -> None:
    """Keep only the newest INGEST_REJECTIONS_KEPT rows of a source's ingest log: a sender stuck
    on bad data cannot fill the database with it."""
    oldest_kept = (
        RejectedMessage.objects.filter(source_id=source_id)
        .order_by("-id")
        .values_list("id", flat=True)[settings.INGEST_REJECTIONS_KEPT - 1 :][:1]
    )
    RejectedMessage.objects.filter(source_id=source_id, id__lt=Subquery(oldest_kept)).delete()


@transaction.atomic
def source_erasure_set(
    *, source: Source, allowed: bool, actor: AbstractBaseUser | None = None
) -> Source:
    """Allow or forbid the source's `delete` messages (ingest/erasure_rule.py); audited."""
    if source.may_erase == allowed:
        return source
    source.may_erase = allowed
    # save(), not update(): its signal clears this process's token cache at once.
    source.save(update_fields=["may_erase"])
    Action = AuditEntry.Action
    audit_record(
        workspace=source.workspace,
        actor=actor,
        action=Action.SOURCE_ERASURE_ALLOWED if allowed else Action.SOURCE_ERASURE_FORBIDDEN,
        target=str(source),
        detail={"source_id": source.pk},
    )
    return source


def source_for_token(token: str) -> Source | None:
    """The active source a token belongs to, or None for unknown and revoked tokens."""
    if not token or len(token) > 200:
        return None
    digest = secret_digest(token)
    source = Source.objects.select_related("workspace").filter(token_hash=digest).first()
    if source is None or not secret_matches(token, source.token_hash) or not source.is_active:
        return None
    return source


def memberships_of(user: AbstractBaseUser) -> list[Membership]:
    """All the user's memberships, oldest first, with their workspaces (one query)."""
    return list(Membership.objects.select_related("workspace").filter(user=user).order_by("id"))


def membership_current(
    memberships: list[Membership], *, workspace_id: int | None = None
) -> Membership | None:
    """The membership the user works in: the chosen workspace while they still belong to it,
    else their first."""
    for membership in memberships:
        if membership.workspace_id == workspace_id:
            return membership
    return memberships[0] if memberships else None


def workspace_for_user(user: AbstractBaseUser) -> Workspace | None:
    membership = membership_current(memberships_of(user))
    return membership.workspace if membership else None


def membership_for(*, user: AbstractBaseUser, workspace: Workspace) -> Membership | None:
    return Membership.objects.filter(user=user, workspace=workspace).first()
