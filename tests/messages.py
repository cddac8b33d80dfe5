"""The one factory for validated messages in tests: what `ingest.segment` builds at the edge and
the worker stores. The apps' conftests set their own defaults (a fixed clock for the identity
rules, now for the Feed) on top of it."""

import itertools
import uuid
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import Workspace
from core.messages import Message

_counter = itertools.count(1)

# The optional Segment fields copied into `raw` under their wire names when given.
_WIRE_NAMES = {
    "event": "event",
    "name": "name",
    "properties": "properties",
    "traits": "traits",
    "previous_id": "previousId",
    "group_id": "groupId",
}


def typed_message(
    workspace: Workspace | int,
    type: str,
    *,
    source_id: int | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    previous_id: str | None = None,
    group_id: str | None = None,
    event: str | None = None,
    name: str | None = None,
    traits: dict | None = None,
    properties: dict | None = None,
    context: dict | None = None,
    timestamp: datetime | None = None,
    received_at: datetime | None = None,
    message_id: str | None = None,
) -> Message:
    """One validated message, as the identity rules and the event writer read it."""
    now = timezone.now()
    timestamp = timestamp or now
    message_id = message_id or f"test-{next(_counter)}-{uuid.uuid4()}"
    optional = {
        "event": event,
        "name": name,
        "properties": properties,
        "traits": traits,
        "previous_id": previous_id,
        "group_id": group_id,
    }
    raw: dict[str, Any] = {
        "type": type,
        "messageId": message_id,
        "userId": user_id,
        "anonymousId": anonymous_id,
        "timestamp": timestamp.isoformat(),
    }
    raw.update({_WIRE_NAMES[k]: v for k, v in optional.items() if v is not None})
    return Message(
        workspace_id=workspace if isinstance(workspace, int) else workspace.pk,
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
        context=context or {},
        timestamp=timestamp,
        received_at=received_at or now,
        raw=raw,
    )
