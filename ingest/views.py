"""Ingest endpoints: authenticate, parse, enqueue, answer. Nothing else happens in the request.

Plain Django views rather than DRF: we read and inflate the body ourselves (DRF's request.data
would bypass the upload limit), we answer only JSON, and the errors map from one exception type
in one place (`_endpoint`). That keeps the hot path short.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ingest import counters, queue
from ingest.authentication import Sender, source_authenticate, token_from_headers
from ingest.body import body_inflate, json_decode, too_large
from ingest.erasure_rule import deletes_refusal, from_browser
from ingest.errors import IngestError
from ingest.queue import QueueUnavailable
from ingest.segment import (
    DELETE_NOT_ALLOWED,
    Limits,
    Parsed,
    Payload,
    Rejection,
    messages_parse,
    payload_from_json,
    queued_record,
)
from ingest.wake import drainer_wake

logger = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, Content-Encoding, X-Retry-Count, X-Requested-With"
    ),
    "Access-Control-Max-Age": "86400",
}


def _limits() -> Limits:
    return Limits(
        message_bytes=settings.INGEST_MAX_MESSAGE_BYTES,
        batch_messages=settings.INGEST_MAX_BATCH_MESSAGES,
    )


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    # Browsers on any site may post (analytics.js); no cookies are involved, so echoing the
    # origin grants nothing beyond what the token in the request already does.
    response["Access-Control-Allow-Origin"] = request.META.get("HTTP_ORIGIN") or "*"
    response["Vary"] = "Origin"
    for name, value in CORS_HEADERS.items():
        response[name] = value
    return response


def _error(exc: IngestError) -> JsonResponse:
    response = JsonResponse(exc.as_dict(), status=exc.status)
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


def _endpoint(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """CORS, preflight, POST only, and the one place errors become responses."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            return _cors(request, HttpResponse(status=204))
        try:
            if request.method != "POST":
                raise IngestError(405, "method_not_allowed", "Send messages with POST.")
            response = view(request, *args, **kwargs)
        except IngestError as exc:
            response = _error(exc)
            if "rejected" not in exc.extra:  # else each message was counted by its own code
                counters.rejections_count([exc.code])
        except Exception:
            # A bug, not the sender's fault: 503 so that senders keep the data and retry.
            logger.exception("ingest: unexpected error")
            response = _error(
                IngestError(503, "internal_error", "Try again later.", retry_after=30)
            )
            counters.rejections_count(["internal_error"])
        return _cors(request, response)

    return wrapper


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.INGEST_MAX_REQUEST_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise IngestError(400, "malformed_request", "Content-Length is not a number.") from None
    if length > limit:
        raise too_large(limit)
    if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        # No Content-Length: Django would read nothing, so read the server's (de-chunked) input.
        body = request.META["wsgi.input"].read(limit + 1)
    else:
        # request.read, not request.body: we enforce our own cap on exactly what we read.
        body = request.read(limit + 1)
    if len(body) > limit:
        raise too_large(limit)
    return body_inflate(body, request.META.get("HTTP_CONTENT_ENCODING", ""), limit=limit)


def _rejection_record(source: Sender, received_at: datetime, rejection: Rejection) -> dict:
    return {
        "source_id": source.source_id,
        "received_at": received_at.isoformat(),
        "index": rejection.index,
        "reason": rejection.reason,
        "excerpt": rejection.excerpt,
    }


def _enqueue(messages: list[bytes], rejections: list[dict[str, Any]], count: int = 0) -> None:
    """Hand records to the workers, waking a drainer when none is pending."""
    try:
        wake = queue.enqueue(messages, rejections, count=count)
    except QueueUnavailable:
        raise IngestError(
            503, "unavailable", "Cannot keep messages right now; retry later.", retry_after=10
        ) from None
    if wake:
        drainer_wake()


def _log_refused(source: Sender, received_at: datetime, exc: IngestError) -> None:
    """Put a whole-request refusal in the source's ingest log (best effort: it is a 4xx)."""
    record = _rejection_record(source, received_at, Rejection(index=None, reason=exc.message))
    try:
        _enqueue([], [record])
    except IngestError:
        logger.warning("ingest: could not log a refused request for source %s", source.source_id)


def _ingest(request: HttpRequest, *, call_type: str | None, path_token: str | None) -> HttpResponse:
    received_at = datetime.now(UTC)
    header_token = path_token or token_from_headers(request)
    # A token in the header is checked before the body is read: refusals stay cheap.
    source = source_authenticate(header_token) if header_token else None
    try:
        body = _read_body(request)
        payload = payload_from_json(json_decode(body), limits=_limits(), size=len(body))
        if source is None:
            source = source_authenticate(payload.write_key)
        scope = {
            "workspace_id": source.workspace_id,
            "source_id": source.source_id,
            "received_at": received_at,
            "default_type": call_type,
        }
        by_header = path_token is None and header_token is not None
        refusal = deletes_refusal(request, sender=source, by_header=by_header)
        parsed = messages_parse(
            payload, limits=_limits(), build=False, deletes_refused=refusal, **scope
        )
    except IngestError as exc:
        if source is not None and exc.status in {400, 413, 415}:
            _log_refused(source, received_at, exc)
        raise
    if parsed.queued and not queue.rate_allowed(
        source.source_id, len(parsed.queued), browser=from_browser(request)
    ):
        raise IngestError(
            429, "rate_limited", "This source is sending too fast; slow down.", retry_after=1
        )
    counters.rejections_count(r.code for r in parsed.rejections)
    rejections = [_rejection_record(source, received_at, r) for r in parsed.rejections]
    if parsed.queued or rejections:
        record = [queued_record(parsed, **scope)] if parsed.queued else []
        _enqueue(record, rejections, count=len(parsed.queued))
    return _reply(payload, parsed)


def _reply(payload: Payload, parsed: Parsed) -> HttpResponse:
    rejected = [r.as_reply() for r in parsed.rejections]
    if parsed.queued or not rejected:
        body: dict[str, Any] = {"success": True}
        if rejected:
            body["rejected"] = rejected
        return JsonResponse(body)
    # Nothing to keep: a 4xx tells the sender not to retry the same bytes.
    first = parsed.rejections[0]
    if payload.single:
        # A refused delete is not malformed: the sender may not do that (ingest/erasure_rule.py).
        status = {"message_too_large": 413, DELETE_NOT_ALLOWED: 403}.get(first.code, 400)
        raise IngestError(status, first.code, first.reason, extra={"rejected": rejected})
    raise IngestError(
        400, "invalid_messages", "No message in the batch is valid.", extra={"rejected": rejected}
    )


@_endpoint
def ingest(request: HttpRequest, call_type: str | None = None) -> HttpResponse:
    """/v1/batch, /v1/import, /v1/b and the single-call paths (/v1/track, /v1/t, ...)."""
    return _ingest(request, call_type=call_type, path_token=None)


@_endpoint
def hook(request: HttpRequest, token: str) -> HttpResponse:
    """The original Windsor SDK: POST /hook/<token> with a batch of `user` and `event` calls."""
    return _ingest(request, call_type=None, path_token=token)
