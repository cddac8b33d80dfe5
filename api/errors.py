"""Every error of the API is one JSON shape, `{"code": "...", "message": "..."}` (the ingest
endpoints' shape too), mapped here once from DRF's exceptions. A filter the segments engine
refuses (segments.filters.FilterError) is an `invalid_parameter` 400 too, whose message starts
with the parameter's name, with `param` and the `path` of the part refused
(e.g. `conditions[2].value`)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.params import ParameterError
from segments.filters import FilterError

CODES = {
    400: "invalid_parameter",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    429: "throttled",
}


class InvalidParameter(exceptions.ValidationError):
    pass


class InvalidFilter(exceptions.ValidationError):
    def __init__(self, error: FilterError, *, param: str) -> None:
        super().__init__(f"{param}: {error.message}")
        self.path = error.path
        self.param = param


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, FilterError):
        exc = InvalidFilter(exc, param="filter")
    elif isinstance(exc, ParameterError):
        exc = InvalidParameter(str(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("No such item in this workspace.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's 500 handling
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # DRF answers 403 to these when no authenticator offers a challenge; ours always does.
        response.status_code = 401
    code = CODES.get(response.status_code, "error")
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    message = _flatten(detail) if isinstance(detail, list | dict) else str(detail)
    response.data = {"code": code, "message": message}
    if isinstance(exc, InvalidFilter):
        response.data.update(param=exc.param, path=exc.path)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response.data["retry_after"] = int(exc.wait + 0.999)
    return response


def _flatten(detail: list | dict) -> str:
    if isinstance(detail, dict):
        return "; ".join(
            f"{k}: {_flatten(v) if isinstance(v, list | dict) else v}" for k, v in detail.items()
        )
    return "; ".join(_flatten(v) if isinstance(v, list | dict) else str(v) for v in detail)
