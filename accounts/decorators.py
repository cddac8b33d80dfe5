from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse


def workspace_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in and a member of a workspace; the view reads it from `request.workspace`."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.workspace:  # type: ignore[attr-defined]
            raise Http404("You are not a member of any workspace.")
        return view(request, *args, **kwargs)

    return wrapper
