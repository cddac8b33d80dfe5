"""What the ingest pipeline holds right now, read when asked: for /metrics and the Status page.

Gauges are computed at the moment of asking from Redis and the database, never kept in a
process, so any web process gives the same answer whichever worker stored what.

- The stream holds one entry per accepted request (1 to 2,500 messages) until a worker has
  stored it: entries are deleted when acknowledged, so the first entry is the oldest waiting one,
  and its id is the Redis server's clock when it was added.
- The inbox holds requests that arrived while Redis was unavailable.
- Dead letters are messages that kept failing; each row keeps the error.
"""

from dataclasses import dataclass

import redis
from django.db.models import Count, Min
from django.utils import timezone

from ingest import queue
from ingest.models import DeadLetter, InboxBatch


@dataclass(frozen=True)
class QueueFigures:
    # "ok", "not configured" (the embedded default) or why Redis did not answer.
    redis: str
    stream_entries: int
    # Entries a worker has taken and not yet acknowledged (being stored, or held by a dead worker).
    stream_pending: int
    # Seconds since the oldest waiting entry was added; 0 when the stream is empty.
    stream_oldest_seconds: float
    inbox_rows: int
    inbox_oldest_seconds: float
    dead_letters: int

    @property
    def redis_ok(self) -> bool:
        return self.redis in {"ok", "not configured"}

    @property
    def lag_seconds(self) -> float:
        """How long the oldest message still waiting to be stored has waited."""
        return max(self.stream_oldest_seconds, self.inbox_oldest_seconds)


def _stream_figures(client: redis.Redis) -> tuple[int, int, float]:
    key = queue.stream_key()
    pipe = client.pipeline(transaction=False)
    pipe.xlen(key)
    pipe.xrange(key, count=1)
    pipe.time()
    entries, first, (seconds, micros) = pipe.execute()
    oldest = 0.0
    if first:
        added_ms = int(first[0][0].split(b"-")[0])
        oldest = max(0.0, seconds + micros / 1e6 - added_ms / 1000)
    try:
        pending = int(client.xpending(key, queue.GROUP)["pending"])
    except redis.ResponseError:  # no consumer group yet: no worker ever read the stream
        pending = 0
    return int(entries), pending, oldest


def queue_figures() -> QueueFigures:
    client = queue.redis_client()
    status, entries, pending, oldest = "not configured", 0, 0, 0.0
    if client is not None:
        try:
            entries, pending, oldest = _stream_figures(client)
            status = "ok"
        except redis.RedisError as exc:
            status = f"unreachable: {exc}"
    inbox = InboxBatch.objects.aggregate(rows=Count("id"), oldest=Min("created_at"))
    inbox_oldest = inbox["oldest"]
    return QueueFigures(
        redis=status,
        stream_entries=entries,
        stream_pending=pending,
        stream_oldest_seconds=oldest,
        inbox_rows=inbox["rows"],
        inbox_oldest_seconds=(
            (timezone.now() - inbox_oldest).total_seconds() if inbox_oldest else 0.0
        ),
        dead_letters=DeadLetter.objects.filter(resolved_at__isnull=True).count(),
    )
