from django.http import HttpRequest


def team(request: HttpRequest) -> dict[str, object]:
    """The header's workspace switcher: the user's memberships (loaded with the current one)."""
    return {"memberships": getattr(request, "memberships", ())}
