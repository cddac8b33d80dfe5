from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from api.authentication import ApiCaller


class ReadOnlyCaller(permissions.BasePermission):
    """A workspace caller, reading: the API never writes, whatever the key or session."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not isinstance(request.auth, ApiCaller):
            raise exceptions.NotAuthenticated()
        if request.method not in permissions.SAFE_METHODS:
            raise exceptions.PermissionDenied("The Read API is read-only.")
        return True
