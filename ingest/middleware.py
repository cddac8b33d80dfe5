"""The ingest paths' way through Django: straight from the security middleware to the view.

Senders post JSON with a source token; they have no session, no cookie, no CSRF token, no user,
no workspace to choose, and read no HTML (so no CSP or frame headers). Running the rest of the
stack for them cost about a millisecond a request, as much as parsing a small batch: in front of
everything else, this resolves /v1/... and /hook/... against the ingest URLconf alone and calls
the view. Anything it does not recognise takes the normal way.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver

PREFIXES = ("/v1/", "/hook/")


class IngestShortcutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.resolver = get_resolver("ingest.urls")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIXES):
            return self.get_response(request)
        try:
            match = self.resolver.resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        request.get_host()  # the ALLOWED_HOSTS check CommonMiddleware would have made
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        # What CommonMiddleware adds: some HTTP/1.0 senders wait for the close without it.
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response
