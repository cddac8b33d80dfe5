"""Feed test data, sent the way the worker stores it: contract messages into batch_process."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Workspace
from accounts.services import IssuedToken, workspace_create
from core.messages import Message
from ingest.store import batch_process
from tests import messages


def typed_message(
    workspace: Workspace,
    source_id: int | None,
    type: str,
    *,
    user_id: str | None = "user-1",
    **fields: Any,
) -> Message:
    """One validated message from a source, sent now unless a timestamp is given."""
    return messages.typed_message(workspace, type, source_id=source_id, user_id=user_id, **fields)


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
