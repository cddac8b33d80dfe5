"""What a member holds in a workspace besides their role, and what removing or demoting them does
to it (accounts/team.py calls this from `member_remove` and `member_role_change`).

Removal, or a demotion out of the roles that hold keys (api's `KEY_ROLES`, which api gives in
answer to the `member_key_kinds` signal), revokes the member's API keys; their pending invitations
go on removal, and on a demotion those the new role may not send. Source tokens are the
workspace's, never revoked for a member: the removal page offers to rotate or revoke them. Every
revocation is audited.

Design: docs/design/team.md
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.dispatch import Signal

from accounts.models import AuditEntry, Invitation, Membership, Source

if TYPE_CHECKING:
    from accounts.services import IssuedToken

Action = AuditEntry.Action


@dataclass(frozen=True)
class Held:
    """One credential a member created, as the removal page and the audit log name it."""

    pk: int
    name: str
    prefix: str
    created_at: datetime


@dataclass(frozen=True)
class MemberKeys:
    """A kind of credential that belongs to its creator: it goes when they may no longer hold it.

    `held(workspace_id, user_id)` lists the active ones; `revoke(workspace_id, user_id)` revokes
    them all and returns what it revoked; `roles` are the roles that may hold them."""

    label: str
    roles: frozenset[str]
    held: Callable[[int, int], list[Held]]
    revoke: Callable[[int, int], list[Held]]


# Sent with no arguments whenever a member's holdings are listed or revoked: each receiver
# returns the `MemberKeys` of a kind of credential its app keeps (api's keys), connected in its
# AppConfig.ready with a dispatch_uid.
member_key_kinds = Signal()


def _member_keys() -> list[MemberKeys]:
    """Every kind of credential that belongs to its creator, as the apps above answer."""
    return [kind for _, kind in member_key_kinds.send(sender=Membership)]


def _member_label(user: AbstractBaseUser) -> str:
    return user.email or user.get_username()


@dataclass(frozen=True)
class Holdings:
    keys: list[tuple[MemberKeys, Held]]
    sources: list[Source]
    invitations: list[Invitation]


def holdings_of(target: Membership) -> Holdings:
    """The active keys and sources `target` created in their workspace (no other workspace's),
    and the invitations they sent there that are still open."""
    keys = [
        (kind, held)
        for kind in _member_keys()
        for held in kind.held(target.workspace_id, target.user_id)
    ]
    sources = list(
        Source.objects.for_workspace(target.workspace)
        .active()
        .filter(created_by_id=target.user_id)
        .order_by("created_at", "id")
    )
    invitations = list(
        Invitation.objects.for_workspace(target.workspace)
        .filter(invited_by_id=target.user_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .order_by("created_at", "id")
    )
    return Holdings(keys=keys, sources=sources, invitations=invitations)


def member_keys_revoke(
    *, actor: AbstractBaseUser, target: Membership, role: str | None, reason: str
) -> list[Held]:
    """Revokes the kinds of key `role` may not hold (all of them when `role` is None: removed)."""
    from accounts.team import audit_record  # accounts.team imports this module

    revoked: list[Held] = []
    for kind in _member_keys():
        if role is not None and role in kind.roles:
            continue
        for held in kind.revoke(target.workspace_id, target.user_id):
            revoked.append(held)
            audit_record(
                workspace=target.workspace,
                actor=actor,
                action=Action.API_KEY_REVOKED,
                target=f"{kind.label} {held.name} ({held.prefix}…) of {_member_label(target.user)}",
                detail={"key_id": held.pk, "user_id": target.user_id, "reason": reason},
            )
    return revoked


KEEP, ROTATE, REVOKE = "keep", "rotate", "revoke"
SOURCE_CHOICES = (KEEP, ROTATE, REVOKE)


def sources_release(
    *, actor: AbstractBaseUser, target: Membership, choices: dict[int, str]
) -> list["IssuedToken"]:
    """Rotates or revokes the sources `target` created here, as chosen (source id -> choice);
    ids of other sources, or of another workspace's, do nothing. Returns the new tokens of the
    rotated ones, to show once."""
    # accounts.services imports accounts.team, which imports this module.
    from accounts.services import source_revoke, source_rotate
    from accounts.team import audit_record

    wanted = {pk for pk, choice in choices.items() if choice in {ROTATE, REVOKE}}
    issued = []
    for source in holdings_of(target).sources:
        if source.pk not in wanted:
            continue
        # Named by the token it had: rotating changes the visible prefix.
        label = f"{source.name} ({source.token_prefix}…), made by {_member_label(target.user)}"
        if choices[source.pk] == ROTATE:
            issued.append(source_rotate(source=source))
            action = Action.SOURCE_ROTATED
        else:
            source_revoke(source=source)
            action = Action.SOURCE_REVOKED
        audit_record(
            workspace=target.workspace,
            actor=actor,
            action=action,
            target=label,
            detail={"source_id": source.pk, "user_id": target.user_id},
        )
    return issued
