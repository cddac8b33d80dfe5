"""What a hostile body costs the server, per KB, against a normal batch of the same size: the
issue's "a 166-byte body and a 500 KB body cost the server within a small constant factor of a
normal request per KB".

Each body is posted through Django's test client to the real /v1/batch view (middleware, token,
inflating, parsing, validating, queueing), and timed in CPU seconds (tests/ingest/cost.py). The
normal body is ~500 KB of the messages real SDKs sent (tests/fixtures/segment/). Requests are
queued (Redis on the real stack, else the inbox) and not drained: storing is a worker's work,
not the request's, and would flatter the ratio.
"""

import gzip
import itertools
import json
import uuid
from collections.abc import Callable

import pytest

from ingest.queue import drain_flag_key, redis_client
from tests.ingest.cost import cpu_seconds
from tests.recorded import fixture_names, recorded

pytestmark = pytest.mark.django_db

LIMIT = 500 * 1024
# Hostile CPU per KB may be at most this many times a normal request's.
FACTOR = 5
ROUNDS = 5


def recorded_messages(token: str) -> list[dict]:
    """Every message the recorded SDKs sent, as they sent it (writeKey and all)."""
    messages = []
    for name in fixture_names():
        for request in recorded(name):
            if request.method == "POST":
                messages += request.with_token(token).messages()
    return messages


def normal_body(token: str) -> bytes:
    """A batch of recorded messages, repeated with fresh messageIds, as close to 500 KB as fits."""
    items: list[dict] = []
    size = 100
    for n, message in enumerate(itertools.cycle(recorded_messages(token))):
        item = {**message, "messageId": f"normal-{n}"}
        size += len(json.dumps(item)) + 2
        if size > LIMIT - 1024 or len(items) == 2500:
            break
        items.append(item)
    return json.dumps({"batch": items, "sentAt": "2026-11-23T10:00:00.000Z"}).encode()


