"""Request bodies: read with a hard cap, inflate gzip with a capped output, decode JSON.

Pure functions on bytes (no Django). Limits are checked on the inflated size, and inflating stops
as soon as the output passes the cap, so a small gzip bomb costs microseconds, not gigabytes.
"""

import json
import math
import zlib
from typing import Any

import orjson

from ingest.errors import IngestError

# zlib's wbits: 16 + MAX_WBITS reads a gzip header; 32 + MAX_WBITS detects gzip or zlib.
_GZIP_WBITS = 32 + zlib.MAX_WBITS
_IDENTITY = {"", "identity"}
_GZIP = {"gzip", "x-gzip", "deflate"}


def too_large(limit: int) -> IngestError:
    return IngestError(
        413, "request_too_large", f"The request body is larger than {limit // 1024} KB."
    )


def body_inflate(body: bytes, content_encoding: str, *, limit: int) -> bytes:
    """The body as sent before compression, refused once it passes `limit` bytes."""
    encoding = content_encoding.strip().lower()
    if encoding in _IDENTITY:
        if len(body) > limit:
            raise too_large(limit)
        return body
    if encoding not in _GZIP:
        raise IngestError(
            415, "unsupported_encoding", f"Content-Encoding {encoding!r} is not supported."
        )
    out = bytearray()
    data = body
    # A gzip body may hold several members back to back (`cat a.gz b.gz`); all are read.
    while data:
        inflater = zlib.decompressobj(_GZIP_WBITS)
        try:
            # max_length bounds the output: we never hold more than limit + 1 inflated bytes.
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise IngestError(400, "malformed_gzip", "The gzip body cannot be inflated.") from exc
        if len(out) > limit or inflater.unconsumed_tail:
            raise too_large(limit)
        if not inflater.eof:
            raise IngestError(400, "malformed_gzip", "The gzip body is truncated.")
        data = inflater.unused_data
    return bytes(out)


def _refuse_constant(name: str) -> None:
    # NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them.
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400: valid JSON, but no database can store it
        raise ValueError(f"{text[:20]} is out of range")
    return value


def json_decode(body: bytes) -> Any:
    """Parse a JSON body whatever Content-Type it came with (browsers send text/plain)."""
    if not body.strip():
        raise IngestError(400, "empty_body", "The request body is empty.")
    try:
        # orjson is several times faster; what it refuses (a byte order mark, lone surrogates,
        # huge numbers, deep nesting) gets the standard parser's verdict below.
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        text = body.decode("utf-8-sig")
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError as exc:
        raise IngestError(400, "malformed_json", "The body is not UTF-8.") from exc
    except RecursionError as exc:
        raise IngestError(400, "malformed_json", "The JSON body is nested too deeply.") from exc
    except ValueError as exc:
        raise IngestError(400, "malformed_json", f"The body is not valid JSON: {exc}") from exc
