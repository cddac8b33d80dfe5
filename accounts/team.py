"""Members, roles and invitations of a workspace: who may do what, stated once.

Roles are owner, admin and member: owners do anything, admins manage admins and members, members
change nothing; a workspace always keeps an owner (the owner rows are locked while that is
checked). An invitation is a single-use link (only its SHA-256 stored) that expires a week after it
was last sent and never grants more than its sender still may. Removing or demoting a member
revokes what they held (accounts/holdings.py); invitation mails are limited
(accounts/invitation_limits.py); every change is in the audit log, in the same transaction.

Design: docs/design/team.md
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts import holdings
from accounts.invitation_limits import invitation_new_count, invitation_resend_count
from accounts.models import AuditEntry, Invitation, Membership, Workspace
from core.secrets import SecretKind, secret_digest, secret_issue

if TYPE_CHECKING:
    from accounts.services import IssuedToken  # accounts.services imports this module

INVITATION_LIFETIME = timedelta(days=7)

Role = Membership.Role
Capability = Membership.Capability


class NotAllowed(PermissionDenied):
    """The actor's role does not allow this change; the message says why.

    A PermissionDenied, so Django answers it with a 403 wherever it is raised: no view catches it.
    """

    # A refusal the member can mend (make someone else owner first) is told on the page rather
    # than as a 403, where the view says which page (accounts.decorators.member_required).
    told_on_page: ClassVar[bool] = False


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str


def audit_record(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    action: str,
    target: str,
    detail: dict | None = None,
    actor_label: str | None = None,
) -> AuditEntry:
    """One audit row; `actor_label` names a non-user actor (a source forwarding a deletion)."""
    return AuditEntry.objects.create(
        workspace=workspace,
        actor=actor,
        actor_label=actor_label or getattr(actor, "email", "") or str(actor or "Windsor"),
        action=action,
        target=target[:500],
        detail=detail or {},
    )


# --- who may ------------------------------------------------------------------------------------


def roles_grantable_by(actor: Membership) -> list[str]:
    """The roles `actor` may invite with or give."""
    if actor.role == Role.OWNER:
        return [Role.OWNER, Role.ADMIN, Role.MEMBER]
    if actor.role == Role.ADMIN:
        return [Role.ADMIN, Role.MEMBER]
    return []


def may_manage(actor: Membership, target: Membership) -> bool:
    """Whether `actor` may change `target`'s role or remove them (the last-owner rule aside)."""
    if actor.workspace_id != target.workspace_id or not actor.can(Capability.MANAGE_MEMBERS):
        return False
    return actor.can(Capability.OWNER) or target.role != Role.OWNER


def _require_invite(actor: Membership, role: str) -> None:
    if role not in roles_grantable_by(actor):
        raise NotAllowed(f"A {actor.get_role_display().lower()} cannot invite with that role.")


def _require_manage(actor: Membership, target: Membership) -> None:
    if not may_manage(actor, target):
        raise NotAllowed("Your role does not allow changing this member.")


def _lock_owners(workspace: Workspace) -> list[int]:
    return list(
        Membership.objects.for_workspace(workspace)
        .owners()
        .select_for_update()
        .values_list("pk", flat=True)
    )


class LastOwner(NotAllowed):
    """The change would leave the workspace without an owner."""

    told_on_page = True


def _require_another_owner(target: Membership) -> None:
    if target.role == Role.OWNER and _lock_owners(target.workspace) == [target.pk]:
        raise LastOwner("A workspace keeps at least one owner: make someone else owner first.")


