"""ingest/body.py: capped reading, capped inflating, JSON whatever the content type."""

import gzip
import zlib

import pytest

from ingest.body import body_inflate, json_decode
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
