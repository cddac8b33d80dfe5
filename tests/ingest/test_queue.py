"""The Redis queue for real: requests go through the stream, drains read it in batches.

Each test uses its own stream name, so the session's Celery worker (if running) never sees it;
drains run in the test process.
"""

import json
import sys
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from accounts.models import RejectedMessage
from accounts.services import source_create
from core.bulk import COPY_FROM, bulk_insert_values
from core.messages import Message
from feed.models import Event
from ingest import drain, queue, store
from ingest.models import DeadLetter, InboxBatch
from ingest.segment import MAX_NESTING, too_deep, too_deep_reason
from ingest.tasks import drain_ingest
from tests.factories import stored
from tests.factories import wire_message as track
from tests.http import post_batch as post

pytestmark = [pytest.mark.services, pytest.mark.django_db]


@pytest.fixture
def stream(settings):
    """A private stream on the configured Redis; requests drain in-process (eager)."""
    settings.INGEST_STREAM = f"test:ingest:{uuid.uuid4().hex}"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    queue._redis_down_until = 0.0
    client = queue.redis_client()
    yield client
    queue._redis_down_until = 0.0
    keys = client.keys(settings.INGEST_STREAM + "*")
    if keys:
        client.delete(*keys)


def test_a_request_goes_through_the_stream_and_is_stored(client, token, stream):
    assert post(client, token, [track("s1"), track("s2")]).status_code == 200
    assert stored() == ["s1", "s2"]
    assert stream.xlen(queue.stream_key()) == 0
    assert InboxBatch.objects.count() == 0


