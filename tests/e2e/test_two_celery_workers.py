"""Two real Celery workers share a burst of overlapping calls sent over HTTP.

The same calls (with repeats, in two different orders, from two senders at once) go through the
real endpoint, the Redis stream and two worker processes; the people they make must be exactly
those one sequential pass makes, with every message stored once.
"""

import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from accounts.models import Workspace
from accounts.services import source_create
from feed.models import Event
from ingest import queue
from ingest.segment import message_parse
from ingest.store import batch_process
from people.models import Person
from tests.factories import canonical_state
from tests.services import worker_start, worker_stop

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 11, 1, tzinfo=UTC)
USERS = 120


def wire(i: int, minute: int, **fields) -> dict:
    return {
        "messageId": f"burst-{i}-{minute}-{fields['type']}",
        "timestamp": (START + timedelta(minutes=minute, seconds=i)).isoformat(),
        **fields,
    }


def overlapping_calls() -> list[dict]:
    """Visitors who sign up, conflicting identifies, and legacy ids aliased into four users each."""
    calls = []
    for i in range(USERS):
        user, visitor, legacy = f"user-{i}", f"visitor-{i}", f"legacy-{i % (USERS // 4)}"
        calls += [
            wire(i, 0, type="page", anonymousId=visitor, name="Home"),
            wire(
                i,
                1,
                type="identify",
                userId=user,
                anonymousId=visitor,
                traits={"email": f"{i}@example.com", "plan": "free"},
            ),
            wire(i, 2, type="identify", userId=user, traits={"plan": "pro"}),
            wire(i, 3, type="track", userId=user, event="Bought", properties={"revenue": i}),
            wire(i, 4, type="alias", previousId=legacy, userId=user),
            wire(
                i, 5, type="group", userId=user, groupId=f"g{i % 3}", traits={"name": f"G{i % 3}"}
            ),
        ]
    return calls


@pytest.fixture
def two_workers(celery_worker):
    # Small batches make the burst last long enough for the second worker to be woken.
    env = {"INGEST_BATCH_SIZE": "20", "INGEST_FANOUT_SECONDS": "0.2"}
    workers = [worker_start(f"burst-worker-{n}", env=env) for n in (1, 2)]
    yield workers
    for proc in workers:
        worker_stop(proc)


def post_all(url: str, token: str, calls: list[dict]) -> list[int]:
    statuses = []
    with requests.Session() as session:
        for start in range(0, len(calls), 15):
            body = json.dumps({"batch": calls[start : start + 15]})
            response = session.post(f"{url}/v1/batch", data=body, auth=(token, ""), timeout=30)
            statuses.append(response.status_code)
    return statuses


def test_two_workers_store_an_overlapping_burst_like_one_sequential_pass(
    live_server, workspace, token, two_workers
):
    calls = overlapping_calls()
    rng = random.Random(7)
    orders = []
    for _ in range(2):
        order = calls + rng.sample(calls, len(calls) // 4)
        rng.shuffle(order)
        orders.append(order)
    client = queue.redis_client()
    burst_started = time.monotonic()

    statuses: list[list[int]] = [[], []]
    senders = [
        threading.Thread(
            target=lambda n=n: statuses[n].extend(post_all(live_server.url, token, orders[n]))
        )
        for n in (0, 1)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert {s for batch in statuses for s in batch} == {200}

    deadline = time.monotonic() + 120
    while Event.objects.for_workspace(workspace).count() < len(calls):
        assert time.monotonic() < deadline, "the workers did not store the burst in 2 minutes"
        time.sleep(0.5)
    while client.xlen(queue.stream_key()):
        assert time.monotonic() < deadline, "entries left in the stream"
        time.sleep(0.2)

    reference = Workspace.objects.create(name="one sequential pass")
    source = source_create(workspace=reference, name="reference").source
    received = datetime.now(UTC)
    batch_process(
        [
            message_parse(
                call, workspace_id=reference.pk, source_id=source.pk, received_at=received
            ).as_dict()
            for call in calls
        ]
    )
    assert canonical_state(workspace) == canonical_state(reference)
    assert Event.objects.for_workspace(workspace).count() == len(calls)
    # Legacy id k joins users k, k+30, k+60 and k+90: 30 people of 9 ids each.
    people = Person.objects.for_workspace(workspace).current()
    assert people.count() == USERS // 4
    assert {p.identities.count() for p in people} == {9}

    # More than one worker process read entries from the stream during the burst.
    burst_ms = (time.monotonic() - burst_started) * 1000
    active = [
        c["name"]
        for c in client.xinfo_consumers(queue.stream_key(), queue.GROUP)
        if c["idle"] < burst_ms
    ]
    assert len(active) >= 2, active
