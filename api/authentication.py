"""Who is reading: a workspace API key (`Authorization: Bearer wak_…`), or the signed-in browser.

Both give the request an `ApiCaller`: the workspace every query of the API starts from, and the
key (None for a session). A session reads the workspace it is switched to in the header, exactly
as the pages do (accounts/middleware.py)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import Membership, Workspace
from api.models import ApiKey
from api.services import api_key_for_secret, api_key_used
from core.secrets import SecretKind


@dataclass(frozen=True)
class ApiCaller:
    workspace: Workspace
    key: ApiKey | None = None
    user_id: int | None = None  # the signed-in user, for a session

    def viewer(self) -> Membership | None:
        """The membership the caller reads as (private segments are its maker's): the key's
        creator's, the signed-in user's; None for a key an operator made (team segments only).
        One query, made only by the reads that need it."""
        user_id = self.key.created_by_id if self.key is not None else self.user_id
        if user_id is None:
            return None
        return Membership.objects.filter(workspace=self.workspace, user_id=user_id).first()

    @property
    def throttle_ident(self) -> str:
        if self.key is not None:
            return f"key-{self.key.pk}"
        return f"user-{self.user_id}-workspace-{self.workspace.pk}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiCaller] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            return None  # not ours: the session may still authenticate
        secret = secret.strip()
        prefix = SecretKind.API_KEY.prefix
        if not secret.startswith(prefix):
            raise exceptions.AuthenticationFailed(
                f"Send a workspace API key ({prefix}…) as the Bearer token; source tokens "
                "only write to the ingest endpoints."
            )
        key = api_key_for_secret(secret)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        api_key_used(key=key)
        return AnonymousUser(), ApiCaller(workspace=key.workspace, key=key)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when no credentials came.
        return 'Bearer realm="api"'


class WorkspaceSessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser, reading its current workspace (CSRF checked on unsafe methods)."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiCaller] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        workspace = getattr(request._request, "workspace", None)
        if not workspace:
            raise exceptions.PermissionDenied("You are not a member of any workspace.")
        return found[0], ApiCaller(workspace=workspace, user_id=found[0].pk)
