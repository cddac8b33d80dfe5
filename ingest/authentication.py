"""Who is sending: a source token from the path, the Authorization header or the body.

Segment's destination sends `Authorization: Basic base64(token:)`; some senders leave out the
colon or put the token in the password; Webhooks (Actions) send `Bearer token`; analytics.js and
server SDKs also put it in the body as `writeKey`; windsor-node puts it in the path.
"""

import base64
import binascii
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest

from accounts.services import source_for_token
from core.secrets import secret_digest
from ingest.errors import IngestError


def token_from_headers(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "").strip()
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if not credentials:
        return None
    scheme = scheme.lower()
    if scheme == "bearer":
        return credentials
    if scheme != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise IngestError(
            401, "invalid_token", "The Authorization header is not valid Basic auth."
        ) from None
    user, _, password = decoded.partition(":")
    return user or password or None


@dataclass(frozen=True, slots=True)
class Sender:
    """The authenticated source of a request: all the request path needs to know of it."""

    source_id: int
    workspace_id: int
    # Whether its `delete` messages may be honoured (ingest/erasure_rule.py).
    may_erase: bool = False


# token digest -> (expires at, sender). Per process; cleared whenever a Source is saved or
# deleted here, and entries expire after settings.INGEST_TOKEN_CACHE_SECONDS, so a token revoked
# in another process stops working within that time. Saves a database round trip per request.
_cache: dict[str, tuple[float, Sender]] = {}
_CACHE_MAX = 10_000


def token_cache_clear(**_: object) -> None:
    _cache.clear()


def source_authenticate(token: str | None) -> Sender:
    """The active source of a token, or a 401 (a 503 when the database cannot say)."""
    if not token:
        raise IngestError(
            401,
            "missing_token",
            "Send the source token as Basic auth, a Bearer token or writeKey in the body.",
        )
    if not token.isascii():
        # Tokens are URL-safe ASCII; anything else (a lone surrogate from a JSON writeKey, which
        # cannot even be hashed) is simply not one of ours.
        raise IngestError(401, "invalid_token", "Unknown or revoked source token.")
    key = secret_digest(token)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        source = source_for_token(token)
    except DatabaseError as exc:
        raise IngestError(
            503, "unavailable", "Cannot check the token right now.", retry_after=5
        ) from exc
    if source is None:
        _cache.pop(key, None)
        raise IngestError(401, "invalid_token", "Unknown or revoked source token.")
    sender = Sender(
        source_id=source.pk, workspace_id=source.workspace_id, may_erase=source.may_erase
    )
    ttl = settings.INGEST_TOKEN_CACHE_SECONDS
    if ttl > 0:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = (now + ttl, sender)
    return sender
