"""Who is sending: a source token from the path, the Authorization header or the body.

Segment's destination sends `Authorization: Basic base64(token:)`; some senders leave out the
colon or put the token in the password; Webhooks (Actions) send `Bearer token`; analytics.js and
server SDKs also put it in the body as `writeKey`; windsor-node puts it in the path.
"""

import base64
import binascii

from django.db import DatabaseError
from django.http import HttpRequest

from accounts.models import Source
from accounts.services import source_for_token
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


def source_authenticate(token: str | None) -> Source:
    """The active source of a token, or a 401 (a 503 when the database cannot say)."""
    if not token:
        raise IngestError(
            401,
            "missing_token",
            "Send the source token as Basic auth, a Bearer token or writeKey in the body.",
        )
    try:
        source = source_for_token(token)
    except DatabaseError as exc:
        raise IngestError(
            503, "unavailable", "Cannot check the token right now.", retry_after=5
        ) from exc
    if source is None:
        raise IngestError(401, "invalid_token", "Unknown or revoked source token.")
    return source
