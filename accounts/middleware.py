from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from accounts.services import workspace_for_user


class WorkspaceMiddleware:
    """Puts the signed-in user's workspace on `request.workspace` (None when anonymous)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        def load():
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated:
                return None
            return workspace_for_user(user)

        request.workspace = SimpleLazyObject(load)  # type: ignore[attr-defined]
        return self.get_response(request)
