"""ingest/body.py: capped reading, capped inflating, JSON whatever the content type."""

import gzip
import json
import zlib

import pytest

from ingest.body import CUT_DEPTH, body_inflate, json_decode, nesting_cut
from ingest.errors import IngestError

LIMIT = 500 * 1024


def gzip_bomb(inflated_bytes: int) -> bytes:
    """One gzip member of `inflated_bytes` zeros, built without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(inflated_bytes // len(chunk))]
    parts.append(compressor.flush())
    return b"".join(parts)


def test_gzip_bodies_are_inflated():
    assert body_inflate(gzip.compress(b'{"a": 1}'), "gzip", limit=LIMIT) == b'{"a": 1}'
    assert body_inflate(zlib.compress(b"[]"), "deflate", limit=LIMIT) == b"[]"
    assert body_inflate(b"[]", "identity", limit=LIMIT) == b"[]"


def test_a_gzip_bomb_is_refused_without_being_inflated():
    # 1 MB on the wire, 1 GB inflated: 1024 gzip members of 1 MB of zeros each.
    bomb = gzip.compress(bytes(1024 * 1024)) * 1024
    assert len(bomb) < 1.1 * 1024 * 1024
    with pytest.raises(IngestError) as caught:
        body_inflate(bomb, "gzip", limit=LIMIT)
    assert (caught.value.status, caught.value.code) == (413, "request_too_large")


def test_a_single_member_bomb_is_refused_too():
    with pytest.raises(IngestError) as caught:
        body_inflate(gzip_bomb(64 * 1024 * 1024), "gzip", limit=LIMIT)
    assert caught.value.status == 413


def test_every_member_of_a_multi_member_gzip_body_is_read():
    body = gzip.compress(b'{"batch": [') + gzip.compress(b"]}")
    assert body_inflate(body, "gzip", limit=LIMIT) == b'{"batch": []}'


def test_a_body_just_under_the_limit_inflates_and_one_byte_more_does_not():
    assert len(body_inflate(gzip.compress(bytes(LIMIT)), "gzip", limit=LIMIT)) == LIMIT
    with pytest.raises(IngestError):
        body_inflate(gzip.compress(bytes(LIMIT + 1)), "gzip", limit=LIMIT)
    with pytest.raises(IngestError):
        body_inflate(bytes(LIMIT + 1), "", limit=LIMIT)


@pytest.mark.parametrize(
    "body,encoding,status,code",
    [
        (b"not gzip at all", "gzip", 400, "malformed_gzip"),
        (gzip.compress(b'{"a": 1}')[:-6], "gzip", 400, "malformed_gzip"),
        (b"{}", "br", 415, "unsupported_encoding"),
    ],
    ids=["garbage", "truncated", "brotli"],
)
def test_bodies_we_cannot_inflate_are_refused(body, encoding, status, code):
    with pytest.raises(IngestError) as caught:
        body_inflate(body, encoding, limit=LIMIT)
    assert (caught.value.status, caught.value.code) == (status, code)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"{",
        b"{'a': 1}",
        b"\xff\xfe",
        b"[NaN]",
        b'{"a": Infinity}',
        b"[1e400]",
        b"[" * 100000,
    ],
    ids=["empty", "blank", "unclosed", "quotes", "not-utf8", "nan", "infinity", "1e400", "deep"],
)
def test_malformed_json_is_a_400(body):
    with pytest.raises(IngestError) as caught:
        json_decode(body)
    assert caught.value.status == 400


def test_json_with_a_byte_order_mark_is_read():
    assert json_decode(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_integers_beyond_64_bits_and_lone_surrogates_still_parse():
    assert json_decode(b"[1180591620717411303424]") == [1180591620717411303424]
    assert json_decode(b'["\\ud800"]') == ["\ud800"]


def test_the_nesting_cut_nulls_only_values_deeper_than_its_depth():
    deep = b"[" * (CUT_DEPTH + 5) + b"1" + b"]" * (CUT_DEPTH + 5)
    # Brackets and escaped quotes inside strings are text, not nesting.
    tricky = b'{"s": "[[{{\\"]]", "t": "\\\\", "n": [1, {"x": null}]}'
    data = b"[" + deep + b", " + tricky + b"]"
    cut = nesting_cut(data)
    assert (
        cut
        == b"[" + b"[" * (CUT_DEPTH - 1) + b"null" + b"]" * (CUT_DEPTH - 1) + b", " + tricky + b"]"
    )
    assert nesting_cut(tricky) == tricky


def test_a_message_beside_a_deep_one_is_read_untouched():
    neighbour = {"type": "track", "event": "[{", "userId": 'u"]', "properties": {"a": [1, 2]}}
    body = (
        b'{"batch": [' + json.dumps(neighbour).encode() + b", " + b"[" * 5000 + b"]" * 5000 + b"]}"
    )
    assert json_decode(body)["batch"][0] == neighbour


@pytest.mark.parametrize(
    "inflated",
    [
        b"[" * 1100 + b'"\\' * 64000,  # the review's 166-byte gzip body
        b"[" * 1100 + b'"' + b"\\" * 128_000,
        b"[" * 1100 + b'"a", "b\\"", "c' + b"]" * 1100,
    ],
    ids=["escaped-quotes", "backslashes", "last-string-open"],
)
def test_an_unterminated_string_past_orjson_depth_is_refused_as_not_json(inflated):
    body = body_inflate(gzip.compress(inflated), "gzip", limit=LIMIT)
    with pytest.raises(IngestError) as caught:
        json_decode(body)
    assert (caught.value.status, caught.value.code) == (400, "malformed_json")
    assert "unterminated string" in caught.value.message
    with pytest.raises(ValueError, match="unterminated string"):
        nesting_cut(inflated)


def test_the_reviews_gzip_body_is_166_bytes():
    assert len(gzip.compress(b"[" * 1100 + b'"\\' * 64000)) <= 170


def test_a_deep_body_dense_with_brackets_is_refused_whole_not_cut():
    # Past orjson's depth, then a token every 1.5 bytes: cutting it would be a Python loop turn
    # per 1.5 bytes, ten times a normal request's cost per KB.
    dense = b"[" * 1100 + b"]" * 1033 + b"[]," * 100_000 + b"1" + b"]" * 67
    with pytest.raises(IngestError) as caught:
        json_decode(dense)
    assert caught.value.status == 400
    assert "too many brackets and strings" in caught.value.message


def test_a_deep_message_among_messages_as_dense_as_senders_send_is_cut_alone():
    # Real senders' JSON has a string or bracket every 10 to 14 bytes; these have one every 7.
    neighbour = {"type": "track", "event": "Clicked", "userId": "user-1", "properties": {"a": 1}}
    deep = b'{"type": "track", "properties": ' + b"[" * 2000 + b"]" * 2000 + b"}"
    items = [json.dumps(neighbour).encode()] * 2000
    body = b'{"batch": [' + b", ".join([deep, *items]) + b"]}"
    batch = json_decode(body)["batch"]
    assert batch[1:] == [neighbour] * 2000
    assert batch[0]["properties"] is not None
