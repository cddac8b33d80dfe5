"""The API's cursor pagination: core.paging's keyset pager (the pages' own), as a DRF
pagination class. `?after=<cursor>` reads the next (older) page, `?before=<cursor>` the previous
one, `?limit=` the page size; the answer carries both links, or null at either end."""

from collections.abc import Callable
from typing import Any

from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.paging import Cursor, Page
from core.params import cursor_param, integer_param

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class KeysetPagination(BasePagination):
    def page_of(self, request: Request, fetch: Callable[..., Page]) -> list[Any]:
        """The rows of the page `request` asks for; `fetch(after=, before=, size=)` reads it."""
        self.request = request
        after = _cursor(request, "after")
        before = _cursor(request, "before")
        self.page = fetch(after=after, before=before, size=_limit(request))
        return self.page.rows

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            {
                "next": self._link("after", self.page.older),
                "previous": self._link("before", self.page.newer),
                "results": data,
            }
        )

    def _link(self, param: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        url = remove_query_param(url, "before" if param == "after" else "after")
        return replace_query_param(url, param, cursor)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        cursor = {"type": "string"}
        return [
            {"name": "after", "in": "query", "required": False, "schema": cursor,
             "description": "The cursor of the page after (older): follow `next`."},
            {"name": "before", "in": "query", "required": False, "schema": cursor,
             "description": "The cursor of the page before (newer): follow `previous`."},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT},
             "description": "Rows per page."},
        ]  # fmt: skip


def _cursor(request: Request, param: str) -> Cursor | None:
    return cursor_param(request.query_params, param)


def _limit(request: Request) -> int:
    limit = integer_param(request.query_params, "limit", minimum=1, maximum=MAX_LIMIT)
    return DEFAULT_LIMIT if limit is None else limit
