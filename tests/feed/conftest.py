"""Feed test data, sent the way the worker stores it: contract messages into batch_process."""

import itertools
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Workspace
from accounts.services import IssuedToken, workspace_create
from ingest.services import batch_process
from windsor.messages import Message

_counter = itertools.count()


def typed_message(
    workspace: Workspace,
    source_id: int | None,
    type: str,
    *,
    user_id: str | None = "user-1",
    anonymous_id: str | None = None,
    event: str | None = None,
    name: str | None = None,
    properties: dict | None = None,
    traits: dict | None = None,
    previous_id: str | None = None,
    group_id: str | None = None,
    timestamp: datetime | None = None,
) -> Message:
    """One validated message, as the event writer reads it."""
    now = timezone.now()
    timestamp = timestamp or now
    message_id = f"test-{next(_counter)}-{uuid.uuid4()}"
    raw = {
        "type": type,
        "messageId": message_id,
        "userId": user_id,
        "anonymousId": anonymous_id,
        "timestamp": timestamp.isoformat(),
    }
    for key, value in (
        ("event", event),
        ("name", name),
        ("properties", properties),
        ("traits", traits),
        ("previousId", previous_id),
        ("groupId", group_id),
    ):
        if value is not None:
            raw[key] = value
    return Message(
        workspace_id=workspace.pk,
        source_id=source_id,
        type=type,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        previous_id=previous_id,
        group_id=group_id,
        event=event,
        name=name,
        properties=properties or {},
        traits=traits or {},
        context={},
        timestamp=timestamp,
        received_at=now,
        raw=raw,
    )


def message(workspace: Workspace, source_id: int | None, type: str, **fields) -> dict:
    """`typed_message` as the queue carries it to the worker (`Message.as_dict()`)."""
    return typed_message(workspace, source_id, type, **fields).as_dict()


@pytest.fixture
def other_workspace(db) -> Workspace:
    user = get_user_model().objects.create_user(username="other@example.com", password="x" * 12)
    return workspace_create(name="Other", owner=user)


@pytest.fixture
def send(workspace: Workspace, issued: IssuedToken) -> Callable[..., list[dict]]:
    """`send("track", event="Signed Up", ...)`: store one message through the worker's service."""

    def send_one(type: str, *, into: Workspace | None = None, **fields) -> dict:
        target = into or workspace
        source_id = issued.source.pk if target == workspace else None
        msg = message(target, source_id, type, **fields)
        batch_process([msg])
        return msg

    return send_one


@pytest.fixture
def send_many(workspace: Workspace, issued: IssuedToken) -> Callable[..., list[dict]]:
    """`send_many(n)`: n track events one second apart, oldest first, in one batch."""

    def send(n: int, *, type: str = "track", event: str = "Clicked", start=None) -> list[dict]:
        start = start or timezone.now() - timedelta(days=1)
        messages = [
            message(
                workspace,
                issued.source.pk,
                type,
                event=event if type == "track" else None,
                name=event if type != "track" else None,
                user_id=f"user-{i % 7}",
                timestamp=start + timedelta(seconds=i),
            )
            for i in range(n)
        ]
        batch_process(messages)
        return messages

    return send
