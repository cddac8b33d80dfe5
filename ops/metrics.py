"""/metrics: django-prometheus's request and process metrics plus the ingest figures.

The ingest figures are read when Prometheus scrapes, from where they are kept, so every web
process answers the same whichever process did the work:
- gauges (queue, inbox, dead letters) from Redis and the database (`ingest.figures`);
- counters (events stored, batch durations, refusals per reason) from the shared Redis hash the
  workers and web processes add to (`ingest.counters`).

django-prometheus's own request counters live in each gunicorn process. With
PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it) they are summed over all
processes of this server; without it a scrape sees the process that answered.
"""

import logging
import os
from collections.abc import Iterator

import redis
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ingest import counters
from ingest.figures import queue_figures

logger = logging.getLogger(__name__)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _histogram(values: dict[str, float]) -> HistogramMetricFamily:
    buckets = []
    running = 0.0
    for bound in counters.BATCH_SECONDS_BUCKETS:
        running += values.get(f"{counters.BUCKET_PREFIX}{bound}", 0)
        buckets.append((str(bound), running))
    running += values.get(f"{counters.BUCKET_PREFIX}+Inf", 0)
    buckets.append(("+Inf", running))
    return HistogramMetricFamily(
        "windsor_ingest_batch_duration_seconds",
        "Time to store one batch of messages (identity rules and event inserts).",
        buckets=buckets,
        sum_value=values.get(counters.BATCH_SECONDS, 0.0),
    )


class IngestCollector(Collector):
    def describe(self) -> list[Metric]:
        # Without this, registering would call collect(): queries while the app loads.
        return []

    def collect(self) -> Iterator[Metric]:
        figures = queue_figures()
        yield _gauge(
            "windsor_ingest_redis_up",
            "1 when the ingest Redis answers (or none is configured), else 0.",
            1 if figures.redis_ok else 0,
        )
        yield _gauge(
            "windsor_ingest_queue_entries",
            "Requests waiting in the Redis stream (each holds 1 to 2,500 messages).",
            figures.stream_entries,
        )
        yield _gauge(
            "windsor_ingest_queue_pending_entries",
            "Stream entries a worker has taken and not yet acknowledged.",
            figures.stream_pending,
        )
        yield _gauge(
            "windsor_ingest_queue_oldest_age_seconds",
            "Seconds the oldest request in the Redis stream has waited (0 when empty).",
            figures.stream_oldest_seconds,
        )
        yield _gauge(
            "windsor_ingest_inbox_rows",
            "Requests waiting in the database inbox (taken while Redis was unavailable).",
            figures.inbox_rows,
        )
        yield _gauge(
            "windsor_ingest_inbox_oldest_age_seconds",
            "Seconds the oldest inbox row has waited (0 when empty).",
            figures.inbox_oldest_seconds,
        )
        yield _gauge(
            "windsor_ingest_dead_letters",
            "Dead letters: messages that kept failing, waiting for an admin.",
            figures.dead_letters,
        )
        try:
            values = counters.counters_read()
        except redis.RedisError as exc:
            logger.warning("metrics: could not read the ingest counters: %s", exc)
            return
        yield CounterMetricFamily(
            "windsor_ingest_events_stored",
            "Events stored (new messages; repeats of a stored messageId are not counted).",
            value=values.get(counters.EVENTS, 0),
        )
        yield _histogram(values)
        rejections = CounterMetricFamily(
            "windsor_ingest_rejections",
            "Messages and requests refused, by reply code.",
            labels=["reason"],
        )
        for key, value in sorted(values.items()):
            if key.startswith(counters.REJECTED_PREFIX):
                rejections.add_metric([key.removeprefix(counters.REJECTED_PREFIX)], value)
        yield rejections


_collector = IngestCollector()
_registered = False


def collector_register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(_collector)
        _registered = True


def metrics_registry() -> CollectorRegistry:
    """The registry a scrape reads: this process's, or all gunicorn processes' in multiprocess
    mode (plus the ingest figures, which no process keeps)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_collector)
    return registry
