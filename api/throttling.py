from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from api.authentication import ApiCaller


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per key (per member and workspace for the browser's session), counted in the
    Django cache: Redis in production, so every web process counts the same requests."""

    scope = "api"

    def get_rate(self) -> str | None:
        # Read per request, not at import, so that settings can change it (tests, deployments).
        return settings.API_RATE_LIMIT or None

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.auth, ApiCaller):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.throttle_ident}