def test_only_the_request_that_sets_the_drain_flag_wakes_a_drainer(stream, issued, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    record = {
        "source_id": issued.source.pk,
        "received_at": "2026-01-01T00:00:00+00:00",
        "index": 0,
        "reason": "r",
        "excerpt": "",
    }
    assert queue.enqueue([], [record]) is True
    assert queue.enqueue([], [record]) is False
    # The drainer clears the flag only after it found the stream empty, then reads once more.
    stored_count, more = drain.stream_drain(stream, deadline=float("inf"))
    assert (stored_count, more) == (2, False)
    assert stream.exists(queue.drain_flag_key()) == 0
    assert queue.enqueue([], [record]) is True


def test_a_drain_loops_over_batches_of_the_configured_size(client, token, stream, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INGEST_BATCH_SIZE = 7
    post(client, token, [track(f"m{n}") for n in range(20)])
    assert drain.stream_drain(stream, deadline=float("inf")) == (20, False)
    assert len(stored()) == 20


def test_a_drain_groups_interleaved_workspaces_into_batches_of_one_workspace(
    client, token, stream, settings, stranger_workspace, owner
):
    """Requests of two workspaces arrive in turn; each batch is still one workspace's, so each
    batch pays one round of reads (one dedupe read) instead of one per workspace in it."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INGEST_BATCH_SIZE = 4
    settings.INGEST_READ_BATCHES = 2
    other = source_create(workspace=stranger_workspace, name="Other", created_by=owner).token
    # The drain's first read is one entry (an entry may hold 2,500 messages); then it reads
    # two batches' worth: b0 a1 b1 a2 b2 a3 b3 a4, stored as a1-a4 and b0-b3.
    post(client, token, [track("a0")])
    for n in range(4):
        post(client, other, [track(f"b{n}")])
        post(client, token, [track(f"a{n + 1}")])
    with CaptureQueriesContext(connection) as queries:
        assert drain.stream_drain(stream, deadline=float("inf")) == (9, False)
    assert len(stored()) == 9
    dedupe_reads = [q for q in queries if 'FROM "feed_event"' in q["sql"]]
    # Ungrouped, the second read's batches would hold both workspaces: four reads, not two.
    assert len(dedupe_reads) == 3
    # Within a workspace the stream's order holds.
    assert list(
        Event.objects.filter(workspace=stranger_workspace)
        .order_by("id")
        .values_list("message_id", flat=True)
    ) == ["b0", "b1", "b2", "b3"]


def test_a_backlog_wakes_one_more_drain_at_most_once_per_interval(client, token, stream, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INGEST_BATCH_SIZE = 100
    settings.INGEST_FANOUT_SECONDS = 60
    for n in range(5):
        post(client, token, [track(f"r{n}-{i}") for i in range(100)])
    woken: list[int] = []
    assert drain.stream_drain(
        stream, deadline=float("inf"), wake_another=lambda: woken.append(1)
    ) == (500, False)
    # Five full reads, but the interval lets only the first one wake another worker.
    assert woken == [1]


def test_a_drain_that_keeps_up_wakes_nobody(client, token, stream, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INGEST_BATCH_SIZE = 100
    post(client, token, [track("alone")])
    woken: list[int] = []
    drain.stream_drain(stream, deadline=float("inf"), wake_another=lambda: woken.append(1))
    assert woken == []


def test_what_a_dead_worker_took_is_taken_over(client, token, stream, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INGEST_CLAIM_IDLE_SECONDS = 0
    post(client, token, [track("orphan-1"), track("orphan-2")])
    queue.group_ensure(stream)
    taken = queue.stream_read(stream, "worker-that-died", 10, pending=False)
    assert len(taken.records.messages) == 2

    drain.drain()
    assert stored() == ["orphan-1", "orphan-2"]
    assert stream.xpending(queue.stream_key(), queue.GROUP)["pending"] == 0


def test_entries_that_keep_killing_workers_are_dead_lettered(client, token, stream, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INGEST_CLAIM_IDLE_SECONDS = 0
    settings.INGEST_MAX_DELIVERIES = 3
    post(client, token, [track("killer")])
    queue.group_ensure(stream)
    queue.stream_read(stream, "died-once", 10, pending=False)
    queue.stream_claim(stream, "died-twice", 10)

    drain.drain()
    assert stored() == []
    assert [m["message_id"] for m in DeadLetter.objects.get().messages] == ["killer"]
    assert stream.xlen(queue.stream_key()) == 0


def test_with_redis_unreachable_requests_go_to_the_inbox(client, token, stream, settings):
    settings.INGEST_REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = post(client, token, [track("kept-1")])
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert InboxBatch.objects.count() == 1
    drain.drain()
    assert stored() == ["kept-1"]


def test_a_source_over_its_rate_gets_429(client, token, stream, settings):
    settings.INGEST_RATE_LIMIT_PER_SECOND = 3
    assert post(client, token, [track("r1"), track("r2"), track("r3")]).status_code == 200
    response = post(client, token, [track(f"x{n}") for n in range(4)])
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert response["Retry-After"] == "1"
    assert stored() == ["r1", "r2", "r3"]


def test_entries_of_one_and_of_many_messages_are_drained_in_bounded_batches(
    client, token, stream, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INGEST_BATCH_SIZE = 7
    for n in range(5):
        post(client, token, [track(f"one-{n}")])
    post(client, token, [track(f"many-{n}") for n in range(20)])
    for n in range(3):
        post(client, token, [track(f"after-{n}")])
    assert drain.stream_drain(stream, deadline=float("inf")) == (28, False)
    assert len(stored()) == 28


def test_the_request_reads_only_its_source_and_writes_nothing_to_the_database(
    client, token, stream, settings, django_assert_max_num_queries
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with django_assert_max_num_queries(1) as captured:
        assert post(client, token, [track("q1"), {"type": "bad"}]).status_code == 200
    assert all("accounts_source" in q["sql"] for q in captured.captured_queries)
    # Seen once, the token is not looked up again for a while.
    with django_assert_max_num_queries(0):
        assert post(client, token, [track("q2")]).status_code == 200
    assert stored() == []


def test_unreadable_and_deep_entries_an_older_server_queued_do_not_stall_the_stream(
    client, issued, stream, settings
):
    from tests.ingest.hostile import TOO_DEEP, queued_text

    settings.CELERY_TASK_ALWAYS_EAGER = False
    stream.xadd(queue.stream_key(), {"n": 1, "m": b"[{not json"})
    deep = "[" + queued_text(issued.source, "old-deep", 930) + "]"
    stream.xadd(queue.stream_key(), {"n": 1, "m": deep.encode()})
    post(client, issued.token, [track("after-1"), track("after-2")])

    drain.stream_drain(stream, deadline=float("inf"))
    assert stored() == ["after-1", "after-2"]
    assert stream.xlen(queue.stream_key()) == 0
    letter = DeadLetter.objects.get()
    assert letter.messages[0]["minimal"] is True
    assert "not json" in letter.messages[0]["excerpt"]
    assert RejectedMessage.objects.get(source=issued.source).reason == TOO_DEEP


def test_big_integers_keep_their_digits_through_the_stream(client, token, stream):
    big = 2**64 + 1
    message = {**track("big"), "userId": big, "properties": {"n": big, "list": [big * 3]}}
    assert post(client, token, [message]).status_code == 200
    event = Event.objects.get(message_id="big")
    assert event.properties == {"n": big, "list": [big * 3]}
    assert event.raw["userId"] == big
    assert event.identity.value == str(big)


def older_record(source, message_id: str) -> dict:
    """A message as servers before the envelope queued it: its `Message.as_dict()`."""
    from datetime import UTC, datetime

    from ingest.segment import message_parse

    return message_parse(
        {**track(message_id), "timestamp": "2026-11-30T10:00:00Z", "properties": {"k": 1}},
        workspace_id=source.workspace_id,
        source_id=source.pk,
        received_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    ).as_dict()


def test_records_an_older_server_queued_are_stored_next_to_new_ones(
    client, issued, stream, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    old = [older_record(issued.source, "old-1"), older_record(issued.source, "old-2")]
    stream.xadd(queue.stream_key(), {"n": 2, "m": json.dumps(old).encode()})
    InboxBatch.objects.create(messages=[older_record(issued.source, "old-inbox")], rejections=[])
    post(client, issued.token, [track("new-1")])

    drain.drain()
    assert stored() == ["new-1", "old-1", "old-2", "old-inbox"]
    event = Event.objects.get(message_id="old-1")
    assert event.properties == {"k": 1}
    assert event.timestamp.isoformat() == "2026-11-30T10:00:00+00:00"
    assert InboxBatch.objects.count() == 0


def test_an_entry_delivered_twice_is_still_each_message_once(client, issued, stream, settings):
    # A worker that died after storing, before acknowledging: the entry is read again. A
    # messageId the edge generated (random without a timestamp) travels with the entry.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    no_ids = [
        {"type": "track", "event": "random id", "userId": "u"},
        {"type": "track", "event": "hashed id", "userId": "u", "timestamp": "2026-11-30T10:00Z"},
    ]
    assert post(client, issued.token, no_ids).status_code == 200
    ((_, fields),) = stream.xrange(queue.stream_key())
    stream.xadd(queue.stream_key(), fields)

    drain.drain()
    assert Event.objects.count() == 2
    assert all(m.startswith("windsor-") for m in stored())


def test_an_envelopes_messages_are_built_once_and_stored_as_read(
    client, issued, stream, settings, monkeypatch
):
    # The worker builds each message of an envelope once, as it reads the queue, and stores
    # that very value: no dict form in between to decode again.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert post(client, issued.token, [track("once-1"), track("once-2")]).status_code == 200
    queue.group_ensure(stream)
    batch = queue.stream_read(stream, "reader", 10, pending=False)
    read = batch.records.messages
    assert [type(m) for m in read] == [Message, Message]
    handed: list = []
    real_workspace_write = store.workspace_write

    def workspace_write(workspace_id, messages):
        handed.extend(messages)
        return real_workspace_write(workspace_id, messages)

    monkeypatch.setattr(store, "workspace_write", workspace_write)
    store.batch_store(batch.records.messages, batch.records.rejections)
    assert len(handed) == 2 and all(a is b for a, b in zip(handed, read, strict=True))
    assert stored() == ["once-1", "once-2"]


def test_a_queued_record_that_cannot_be_read_is_a_dead_letter_and_the_rest_stored(
    client, issued, stream, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broken = {"format": 2, "workspace_id": "not an id", "messages": [track("lost")]}
    stream.xadd(queue.stream_key(), {"n": 1, "m": json.dumps([broken]).encode()})
    post(client, issued.token, [track("after")])

    drain.drain()
    assert stored() == ["after"]
    letter = DeadLetter.objects.get()
    assert letter.messages[0]["minimal"] is True
    assert "not an id" in letter.messages[0]["excerpt"]
    assert stream.xlen(queue.stream_key()) == 0


def test_a_queued_message_the_rules_now_refuse_is_logged_on_its_source(
    client, issued, stream, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    record = {
        "format": 2,
        "workspace_id": issued.source.workspace_id,
        "source_id": issued.source.pk,
        "received_at": "2026-11-30T12:00:00+00:00",
        "messages": [{"type": "track", "userId": "u"}, track("kept")],
    }
    stream.xadd(queue.stream_key(), {"n": 2, "m": json.dumps([record]).encode()})

    drain.drain()
    assert stored() == ["kept"]
    assert RejectedMessage.objects.get(source=issued.source).reason == "track needs an event name"


def test_the_worker_walks_no_message_an_edge_as_strict_checked_for_depth(
    client, issued, stream, settings
):
    # The edge refuses deeper messages before queueing them, and its envelope says at which
    # limit; the worker then does not walk them again. One level past the limit is harmless to
    # store, so what decides below is whether the worker walked the message.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert post(client, issued.token, [track("edge")]).status_code == 200
    ((_, fields),) = stream.xrange(queue.stream_key())
    (record,) = json.loads(fields[b"m"])
    assert record["nesting"] == MAX_NESTING
    deep: dict = {}
    inner = deep
    for _ in range(MAX_NESTING - 1):
        inner["d"] = {}
        inner = inner["d"]
    trusted = {**record, "messages": [{**track("trusted"), "properties": deep}]}
    unmarked = {**record, "messages": [{**track("unmarked"), "properties": deep}]}
    del unmarked["nesting"]
    looser = {**record, "nesting": MAX_NESTING + 1}
    looser["messages"] = [{**track("looser"), "properties": deep}]
    assert too_deep(trusted["messages"][0])
    stream.xadd(queue.stream_key(), {"n": 3, "m": json.dumps([trusted, unmarked, looser])})

    drain.drain()
    assert stored() == ["edge", "trusted"]
    reasons = RejectedMessage.objects.filter(source=issued.source).values_list("reason", flat=True)
    assert list(reasons) == [too_deep_reason()] * 2


def test_a_browser_shipped_key_is_rate_limited_by_default_and_servers_are_not(
    client, token, stream, settings
):
    """analytics.js's key is public: what browsers send with it (requests with an Origin) has a
    rate of its own, on by default; a server's requests (no Origin) only the opt-in one."""
    from windsor import settings as windsor_settings

    assert windsor_settings.INGEST_BROWSER_RATE_LIMIT_PER_SECOND > 0
    settings.INGEST_BROWSER_RATE_LIMIT_PER_SECOND = 3
    origin = {"HTTP_ORIGIN": "https://shop.example"}

    def browser(messages):
        body = json.dumps({"batch": messages, "writeKey": token})
        return client.post("/v1/batch", body, content_type="text/plain", **origin)

    assert browser([track("b1"), track("b2"), track("b3")]).status_code == 200
    response = browser([track("b4")])
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert post(client, token, [track(f"s{n}") for n in range(5)]).status_code == 200
    assert sorted(stored()) == ["b1", "b2", "b3", "s0", "s1", "s2", "s3", "s4"]


def test_a_database_outage_leaves_the_records_unacknowledged(
    client, issued, stream, settings, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert post(client, issued.token, [track("kept-1"), track("kept-2")]).status_code == 200

    def outage(workspace_id, messages):
        raise OperationalError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(store, "workspace_write", outage)
        patch.setattr(store, "database_down", lambda error: True)
        with pytest.raises(OperationalError):
            drain.stream_drain(stream, deadline=float("inf"))
    # Nothing stored, nothing dead-lettered, the entry still pending: read again, stored once.
    assert stored() == [] and not DeadLetter.objects.exists()
    assert stream.xpending(queue.stream_key(), queue.GROUP)["pending"] == 1
    drain.stream_drain(stream, deadline=float("inf"))
    assert stored() == ["kept-1", "kept-2"]
    assert stream.xpending(queue.stream_key(), queue.GROUP)["pending"] == 0


def _windsor_frames_at_the_events_copy(run: Callable[[], object]) -> list[list[str]]:
    """Run `run` and return, for each COPY of events, the Windsor functions on the stack from
    the drain task down to the COPY (a profile hook that only reads frames: nothing patched)."""
    root = str(Path(__file__).resolve().parents[2])
    target = bulk_insert_values.__code__
    chains: list[list[str]] = []

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event != "call" or frame.f_code is not target or frame.f_locals["model"] is not Event:
            return
        if len(frame.f_locals["rows"]) < COPY_FROM:
            return  # an INSERT, not a COPY
        stack = traceback.extract_stack(frame)
        windsor = [
            f"{Path(f.filename).stem}.{f.name}"
            for f in stack
            if f.filename.startswith(root) and "/.venv/" not in f.filename
        ]
        chains.append(windsor[windsor.index("tasks.drain_ingest") :])

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return chains


def test_the_worker_path_from_the_stream_to_the_events_copy_is_at_most_six_calls_deep(
    client, issued, stream, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("events are COPYed on PostgreSQL only")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    messages = [track(f"deep-{n}") for n in range(COPY_FROM + 10)]
    assert post(client, issued.token, messages).status_code == 200

    chains = _windsor_frames_at_the_events_copy(drain_ingest)

    assert Event.objects.count() == COPY_FROM + 10
    assert chains, "no COPY of events"
    for chain in chains:
        calls = chain[1:]  # below the task: each frame one call deeper
        assert calls[-1] == "bulk.bulk_insert_values", chain
        assert len(calls) <= 6, " -> ".join(chain)
