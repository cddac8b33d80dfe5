"""Segment's recorded `delete` through the production path: a live server, the Redis queue and a
real Celery worker on PostgreSQL (tests/ingest/test_deletions.py covers the embedded one)."""

import time

import pytest
import requests

from accounts.models import AuditEntry, Source
from accounts.services import source_erasure_set
from feed.models import Event
from people.models import Identity
from tests.recorded import destination_path, recorded

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 60
USER = "user-123"


def wait_until(check) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("shape,path", [(0, None), (1, "/v1/delete")], ids=["partner", "webhooks"])
def test_a_recorded_delete_erases_the_person_through_the_queue(
    live_server, celery_worker, issued, shape, path
):
    workspace = issued.source.workspace
    source_erasure_set(source=issued.source, allowed=True)
    seed = [
        {"type": "identify", "userId": USER, "messageId": "q-1", "traits": {"email": "a@x.io"}},
        {"type": "track", "userId": USER, "event": "Paid", "messageId": "q-2"},
        {"type": "identify", "userId": "keep-me", "messageId": "q-3"},
    ]
    reply = requests.post(
        f"{live_server.url}/v1/batch", json={"batch": seed}, auth=(issued.token, ""), timeout=10
    )
    assert reply.status_code == 200
    assert wait_until(lambda: Event.objects.filter(workspace=workspace).count() == 3)

    request = recorded("segment-delete", folder="segment-deletion")[shape].with_token(issued.token)
    reply = requests.post(
        live_server.url + (path or destination_path(request)),
        data=request.encoded_body(),
        headers=request.headers,
        timeout=10,
    )
    assert reply.status_code == 200 and reply.json() == {"success": True}
    assert wait_until(lambda: not Identity.objects.filter(value=USER).exists())
    assert list(Event.objects.filter(workspace=workspace).values_list("message_id", flat=True)) == [
        "q-3"
    ]
    assert wait_until(lambda: Source.objects.get(pk=issued.source.pk).accepted_count == 4)
    entry = AuditEntry.objects.get(workspace=workspace, action=AuditEntry.Action.PERSON_DELETED)
    assert entry.actor is None and "Segment delete" in entry.actor_label
