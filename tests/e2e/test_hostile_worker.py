"""Hostile messages against the live server, the real Redis stream and a real Celery worker:
nothing one sender does keeps the worker from storing every other message."""

import json

import pytest
import requests

from accounts.models import RejectedMessage
from ingest import queue
from people.models import Identity
from tests.e2e.waits import wait_for_events
from tests.factories import wire_message
from tests.ingest.hostile import TOO_DEEP, queued_text

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def send(live_server, token: str, body: bytes) -> requests.Response:
    return requests.post(
        live_server.url + "/v1/batch",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )


def test_a_deep_message_an_older_server_queued_does_not_stall_the_celery_worker(
    live_server, celery_worker, issued
):
    # The edge refuses it now; an older server put it in the stream as it came (about 930 levels
    # was what its encoder still took). It goes first, as in the stall that was seen.
    deep = "[" + queued_text(issued.source, "old-deep", 930) + "]"
    queue.redis_client().xadd(queue.stream_key(), {"n": 1, "m": deep.encode()})

    ids = [f"after-{n}" for n in range(5)]
    for message_id in ids:
        response = send(live_server, issued.token, json.dumps([wire_message(message_id)]).encode())
        assert response.status_code == 200, response.text

    assert sorted(wait_for_events(issued.source.workspace, len(ids))) == ids
    assert RejectedMessage.objects.get(source=issued.source, index=None).reason == TOO_DEEP


def test_a_deep_message_sent_now_is_refused_and_its_batch_neighbour_stored(
    live_server, celery_worker, issued
):
    body = '{"batch": [' + json.dumps(wire_message("valid")) + ', {"type": "track", "event": "E",'
    body += ' "userId": "u", "properties": {"p": ' + "[" * 1000 + "]" * 1000 + "}}]}"
    response = send(live_server, issued.token, body.encode())
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == [
        {"index": 1, "code": "message_too_deep", "reason": TOO_DEEP}
    ]
    assert wait_for_events(issued.source.workspace, 1) == ["valid"]


def test_big_integer_ids_stay_two_people_through_the_worker(live_server, celery_worker, issued):
    body = json.dumps(
        [
            {"type": "identify", "userId": 2**64 + n, "messageId": f"big-{n}", "traits": {}}
            for n in range(2)
        ]
    )
    assert send(live_server, issued.token, body.encode()).status_code == 200
    wait_for_events(issued.source.workspace, 2)
    users = Identity.objects.filter(workspace=issued.source.workspace, kind="user")
    assert sorted(users.values_list("value", flat=True)) == [
        "18446744073709551616",
        "18446744073709551617",
    ]
