"""Who may create an account here: `settings.WINDSOR_SIGNUP` is open, invite or closed.

`signup_permitted` is the one place that decides. Under `invite`, someone who opened a pending
invitation link (its token is then in their session, see `invitation_remember`) may sign up;
the new account joins that workspace instead of creating one. Under `closed` nobody signs up,
invited or not: an administrator creates accounts, which then accept invitations after login.
"""

from django.conf import settings
from django.http import HttpRequest

from accounts.models import Invitation
from accounts.team import invitation_for_token, invitation_state

SESSION_INVITATION = "windsor_invitation_token"


def signup_open() -> bool:
    """Anyone may sign up: the login page offers a signup link only then."""
    return settings.WINDSOR_SIGNUP == "open"


def invitation_remember(request: HttpRequest, token: str) -> None:
    request.session[SESSION_INVITATION] = token


def invitation_forget(request: HttpRequest) -> None:
    request.session.pop(SESSION_INVITATION, None)


def session_invitation(request: HttpRequest) -> tuple[Invitation, str] | None:
    """The pending invitation whose link this browser opened, with its token, or None."""
    token = request.session.get(SESSION_INVITATION) if hasattr(request, "session") else None
    invitation = invitation_for_token(token) if isinstance(token, str) else None
    if invitation is None or invitation_state(invitation) != Invitation.State.PENDING:
        return None
    return invitation, token


def signup_permitted(request: HttpRequest) -> bool:
    if settings.WINDSOR_SIGNUP == "closed":
        return False
    return signup_open() or session_invitation(request) is not None