# --- invitations --------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str) -> IssuedInvitation:
    _require_invite(actor, role)
    invitation_new_count(workspace_id=actor.workspace_id, email=email)
    issued = secret_issue(SecretKind.INVITATION)
    now = timezone.now()
    invitation = Invitation.objects.create(
        workspace=actor.workspace,
        email=email.strip().lower(),
        role=role,
        token_hash=issued.digest,
        invited_by=actor.user,
        sent_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    audit_record(
        workspace=actor.workspace,
        actor=actor.user,
        action=AuditEntry.Action.INVITED,
        target=f"{invitation.email} as {invitation.get_role_display().lower()}",
        detail={"invitation_id": invitation.pk, "role": role},
    )
    return IssuedInvitation(invitation=invitation, token=issued.secret)


@transaction.atomic
def invitation_resend(*, actor: Membership, invitation: Invitation) -> IssuedInvitation:
    """A new link for a pending or expired invitation; the old link stops working."""
    _require_invite(actor, invitation.role)
    # Locked: two clicks on Re-send at once read one `sent_at` and mail once.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise NotAllowed("This invitation was used or revoked: invite again instead.")
    invitation_resend_count(
        invitation_id=invitation.pk, email=invitation.email, sent_at=invitation.sent_at
    )
    issued = secret_issue(SecretKind.INVITATION)
    now = timezone.now()
    invitation.token_hash = issued.digest
    invitation.sent_at = now
    invitation.expires_at = now + INVITATION_LIFETIME
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
    audit_record(
        workspace=actor.workspace,
        actor=actor.user,
        action=AuditEntry.Action.INVITATION_RESENT,
        target=invitation.email,
        detail={"invitation_id": invitation.pk},
    )
    return IssuedInvitation(invitation=invitation, token=issued.secret)


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    _require_invite(actor, invitation.role)
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if updated:
        audit_record(
            workspace=actor.workspace,
            actor=actor.user,
            action=AuditEntry.Action.INVITATION_REVOKED,
            target=invitation.email,
            detail={"invitation_id": invitation.pk},
        )


def sender_may_invite(invitation: Invitation) -> bool:
    """Whether whoever sent it is still a member here with a role that may invite with its role."""
    if invitation.invited_by_id is None:  # their account was deleted
        return False
    sender = Membership.objects.filter(
        user_id=invitation.invited_by_id, workspace_id=invitation.workspace_id
    ).first()
    return sender is not None and invitation.role in roles_grantable_by(sender)


def invitation_state(invitation: Invitation) -> str:
    """The invitation's state, where a pending one whose sender lost the right counts as revoked."""
    state = invitation.state
    if state == Invitation.State.PENDING and not sender_may_invite(invitation):
        return Invitation.State.REVOKED
    return state


def _invitations_revoke_sent(
    *, actor: AbstractBaseUser, target: Membership, keep_roles: list[str], reason: str
) -> None:
    """Revokes the open invitations `target` sent here, but those with a role in `keep_roles`.

    Expired ones too: another admin could re-send them, and the link would carry this sender."""
    open_ = Invitation.objects.filter(
        workspace_id=target.workspace_id,
        invited_by_id=target.user_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).exclude(role__in=keep_roles)
    revoked = list(open_.select_for_update().order_by("id"))
    open_.filter(pk__in=[i.pk for i in revoked]).update(revoked_at=timezone.now())
    for invitation in revoked:
        audit_record(
            workspace=target.workspace,
            actor=actor,
            action=AuditEntry.Action.INVITATION_REVOKED,
            target=invitation.email,
            detail={"invitation_id": invitation.pk, "reason": reason},
        )


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link's token belongs to, in whatever state, or None."""
    if not token or len(token) > 200 or not token.isascii():
        return None
    return (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(token_hash=secret_digest(token))
        .first()
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: AbstractBaseUser) -> Membership | None:
    """The user joins with the invited role; None when the link was no longer pending.

    The row is locked and its state read again, so a link used in two tabs at once makes one
    membership.
    """
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation_state(locked) != Invitation.State.PENDING:
        return None
    membership, created = Membership.objects.get_or_create(
        user=user, workspace_id=locked.workspace_id, defaults={"role": locked.role}
    )
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        workspace=locked.workspace,
        actor=user,
        action=AuditEntry.Action.INVITATION_ACCEPTED,
        target=f"{user.email or user.get_username()} as {membership.get_role_display().lower()}",
        detail={"invitation_id": locked.pk, "already_member": not created},
    )
    return membership


# --- members ------------------------------------------------------------------------------------


@transaction.atomic
def member_role_change(*, actor: Membership, target: Membership, role: str) -> Membership:
    _require_manage(actor, target)
    if role not in roles_grantable_by(actor):
        raise NotAllowed("Your role cannot give that role.")
    if role == target.role:
        return target
    if role != Role.OWNER:
        _require_another_owner(target)
    before = target.role
    target.role = role
    target.save(update_fields=["role"])
    reason = f"demoted from {before} to {role}"
    holdings.member_keys_revoke(actor=actor.user, target=target, role=role, reason=reason)
    _invitations_revoke_sent(
        actor=actor.user, target=target, keep_roles=roles_grantable_by(target), reason=reason
    )
    audit_record(
        workspace=actor.workspace,
        actor=actor.user,
        action=AuditEntry.Action.ROLE_CHANGED,
        target=f"{target.user.email or target.user.get_username()}: {before} -> {role}",
        detail={"user_id": target.user_id, "from": before, "to": role},
    )
    return target


@transaction.atomic
def member_remove(
    *, actor: Membership, target: Membership, sources: dict[int, str] | None = None
) -> list["IssuedToken"]:
    """Removes `target` from the workspace; a member removing themselves leaves it.

    Their API keys and the invitations they sent go with them; `sources` (source id -> keep,
    rotate or revoke) says what to do with the sources they made. Returns the new tokens of the
    rotated sources, to show once."""
    leaving = actor.pk == target.pk
    if not leaving:
        _require_manage(actor, target)
    _require_another_owner(target)
    reason = "left" if leaving else "removed"
    holdings.member_keys_revoke(actor=actor.user, target=target, role=None, reason=reason)
    _invitations_revoke_sent(actor=actor.user, target=target, keep_roles=[], reason=reason)
    issued = holdings.sources_release(actor=actor.user, target=target, choices=sources or {})
    target.delete()
    audit_record(
        workspace=actor.workspace,
        actor=actor.user,
        action=AuditEntry.Action.MEMBER_LEFT if leaving else AuditEntry.Action.MEMBER_REMOVED,
        target=f"{target.user.email or target.user.get_username()} ({target.role})",
        detail={"user_id": target.user_id, "role": target.role},
    )
    return issued
