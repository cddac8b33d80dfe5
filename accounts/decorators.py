"""Who may open a page, checked in one place: `member_required`.

A page is for a signed-in member of a workspace (anonymous: to the login page; in no workspace:
a 404), and may need a capability of their role (Membership.Capability; without it, a 403). The
view is handed the request typed as a `WorkspaceRequest`, whose `membership` and `workspace` are
the member's current ones. A service's refusal (`accounts.team.NotAllowed`) is a
PermissionDenied, which Django answers with a 403 wherever it is raised; the one kind a member
can mend (the last owner) is told as a message on the page the view names in `refused_to`.
"""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.middleware import TeamRequest
from accounts.models import Membership, Workspace
from accounts.team import NotAllowed

Capability = Membership.Capability
P = ParamSpec("P")

# The 403's reason, per capability (Django's 403 page does not show it; logs and tests do).
REFUSALS = {
    Capability.OWNER: "Only owners may do this.",
    Capability.MANAGE_MEMBERS: "Only owners and admins manage members.",
    Capability.MANAGE_SOURCES: "Only owners and admins manage sources.",
    Capability.DELETE_PEOPLE: "Only owners and admins delete people.",
}


class WorkspaceRequest(HttpRequest):
    """A request `member_required` let in: signed in, with a current membership."""

    membership: Membership
    workspace: Workspace
    memberships: list[Membership]  # the header's switcher: every workspace of the user


def member_required(
    capability: Membership.Capability | None = None, *, refused_to: str | None = None
) -> Callable[
    [Callable[Concatenate[WorkspaceRequest, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """Signed in, a member of a workspace and, when given, holding `capability` (else a 403).

    `refused_to`: the URL name to redirect to, with the refusal as an error message, when the
    view (its service) refuses with a NotAllowed that is `told_on_page` (the last owner)."""

    def decorator(
        view: Callable[Concatenate[WorkspaceRequest, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            membership = cast(TeamRequest, request).membership
            if not membership:
                raise Http404("You are not a member of any workspace.")
            if capability is not None and not membership.can(capability):
                raise NotAllowed(REFUSALS[capability])
            try:
                return view(cast(WorkspaceRequest, request), *args, **kwargs)
            except NotAllowed as refusal:
                if refused_to is None or not refusal.told_on_page:
                    raise
                messages.error(request, str(refusal))
                return redirect(refused_to)

        return wrapper

    return decorator
