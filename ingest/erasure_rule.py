"""Who may erase: when a Segment `delete` in a request is honoured, and why it is refused.

A `delete` is honoured only when the source may erase (`Source.may_erase`), the request
authenticated with the Authorization header (not a `writeKey` nor a URL token) and no browser
made it (no `Origin` header): a write key ships in every page that loads analytics.js. Otherwise
each `delete` is refused alone, with its reason, and the rest of the request is stored; the worker
checks the source again (people/deletion.py `message_delete`).

Design: docs/design/erasure.md
"""

from django.http import HttpRequest

from ingest.authentication import Sender

NOT_ALLOWED = (
    "This source is not allowed to erase people: an owner or admin allows it on the Sources page "
    "(only for Segment's server-to-server deliveries)."
)
NOT_BY_HEADER = (
    "A delete must carry the source token in the Authorization header (Basic auth, server to "
    "server), not as a writeKey in the body or a token in the URL."
)
FROM_BROWSER = "A delete is never accepted from a browser (the request has an Origin header)."


def from_browser(request: HttpRequest) -> bool:
    """Whether a browser made the request: browsers send Origin on every cross-origin POST (and
    `Origin: null` from a sandboxed frame); servers and the server-side SDKs send none. What a
    browser sends with a source's key is rate-limited (ingest/queue.py `rate_allowed`) and never
    erases."""
    return "HTTP_ORIGIN" in request.META


def deletes_refusal(request: HttpRequest, *, sender: Sender, by_header: bool) -> str | None:
    """Why this request's deletes are refused, or None when they are honoured."""
    if not sender.may_erase:
        return NOT_ALLOWED
    if not by_header:
        return NOT_BY_HEADER
    if from_browser(request):
        return FROM_BROWSER
    return None
