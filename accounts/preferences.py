"""The "Show Hidden Events" choice, remembered per member of a workspace.

Stored on `accounts.Membership.show_hidden_events`, so it follows the user across visits and
browsers; the Feed and the person timeline on the People pages read the same field.
"""

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Membership, Workspace


def hidden_events_preference(*, user: AbstractBaseUser, workspace: Workspace) -> bool:
    """Whether this member last chose to see hidden events (False until they choose)."""
    shown = (
        Membership.objects.filter(user=user, workspace=workspace)
        .values_list("show_hidden_events", flat=True)
        .first()
    )
    return bool(shown)


def hidden_events_preference_set(
    *, user: AbstractBaseUser, workspace: Workspace, show: bool
) -> None:
    # One UPDATE, no read-modify-write: two tabs toggling at once just leave the last choice.
    Membership.objects.filter(user=user, workspace=workspace).update(show_hidden_events=show)
