"""Pages that show a secret once (a new source token, a new API key)."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, shows_secret: bool
) -> HttpResponse:
    """`render`, and when the page holds a secret, headers so that no cache, proxy or back
    button keeps a copy of it."""
    response = render(request, template, context)
    if shows_secret:
        add_never_cache_headers(response)
    return response
