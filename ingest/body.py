"""Request bodies: read with a hard cap, inflate gzip with a capped output, decode JSON.

Pure functions on bytes (no Django). Limits are checked on the inflated size, and inflating stops
as soon as the output passes the cap, so a small gzip bomb costs microseconds, not gigabytes.
"""

import itertools
import json
import math
import re
import sys
import zlib
from typing import Any

import orjson

from core.json_exact import has_long_number
from ingest.errors import IngestError
from ingest.segment import MAX_NESTING, OVERSIZE_NUMBER

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


# orjson reads an integer past 64 bits as a float: userIds 18446744073709551616 and
# 18446744073709551617 would both become 1.8446744073709552e+19, one person. A body with a run of
# 20 digits or more (the shortest number that can pass 2**64; core/json_exact.py
# `has_long_number`) goes to the standard parser, which keeps every digit (floats parse the same
# either way).


# CPython turns decimal text into an int in time quadratic in its digits. Its default bound of
# 4,300 digits (sys.set_int_max_str_digits) keeps one number cheap, but a deployment can lift it
# (PYTHONINTMAXSTRDIGITS=0): the standard parser then applies the same bound itself.
MAX_INT_DIGITS = 4300


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + text.startswith("-"):
        raise ValueError(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _int_marked(text: str) -> int | str:
    # The second reading of a body that held an oversize number: each becomes OVERSIZE_NUMBER,
    # and `ingest.segment` refuses the messages that hold one.
    if len(text) > MAX_INT_DIGITS + text.startswith("-"):
        return OVERSIZE_NUMBER
    return int(text)


def _int_parser() -> Any:
    # None: the interpreter's own bound holds, and json's C scanner converts at full speed (a
    # Python hook per integer costs four times as much on a body of small ones).
    return None if 0 < sys.get_int_max_str_digits() <= MAX_INT_DIGITS else _bounded_int


# A JSON string (escapes included), a run of opening or of closing brackets (one token for the
# 1,100 `[` of a deep value), or a quote that opens no string: an unterminated string, so the text
# is not JSON and the cut stops there. Going on would be quadratic: finditer would try the string
# branch again at every later quote, each time to the end of the body (a 166-byte gzip body,
# `[` * 1100 + `"\\` * 64000 inflated, held a worker for 30 s). Stopping at the first, each byte
# is read by the token it is in and by at most one failed string attempt.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]+|[\]}]+|"')
# Objects and arrays deeper than this are cut to null before parsing. A request wraps a message in
# at most two levels ({"batch": [...]}) and a queue entry in one, so a message that held a cut
# value is still deeper than MAX_NESTING and refused by the same rule (`segment.too_deep`), while
# every other message is read untouched, however deep its neighbour.
CUT_DEPTH = MAX_NESTING + 3
_QUOTE = ord('"')
# The cut reads at most one token (a string or a run of brackets) per this many bytes, plus
# _TOKENS_FREE: real senders' JSON has one per 10 to 14 bytes (tests/fixtures/segment/). Each
# token is a turn of a Python loop, ~200 ns; `[],` repeated past orjson's depth makes one every
# 1.5 bytes, which cost 10 times a normal request per KB. Such a body is refused whole.
_BYTES_PER_TOKEN = 6
_TOKENS_FREE = 4096


class _TooDeep(Exception):
    """The parser ran out of nesting (orjson stops at 1,024 levels, the standard one sooner)."""


def nesting_cut(data: bytes, depth: int = CUT_DEPTH) -> bytes:
    """The JSON text with every object or array nested deeper than `depth` replaced by null;
    ValueError at an unterminated string or past the token budget (_BYTES_PER_TOKEN). Linear in
    the length of `data` (_TOKENS)."""
    out: list[bytes] = []
    level = 0
    kept_from: int | None = 0  # None while inside a cut value
    tokens = _TOKENS.finditer(data)
    for token in itertools.islice(tokens, len(data) // _BYTES_PER_TOKEN + _TOKENS_FREE):
        start, end = token.span()
        char = data[start]
        if char == _QUOTE:
            if end - start == 1:
                raise ValueError(f"unterminated string at byte {start}")
        elif char in b"[{":
            level += end - start
            if level > depth and kept_from is not None:
                # The bracket of this run that opens level depth + 1.
                opened = end - (level - depth)
                out += (data[kept_from:opened], b"null")
                kept_from = None
        else:
            level -= end - start
            if level <= depth and kept_from is None:
                # Just past the bracket of this run that closes level depth + 1.
                kept_from = end - (depth - level)
    if next(tokens, None) is not None:
        raise ValueError("nested too deeply, with too many brackets and strings to read around")
    if kept_from is not None:
        out.append(data[kept_from:])
    return b"".join(out)


def _parse(data: bytes, *, mark_oversize: bool = False) -> Any:
    if not has_long_number(data):
        try:
            # orjson is several times faster; what it refuses (a byte order mark, lone
            # surrogates, deep nesting) gets the standard parser's verdict below.
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if "depth" in str(exc):
                raise _TooDeep from exc
    text = data.decode("utf-8-sig")
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_int_marked if mark_oversize else _int_parser(),
        )
    except RecursionError as exc:
        raise _TooDeep from exc


def json_loads(data: bytes, *, mark_oversize: bool = False) -> Any:
    """JSON with exact integers and bounded nesting (see CUT_DEPTH); ValueError if not JSON.

    For request bodies and for the queue's own records alike. A number of more than
    MAX_INT_DIGITS digits is a ValueError, or with `mark_oversize` reads as OVERSIZE_NUMBER.
    """
    try:
        return _parse(data, mark_oversize=mark_oversize)
    except _TooDeep:
        pass
    try:
        return _parse(nesting_cut(data), mark_oversize=mark_oversize)
    except _TooDeep:  # cannot happen after the cut; refused all the same
        raise ValueError("nested too deeply") from None


def json_decode(body: bytes) -> Any:
    """Parse a JSON body whatever Content-Type it came with (browsers send text/plain)."""
    if not body.strip():
        raise IngestError(400, "empty_body", "The request body is empty.")
    try:
        try:
            return json_loads(body)
        except ValueError as exc:
            if "digits" not in str(exc):  # Python's and _bounded_int's words for an oversize int
                raise
        # Read again only when a number was too long: its messages are refused one by one.
        return json_loads(body, mark_oversize=True)
    except UnicodeDecodeError as exc:
        raise IngestError(400, "malformed_json", "The body is not UTF-8.") from exc
    except ValueError as exc:
        raise IngestError(400, "malformed_json", f"The body is not valid JSON: {exc}") from exc