def fill(head: bytes, unit: bytes, tail: bytes = b"") -> bytes:
    """head + as many units as keep the body under the limit + tail."""
    return head + unit * ((LIMIT - 1024 - len(head) - len(tail)) // len(unit)) + tail


def batch_of(message: bytes) -> bytes:
    """A batch of the same message, up to the limit."""
    return fill(b'{"batch":[', message + b",", b"{}]}")


DEEP_WRITE_KEY = b'{"type":"track","event":"E","userId":"u","writeKey":' + b"[" * 1000
DEEP_WRITE_KEY += b"]" * 1000 + b"}"
SMALL = b'{"type":"track","event":"E","userId":"u"}'
TRACK = b'{"type":"track","event":"E","userId":"u",'
PROPERTY = b'"properties":{"s":"'


def context_at_the_bound() -> bytes:
    """`tiny_messages` with the largest batch context their copies may add."""
    items = json.loads(tiny_messages())["batch"]
    for length in range(1000, 0, -1):
        context = {"c": "x" * length}
        body = json.dumps({"batch": items, "context": context}).encode()
        # Each message inherits the context, and `{}` and `null` for integrations and sentAt.
        if len(items) * (len(json.dumps(context, separators=(",", ":"))) + 6) <= 2 * len(body):
            return body
    raise AssertionError("no context fits")


def tiny_messages() -> bytes:
    """The most messages a request may hold, each as small as valid: the most work per KB that
    validating a request does (4.4 times the recorded batch's, measured), and no sender's fault."""
    return json.dumps({"batch": [json.loads(SMALL)] * 2500}).encode()


# Each shape is compared with the recorded batch, but for one that adds its work to a normal
# request's: compared with that request.
BASELINE = {"batch-context-at-the-bound": tiny_messages}

# name -> (inflated body, whether the token is sent)
HOSTILE: dict[str, Callable[[], tuple[bytes, bool]]] = {
    # The review's 166-byte gzip body, with no token: refused before authentication.
    "gzip-166-bytes": lambda: (b"[" * 1100 + b'"\\' * 64000, False),
    "unterminated-500kb": lambda: (fill(b"[" * 1100, b'"\\'), False),
    "backslashes-500kb": lambda: (fill(b"[" * 1100 + b'"', b"\\"), False),
    "brackets-500kb": lambda: (fill(b"", b"["), False),
    "objects-500kb": lambda: (fill(b"", b'{"a":'), False),
    # Past orjson's depth, then a token every 1.5 bytes: the most work the cut can be given.
    "pairs-500kb": lambda: (fill(b"[" * 1100, b"[],"), False),
    # Back to the cut's depth, so that each `[` opens a value to cut and each `]` ends it.
    "oscillating-500kb": lambda: (fill(b"[" * 1100 + b"]" * 1033, b"[],"), False),
    "strings-500kb": lambda: (fill(b"[" * 1100, b'"",'), False),
    "deep-messages": lambda: (batch_of(b"[" * 1100 + b"]" * 1100), True),
    "deep-write-keys": lambda: (batch_of(DEEP_WRITE_KEY), True),
    "long-integers": lambda: (batch_of(TRACK + b'"properties":{"n":' + b"9" * 4300 + b"}}"), True),
    "lone-surrogates": lambda: (batch_of(TRACK + PROPERTY + b"\\ud800" * 300 + b'"}}'), True),
    "nul-characters": lambda: (batch_of(TRACK + PROPERTY + b"\\u0000" * 300 + b'"}}'), True),
    # The most a batch's fields may add to its messages (segment.INHERITED_TIMES), accepted.
    "batch-context-at-the-bound": lambda: (context_at_the_bound(), True),
    # Past it: 1,000 messages inheriting 300 KB each.
    "batch-context-past-the-bound": lambda: (
        json.dumps({"batch": [json.loads(SMALL)] * 1000, "context": {"c": "x" * 300_000}}).encode(),
        True,
    ),
}  # fmt: skip


@pytest.fixture
def undrained(settings):
    """The request's own work only: queued on Redis when the real stack is configured (a stream
    of this test's own, deleted after), else in the inbox, and not drained in the request."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INGEST_RATE_LIMIT_PER_SECOND = 0
    settings.INGEST_TOKEN_CACHE_SECONDS = 60
    client = redis_client()
    if client is None:
        yield
        return
    settings.INGEST_STREAM = f"test:request-cost:{uuid.uuid4().hex}"
    # The drain flag set, so that no request sends a drain task to the broker.
    client.set(drain_flag_key(), 1, ex=600)
    try:
        yield
    finally:
        for key in client.scan_iter(settings.INGEST_STREAM + "*"):
            client.delete(key)


def cpu_per_kb(client, inflated: bytes, token: str | None) -> tuple[float, int]:
    """Least CPU seconds per KB of inflated body over ROUNDS posts, and the reply's status."""
    wire = gzip.compress(inflated)
    headers = {"Content-Encoding": "gzip"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    replies = []

    def post() -> None:
        replies.append(
            client.generic(
                "POST", "/v1/batch", wire, content_type="application/json", headers=headers
            )
        )

    post()  # warm: imports, the token cache
    least = min(cpu_seconds(post) for _ in range(ROUNDS))
    return least / (len(inflated) / 1024), replies[-1].status_code


@pytest.mark.parametrize("shape", list(HOSTILE))
def test_a_hostile_body_costs_within_a_small_factor_of_a_normal_one_per_kb(
    client, token, undrained, shape
):
    normal = BASELINE[shape]() if shape in BASELINE else normal_body(token)
    assert shape in BASELINE or LIMIT * 0.9 < len(normal) <= LIMIT
    normal_cost, status = cpu_per_kb(client, normal, token)
    assert status == 200

    inflated, with_token = HOSTILE[shape]()
    assert len(inflated) <= LIMIT
    cost, status = cpu_per_kb(client, inflated, token if with_token else None)
    assert status < 500

    ratio = cost / normal_cost
    print(
        f"\n{shape}: {len(inflated) // 1024} KB inflated, HTTP {status}, "
        f"{cost * 1e6:.1f} us/KB against {normal_cost * 1e6:.1f} us/KB normal: {ratio:.2f}x"
    )
    assert ratio < FACTOR, f"{shape} costs {ratio:.1f} times a normal request per KB"


def test_the_gzip_body_is_the_reviews_166_bytes():
    inflated, with_token = HOSTILE["gzip-166-bytes"]()
    assert len(gzip.compress(inflated)) <= 170 and not with_token
