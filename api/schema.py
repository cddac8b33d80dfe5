from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


def only_read_api(endpoints: list[tuple[str, str, str, Any]], **_: Any) -> list:
    """The schema documents the Read API's JSON endpoints, not its own schema and docs views."""
    return [
        (path, regex, method, view)
        for path, regex, method, view in endpoints
        if path.startswith("/api/v1/") and not path.startswith(("/api/v1/schema", "/api/v1/docs"))
    ]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A workspace API key (wak_…), from the API keys page.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.WorkspaceSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
