"""Feed test data, sent the way the worker stores it: contract messages into batch_process, on
the live clock (tests/factories.py), from "user-1" unless told."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Workspace
from accounts.services import IssuedToken, workspace_create
from ingest.store import batch_process
from tests.factories import stored_message


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
        fields.setdefault("user_id", "user-1")
        msg = stored_message(target, type, source_id=source_id, live=True, **fields)
        batch_process([msg])
        return msg

    return send_one


@pytest.fixture
def send_many(workspace: Workspace, issued: IssuedToken) -> Callable[..., list[dict]]:
    """`send_many(n)`: n track events one second apart, oldest first, in one batch."""

    def send(n: int, *, type: str = "track", event: str = "Clicked", start=None) -> list[dict]:
        start = start or timezone.now() - timedelta(days=1)
        messages = [
            stored_message(
                workspace,
                type,
                source_id=issued.source.pk,
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
