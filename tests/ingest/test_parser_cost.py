"""Every parser and regex over sender input in ingest/ costs linear time: each hostile shape is
parsed at n and 2n bytes in the same run, and the time must not grow by ~4x (tests/ingest/cost.py).

What each covers:
- body.py: orjson, the standard parser (`has_long_number`, integers, floats, lone surrogates)
  and the deep-nesting cut's tokenizer (`nesting_cut`, the one regex in ingest/).
- segment.py: the request shapes, the level-by-level depth walk (`too_deep`), NUL and surrogate
  replacement (`_storable`), the content hash of a message without messageId, timestamps, the
  size check and the batch fields each message inherits.
- authentication.py: the Authorization header (Basic's base64, Bearer) and the token check.
- around them: gzip inflating, the ingest URL patterns, and the worker's reading of a queued
  request (segment.queued_messages).

Integers are the one parse that is not linear in its own length (CPython converts decimal text to
an int in quadratic time): json_loads refuses a number of more than 4,300 digits, so one
costs at most a constant, and a body of them is linear in their count (tested below).
"""

import base64
import contextlib
import gzip
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.test import RequestFactory
from django.urls import Resolver404, get_resolver

from ingest.authentication import source_authenticate, token_from_headers
from ingest.body import body_inflate, json_decode, json_loads, nesting_cut
from ingest.errors import IngestError
from ingest.segment import (
    Limits,
    messages_parse,
    payload_from_json,
    queued_messages,
    queued_record,
)
from tests.factories import wire_message as message
from tests.ingest.cost import LINEAR_AT_MOST, growth

N = 16 * 1024
# Python's own limit on decimal digits in an int, which json_loads enforces whatever Python's
# configuration (PYTHONINTMAXSTRDIGITS=0 lifts Python's).
MAX_INT_DIGITS = 4300
DEEP = b"[" * 1100  # past orjson's 1,024 levels: the standard parser and then the cut run


def refused_or_read(parse: Callable[[bytes], object]) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        with contextlib.suppress(IngestError, ValueError):
            parse(data)

    return run


