"""Cumulative ingest counters every process adds to: events stored, batch durations, refusals.

Workers store batches and web processes refuse messages, each in a process of its own, often on
machines of their own; a Prometheus counter kept in one process is invisible to the /metrics of
another. So the counters live in one Redis hash next to the queue (`<stream>:counters`): each
stored batch or refused request adds to it in one round trip, and /metrics reads it when scraped.
In the embedded default there is no Redis, and the drain runs in the web process: a dict in that
process does (counted since it started).

Counting is best effort: a counter that cannot be written is skipped and never fails a batch or
a request. Counters restart from zero if Redis loses the hash; Prometheus's rate() treats a drop
as a restart.
"""

import logging
from collections import Counter
from collections.abc import Iterable
from functools import partial

import redis
from django.conf import settings
from django.db import transaction

from ingest import queue

logger = logging.getLogger(__name__)

# Upper bounds, in seconds, of the batch duration histogram's buckets.
BATCH_SECONDS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
EVENTS = "events_stored"
BATCHES = "batches"
BATCH_SECONDS = "batch_seconds"
BUCKET_PREFIX = "batch_le:"
REJECTED_PREFIX = "rejected:"

_local: Counter[str] = Counter()


def counters_key() -> str:
    return f"{settings.INGEST_STREAM}:counters"


def _bucket(seconds: float) -> str:
    for bound in BATCH_SECONDS_BUCKETS:
        if seconds <= bound:
            return f"{BUCKET_PREFIX}{bound}"
    return f"{BUCKET_PREFIX}+Inf"


def _add(amounts: dict[str, float]) -> None:
    if not settings.INGEST_REDIS_URL:
        _local.update(amounts)
        return
    # While Redis is failing, requests do not wait on it for a counter either.
    client = queue._redis_usable()
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for name, amount in amounts.items():
            if isinstance(amount, int):
                pipe.hincrby(counters_key(), name, amount)
            else:
                pipe.hincrbyfloat(counters_key(), name, amount)
        pipe.execute()
    except redis.RedisError as exc:
        queue._mark_redis_down()
        logger.warning("ingest: could not count %s: %s", sorted(amounts), exc)


def batch_stored(*, events: int, seconds: float) -> None:
    """Count a stored batch once its transaction commits (a batch rolled back never happened)."""
    amounts = {EVENTS: events, BATCHES: 1, BATCH_SECONDS: seconds, _bucket(seconds): 1}
    transaction.on_commit(partial(_add_quietly, amounts))


def _add_quietly(amounts: dict[str, float]) -> None:
    # An exception in an on_commit callback would surface after the commit, in the drain loop.
    try:
        _add(amounts)
    except Exception:
        logger.exception("ingest: counting a batch failed")


def rejections_count(codes: Iterable[str]) -> None:
    """Count refused messages or requests by their reply code (`invalid_token`, ...)."""
    per_code = Counter(codes)
    if per_code:
        # Only refusals pay for this round trip; the requests that are accepted never do.
        _add_quietly({f"{REJECTED_PREFIX}{code}": n for code, n in per_code.items()})


def counters_read() -> dict[str, float]:
    """Every counter by field name (see the constants above). Raises redis.RedisError."""
    client = queue.redis_client()
    if client is None:
        return dict(_local)
    raw = client.hgetall(counters_key())
    return {key.decode(): float(value) for key, value in raw.items()}
