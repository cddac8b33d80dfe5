"""Who may erase: when a Segment `delete` in a request is honoured, and why it is refused.

A write key ships in every web page that loads analytics.js: anyone can read it and send what
that page may send. Erasure is a privileged act, so a `delete` is honoured only when all three
hold:

- the source may erase (`Source.may_erase`, off by default; an owner or admin turns it on, on the
  Sources page, for the source Segment's destination delivers to);
- the request authenticated with the Authorization header (Basic, as Segment's destination
  sends, or Bearer, as its Webhooks destination does), not a `writeKey` in the body nor a token
  in the URL: those are the forms browsers and the page-shipped SDKs use;
- no browser made it: the request has no `Origin` header (browsers send one on every
  cross-origin POST, `Origin: null` from a sandboxed frame; servers send none).

Otherwise each `delete` of the request is refused alone, with the reason, in the reply and in the
source's log of rejected messages, and every other message of the request is stored.

The rule is applied here, at the edge, where the request is known. The worker checks the first
part again (people/deletion.py `message_delete`): a delete queued before an admin forbade its
source, or by a server older than this rule, is refused there and logged the same way. Turning
"may erase" off reaches the other web processes within INGEST_TOKEN_CACHE_SECONDS, as a
revocation does (ingest/authentication.py caches the source).
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