# name -> the body of about n bytes
BODIES: dict[str, Callable[[int], bytes]] = {
    # The review's gzip bomb: an unterminated string of escaped quotes past orjson's depth.
    "unterminated-escaped-quotes": lambda n: DEEP + b'"\\' * (n // 2),
    "unterminated-backslashes": lambda n: DEEP + b'"' + b"\\" * n,
    "unterminated-after-strings": lambda n: DEEP + b'"a\\"b",' * (n // 7) + b'"',
    "quotes": lambda n: DEEP + b'"' * n,
    "pairs": lambda n: DEEP + b"[]," * (n // 3),
    "oscillating": lambda n: DEEP + b"]" * 1033 + b"[]," * (n // 3),
    "deep-strings-unclosed": lambda n: DEEP + b'"a\\"b",' * (n // 7),
    "brackets": lambda n: b"[" * n,
    "braces": lambda n: b'{"a":' * (n // 5),
    "deep-then-closers": lambda n: DEEP + b"]" * n,
    "deep-messages": lambda n: (
        b'{"batch":[' + b",".join([b"[" * 1100 + b"]" * 1100] * (n // 2201)) + b"]}"
    ),
    "deep-objects-closed": lambda n: b'{"a":' * (n // 6) + b"1" + b"}" * (n // 6),
    "long-number": lambda n: b"[" + b"1" * n + b"]",
    "many-long-integers": lambda n: (
        b"[" + b",".join([b"9" * MAX_INT_DIGITS] * (n // MAX_INT_DIGITS)) + b"]"
    ),
    "long-fraction": lambda n: b"[0." + b"1" * n + b"]",
    "many-keys": lambda n: b"{" + b",".join(b'"k%d":0' % i for i in range(n // 9)) + b"}",
    "huge-string": lambda n: b'["' + b"a" * n + b'"]',
    "escapes": lambda n: b'["' + b"\\u00e9" * (n // 6) + b'"]',
    "lone-surrogates": lambda n: b'["' + b"\\ud800" * (n // 6) + b'"]',
    "byte-order-mark-and-digits": lambda n: b"\xef\xbb\xbf[" + b"1" * 25 + b"," * n + b"]",
}


@pytest.mark.parametrize("shape", list(BODIES))
def test_reading_a_body_costs_linear_time(shape):
    build = BODIES[shape]
    ratio = growth(refused_or_read(json_decode), build(N), build(2 * N))
    assert ratio < LINEAR_AT_MOST, f"{shape}: 2n costs {ratio:.1f} times n"


@pytest.mark.parametrize(
    "shape",
    ["unterminated-escaped-quotes", "unterminated-backslashes", "deep-messages", "braces", "pairs"],
)
def test_the_nesting_cut_alone_costs_linear_time(shape):
    build = BODIES[shape]
    ratio = growth(refused_or_read(nesting_cut), build(N), build(2 * N))
    assert ratio < LINEAR_AT_MOST, f"{shape}: 2n costs {ratio:.1f} times n"


@pytest.fixture
def python_int_limit_lifted():
    """Python with no bound of its own on an int's digits (as under PYTHONINTMAXSTRDIGITS=0)."""
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    yield
    sys.set_int_max_str_digits(before)


def test_an_integer_costs_at_most_a_bounded_constant_however_python_is_configured(
    python_int_limit_lifted,
):
    # Quadratic in its digits below the bound (CPython's conversion): what keeps one number a
    # constant is that a longer one is refused without being converted.
    assert json_loads(b"[-" + b"9" * MAX_INT_DIGITS + b"]")[0] == -(10**MAX_INT_DIGITS - 1)
    for body in (b"[" + b"9" * (MAX_INT_DIGITS + 1) + b"]", b'{"a": -' + b"9" * 100_000 + b"}"):
        with pytest.raises(ValueError):
            json_loads(body)
    for shape in ("long-number", "many-long-integers"):
        build = BODIES[shape]
        ratio = growth(refused_or_read(json_decode), build(N), build(2 * N))
        assert ratio < LINEAR_AT_MOST, f"{shape}: 2n costs {ratio:.1f} times n"


def batch(items: list) -> bytes:
    return json.dumps({"batch": items}).encode()


def many(n: int, size: int, item: Callable[[int], dict]) -> list[dict]:
    return [item(i) for i in range(max(1, n // size))]


DEEP_WRITE_KEY = (
    b'{"type":"track","event":"E","userId":"u","writeKey":' + b"[" * 1000 + b"]" * 1000 + b"}"
)

# name -> a request body of about n bytes, read and validated as the view does
REQUESTS: dict[str, Callable[[int], bytes]] = {
    "many-messages": lambda n: batch(many(n, 70, lambda i: message(messageId=f"m{i}"))),
    "many-properties": lambda n: batch([message(properties={f"p{i}": i for i in range(n // 12)})]),
    "wide-at-the-depth-limit": lambda n: batch(
        [message(properties=json.loads("[" * 60 + ",".join(["[1]"] * (n // 4)) + "]" * 60))]
    ),
    # Just past the limit and wide: the depth walk, not the encoders, refuses it.
    "wide-past-the-depth-limit": lambda n: batch(
        [message(properties=json.loads("[" * 70 + ",".join(["[1]"] * (n // 4)) + "]" * 70))]
    ),
    "nul-characters": lambda n: batch([message(properties={"k": "a\x00" * (n // 8)})]),
    "lone-surrogates": lambda n: (
        b'{"batch":[{"type":"track","event":"E","userId":"u","properties":{"k":"'
        + b"\\ud800" * (n // 6)
        + b'"}}]}'
    ),
    "no-message-id-many-keys": lambda n: batch(
        [
            {
                "type": "track",
                "event": "E",
                "userId": "u",
                "timestamp": "2026-01-01T00:00:00Z",
                "properties": {f"p{i}": i for i in range(n // 12)},
            }
        ]
    ),
    "padded-timestamps": lambda n: batch(
        many(n, 2100, lambda i: message(messageId=f"m{i}", timestamp=" " * 2000 + "2026-01-01"))
    ),
    "long-invalid-timestamp": lambda n: batch([message(timestamp="2026-01-01T" + "1" * n)]),
    "huge-ids": lambda n: batch([message(userId="u" * n, anonymousId="a" * n)]),
    "deep-write-keys": lambda n: (
        b'{"batch":[' + b",".join([DEEP_WRITE_KEY] * (n // len(DEEP_WRITE_KEY))) + b"]}"
    ),
    "batch-context-inherited": lambda n: json.dumps(
        {
            "batch": many(n // 2, 70, lambda i: message(messageId=f"m{i}")),
            "context": {f"c{i}": i for i in range(n // 24)},
        }
    ).encode(),
    "batch-sent-at-inherited": lambda n: json.dumps(
        {"batch": many(n // 2, 70, lambda i: message(messageId=f"m{i}")), "sentAt": "x" * (n // 2)}
    ).encode(),
}


def request_reader(limits: Limits) -> Callable[[bytes], None]:
    def run(body: bytes) -> None:
        try:
            payload = payload_from_json(json_decode(body), limits=limits)
            messages_parse(
                payload,
                workspace_id=1,
                source_id=1,
                received_at=datetime.now(UTC),
                limits=limits,
                build=False,
            )
        except IngestError:
            pass

    return run


# Both sizes of a shape on the same side of the message size limit: one that crosses it between
# n and 2n does more work at 2n (measured exactly, refused, excerpted), which is not growth.
SIZE_LIMITS = {"under-the-size-limit": Limits(message_bytes=1 << 20), "over": Limits(1024)}


@pytest.mark.parametrize("limits", list(SIZE_LIMITS))
@pytest.mark.parametrize("shape", list(REQUESTS))
def test_validating_a_request_costs_linear_time(shape, limits):
    build = REQUESTS[shape]
    ratio = growth(request_reader(SIZE_LIMITS[limits]), build(N), build(2 * N))
    assert ratio < LINEAR_AT_MOST, f"{shape}: 2n costs {ratio:.1f} times n"


def header_token(value: str) -> None:
    request = RequestFactory().post("/v1/batch", headers={"Authorization": value})
    with contextlib.suppress(IngestError):
        token_from_headers(request)


@pytest.mark.parametrize(
    "header",
    [
        lambda n: "Basic " + base64.b64encode(b"t" * n).decode(),
        lambda n: "Basic " + "A" * (n - 1) + "!",
        lambda n: "Bearer " + "t" * n,
        lambda n: "Basic " + " " * n + "dDo=",
    ],
    ids=["basic", "basic-invalid", "bearer", "spaces"],
)
def test_reading_the_authorization_header_costs_linear_time(header):
    ratio = growth(header_token, header(N), header(2 * N))
    assert ratio < LINEAR_AT_MOST


@pytest.mark.django_db
@pytest.mark.parametrize("token", [lambda n: "t" * n, lambda n: "é" * n], ids=["ascii", "other"])
def test_checking_an_unknown_token_costs_linear_time(settings, token):
    settings.INGEST_TOKEN_CACHE_SECONDS = 0

    def check(value: str) -> None:
        with pytest.raises(IngestError):
            source_authenticate(value)

    # Larger: one query per check is most of the cost at 16 KB.
    ratio = growth(check, token(16 * N), token(32 * N))
    assert ratio < LINEAR_AT_MOST


@pytest.mark.parametrize(
    "inflated", [lambda n: bytes(n), lambda n: BODIES["unterminated-escaped-quotes"](n)]
)
def test_inflating_a_body_costs_linear_time(inflated):
    def inflate(wire: bytes) -> None:
        body_inflate(wire, "gzip", limit=64 * N)

    small, large = gzip.compress(inflated(8 * N)), gzip.compress(inflated(16 * N))
    assert growth(inflate, small, large) < LINEAR_AT_MOST


@pytest.mark.parametrize("path", ["/hook/{}", "/hook/{}/x", "/v1/{}"])
def test_routing_an_ingest_path_costs_linear_time(path):
    # The URL patterns (ingest/urls.py) are regexes over the path a sender chose.
    resolver = get_resolver("ingest.urls")

    def route(value: str) -> None:
        with contextlib.suppress(Resolver404):
            resolver.resolve(value.lstrip("/"))

    ratio = growth(route, path.format("t" * N), path.format("t" * 2 * N))
    assert ratio < LINEAR_AT_MOST


def test_the_worker_reading_a_queued_request_costs_linear_time():
    # What the edge queued, read back by the worker with the edge's rules (segment.queued_messages).
    def record(n: int) -> bytes:
        body = REQUESTS["many-messages"](n)
        scope = {"workspace_id": 1, "source_id": 1, "received_at": datetime.now(UTC)}
        parsed = messages_parse(payload_from_json(json_decode(body)), build=False, **scope)
        return queued_record(parsed, default_type=None, **scope)

    def read(data: bytes) -> None:
        queued_messages(json_loads(data))

    assert growth(read, record(4 * N), record(8 * N)) < LINEAR_AT_MOST
