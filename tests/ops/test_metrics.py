"""/metrics: who may read it, and the ingest figures it reports, whichever process did the work."""

import re

import pytest

from core.messages import message_decode
from ingest import queue
from ingest.models import DeadLetter, InboxBatch
from ingest.store import batch_store
from tests.factories import queued_message
from tests.http import post_batch

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"  # documentation range: only a REMOTE_ADDR string, no traffic


def scrape(client, **headers) -> str:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def value(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in metrics"
    return float(match.group(1))


def test_metrics_are_refused_outside_the_allowed_networks(client, embedded, settings):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 403
    settings.WINDSOR_METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics").status_code == 403


def test_a_proxied_request_needs_the_token_even_from_localhost(client, embedded):
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR=OUTSIDE).status_code == 403
    assert client.get("/metrics", HTTP_X_REAL_IP=OUTSIDE).status_code == 403


def test_the_metrics_token_lets_any_network_in(client, embedded, settings):
    settings.WINDSOR_METRICS_TOKEN = "scrape-secret-1"
    ok = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer scrape-secret-1")
    assert ok.status_code == 200
    wrong = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert wrong.status_code == 403
    basic = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Basic c2NyYXBl")
    assert basic.status_code == 403


def test_allowed_networks_are_cidrs(client, embedded, settings):
    import ipaddress

    settings.WINDSOR_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("203.0.113.0/24")]
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 200
    assert client.get("/metrics").status_code == 403


@pytest.mark.django_db(transaction=True)  # counters are added when a batch commits
def test_embedded_metrics_count_what_this_process_stored_and_refused(client, embedded, issued):
    text = scrape(client)
    assert value(text, "windsor_ingest_events_stored_total") == 0
    assert value(text, "windsor_ingest_redis_up") == 1

    good = {"type": "track", "event": "E", "userId": "u", "messageId": "m-1"}
    assert (
        post_batch(client, issued.token, [good, {"type": "track", "userId": "u"}]).status_code
        == 200
    )
    assert post_batch(client, issued.token, [good]).status_code == 200  # a repeat: stored once
    assert post_batch(client, "wrong-token", [good]).status_code == 401

    text = scrape(client)
    assert value(text, "windsor_ingest_events_stored_total") == 1
    assert value(text, 'windsor_ingest_rejections_total{reason="invalid_token"}') == 1
    assert value(text, 'windsor_ingest_rejections_total{reason="invalid_message"}') == 1
    assert value(text, "windsor_ingest_batch_duration_seconds_count") == 2
    assert value(text, 'windsor_ingest_batch_duration_seconds_bucket{le="+Inf"}') == 2
    assert value(text, "windsor_ingest_inbox_rows") == 0
    # django-prometheus's own request metrics are there too.
    assert "django_http_requests_total_by_method_total" in text


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_rolled_back_is_not_counted(client, embedded, issued):
    deep: list = []
    inner = deep
    for _ in range(5000):  # deeper than any encoder goes: storing it fails, after it began
        inner.append([])
        inner = inner[0]
    poison = {**queued_message(issued.source, "poison"), "properties": {"deep": deep}}
    batch = [queued_message(issued.source, "a"), poison, queued_message(issued.source, "b")]
    batch_store([message_decode(m) for m in batch], [])
    text = scrape(client)
    # The batch failed whole, then a and b were stored one by one; poison was dead-lettered.
    assert value(text, "windsor_ingest_events_stored_total") == 2
    assert value(text, "windsor_ingest_batch_duration_seconds_count") == 2
    assert value(text, "windsor_ingest_dead_letters") == 1


@pytest.mark.services
def test_queue_inbox_and_dead_letter_gauges(client, stream, issued, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # nothing drains: the entries stay queued
    stream.set(queue.drain_flag_key(), 1)  # and no request tries to wake a drainer
    # A stream entry's id is the Redis clock when it was added: this one is 90 s old.
    seconds, _ = stream.time()
    stream.xadd(queue.stream_key(), {"n": 0}, id=f"{(seconds - 90) * 1000}-0")
    good = {"type": "track", "event": "E", "userId": "u", "messageId": "q-1"}
    assert post_batch(client, issued.token, [good]).status_code == 200
    assert post_batch(client, issued.token, [{**good, "messageId": "q-2"}]).status_code == 200
    InboxBatch.objects.create(messages=[queued_message(issued.source, "ib-1")], rejections=[])
    DeadLetter.objects.create(
        messages=[queued_message(issued.source, "dl-1")], error="x", attempts=1
    )

    text = scrape(client)
    assert value(text, "windsor_ingest_queue_entries") == 3
    assert 89 <= value(text, "windsor_ingest_queue_oldest_age_seconds") < 200
    assert value(text, "windsor_ingest_inbox_rows") == 1
    assert value(text, "windsor_ingest_dead_letters") == 1
    assert value(text, "windsor_ingest_redis_up") == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_counters_live_in_redis_so_any_process_sees_them(client, stream, issued):
    good = {"type": "track", "event": "E", "userId": "u", "messageId": "r-1"}
    assert post_batch(client, issued.token, [good, {"type": "track"}]).status_code == 200
    counted = stream.hgetall(f"{stream_name(stream)}:counters")
    assert counted[b"events_stored"] == b"1"
    assert counted[b"rejected:invalid_message"] == b"1"
    # What another process reads is what this one wrote: the scrape sums nothing locally.
    from ingest import counters

    counters._local.clear()
    text = scrape(client)
    assert value(text, "windsor_ingest_events_stored_total") == 1
    assert value(text, "windsor_ingest_queue_entries") == 0


def stream_name(client) -> str:
    from django.conf import settings

    return settings.INGEST_STREAM


@pytest.mark.django_db(transaction=True)
def test_a_batch_rolled_back_after_it_was_stored_is_not_counted(client, embedded, issued):
    from django.db import transaction

    from ingest.store import batch_process

    with pytest.raises(RuntimeError), transaction.atomic():
        batch_process([queued_message(issued.source, "rolled-back")])
        raise RuntimeError("the enclosing transaction fails after the batch")
    batch_process([queued_message(issued.source, "kept")])
    assert value(scrape(client), "windsor_ingest_events_stored_total") == 1


def test_requests_with_made_up_methods_add_no_series_to_the_metrics(client, embedded):
    """Each label of django-prometheus's request metrics comes from a bounded set: a method
    label copied from the request (`PURGE1`, `PURGE2`, ...) made /metrics grow with every
    anonymous request."""
    # Paths that differ each time too: no label holds a path (404s are "<unnamed view>").
    paths = ["/healthz", "/readyz", "/people/", "/v1/batch", "/no-such-page-{}", "/static/{}.css"]

    def made_up_requests(start: int) -> None:
        for n in range(start, start + 200):
            client.generic(f"M{n:06d}", paths[n % len(paths)].format(n))

    made_up_requests(0)
    scrape(client)  # the scrape's own series (its GET, its 200) exist from here on
    before = scrape(client)
    made_up_requests(200)
    after = scrape(client)

    def series(text: str) -> set[str]:
        return {line.rpartition(" ")[0] for line in text.splitlines() if line[:1] != "#"}

    assert series(after) == series(before)
    # Only the counts' digits change (and /metrics's own response sizes).
    assert len(after) - len(before) < 2000, (len(before), len(after))
