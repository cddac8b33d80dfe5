from collections.abc import Callable
from datetime import timedelta
from typing import cast

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.models import Membership, Workspace
from accounts.services import membership_current, memberships_of

# The session key that holds the workspace chosen in the header's switcher.
SESSION_WORKSPACE = "windsor_workspace_id"
# "Last active" is kept to within this much: at most one UPDATE per member per period.
ACTIVITY_RESOLUTION = timedelta(minutes=5)


class TeamRequest(HttpRequest):
    """A request as WorkspaceMiddleware leaves it (accounts.decorators.WorkspaceRequest is one
    that passed `member_required`, where the membership and workspace are never None)."""

    membership: Membership | None
    workspace: Workspace | None
    memberships: list[Membership]


def workspace_choose(request: HttpRequest, workspace_id: int) -> None:
    request.session[SESSION_WORKSPACE] = workspace_id


def activity_record(membership: Membership) -> None:
    """Stamps the member active now, unless it was done within ACTIVITY_RESOLUTION."""
    now = timezone.now()
    last = membership.last_active_at
    if last is not None and now - last < ACTIVITY_RESOLUTION:
        return
    membership.last_active_at = now
    # Conditional, so that concurrent requests of one member write once.
    Membership.objects.filter(pk=membership.pk, last_active_at=last).update(last_active_at=now)


class WorkspaceMiddleware:
    """Puts the signed-in user's current membership and workspace on the request.

    `request.membership` and `request.workspace` are None when anonymous or in no workspace.
    The current workspace is the one chosen with the switcher (kept in the session) while the
    user belongs to it, else their first. Loaded on first use; a request that used it also
    stamps the member's last activity (at most once per ACTIVITY_RESOLUTION).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, http_request: HttpRequest) -> HttpResponse:
        request = cast(TeamRequest, http_request)
        loaded: list[Membership] = []
        everything: list[list[Membership]] = []

        def load_memberships() -> list[Membership]:
            if not everything:
                user: AbstractBaseUser | None = getattr(request, "user", None)
                authenticated = user is not None and user.is_authenticated
                everything.append(memberships_of(user) if authenticated else [])
            return everything[0]

        def load_membership() -> Membership | None:
            chosen = request.session.get(SESSION_WORKSPACE) if hasattr(request, "session") else None
            membership = membership_current(
                load_memberships(), workspace_id=chosen if isinstance(chosen, int) else None
            )
            if membership is not None:
                loaded.append(membership)
            return membership

        membership = SimpleLazyObject(load_membership)
        # The switcher's list: the same query as the current membership, so it costs nothing.
        request.memberships = SimpleLazyObject(load_memberships)

        def load_workspace():
            return membership.workspace if membership else None

        request.membership = membership
        request.workspace = SimpleLazyObject(load_workspace)
        response = self.get_response(request)
        if loaded:
            activity_record(loaded[0])
        return response


def activity_at_login(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: object
) -> None:
    chosen = request.session.get(SESSION_WORKSPACE) if request is not None else None
    membership = membership_current(
        memberships_of(user), workspace_id=chosen if isinstance(chosen, int) else None
    )
    if membership is not None:
        activity_record(membership)
