"""Writing events: the one place that turns stored messages into `Event` rows.

Ingest decides which messages are new (under the workspace's batch lock) and runs the identity
rules; it then hands each new message (a `core.messages.Message`, its datetimes already
parsed) and the identity it resolved to `events_write`. Nothing else inserts events.

The hidden-events rule lives here: page views are stored hidden, shown only when someone asks
(Show Hidden Events on the Feed or a timeline).
"""

from collections.abc import Iterable
from typing import Any

from core.bulk import bulk_insert_values
from core.lookups import equals_unindexed, one_of
from core.messages import Message
from feed.models import Event
from feed.rollups import rollups_add
from people.models import Identity

NAME_MAX_LENGTH = 255


def event_hidden(kind: str) -> bool:
    """Whether an event of this type is hidden until asked for: page views are."""
    return kind == "page"


def stored_message_ids(workspace_id: int, message_ids: Iterable[str]) -> set[str]:
    """Which of these messageIds the workspace already has an event for.

    One descent per messageId into the unique (message_id, workspace) index, whatever the
    statistics say of the workspace: the workspace only filters what the keys found (see
    core/lookups.py `equals_unindexed`)."""
    return set(
        Event.objects.filter(
            one_of("message_id", message_ids), equals_unindexed("workspace_id", workspace_id)
        ).values_list("message_id", flat=True)
    )


def events_write(
    messages: list[Message], identities: list[Identity | None], warnings: list[list[str]]
) -> None:
    """Insert one event per message, with the identity the identity rules resolved for it.

    Only for messages not stored yet, under the workspace's batch lock: a plain COPY/INSERT is
    safe there, and (workspace, message_id) stays unique."""
    rows = [
        event_row(message, identity, warns)
        for message, identity, warns in zip(messages, identities, warnings, strict=True)
    ]
    # The foreign keys checked once per workspace, source and identity, not once per event
    # (core/keyshare.py); the rollups' few rows keep their per-row checks.
    bulk_insert_values(Event, rows, keys_once=True)
    # The charts' counts, in this same transaction: they hold exactly the stored events.
    rollups_add(rows)


def event_row(message: Message, identity: Identity | None, warnings: list[str]) -> dict[str, Any]:
    """The event row of a message, by field attname."""
    kind = message.type
    if kind == "track":
        name = message.event or ""
    elif kind in {"page", "screen"}:
        name = message.name or ""
    else:
        name = ""
    return {
        "workspace_id": message.workspace_id,
        "source_id": message.source_id,
        "identity_id": identity.pk if identity is not None else None,
        "type": kind,
        "name": name[:NAME_MAX_LENGTH],
        "properties": message.properties,
        "context": message.context,
        "message_id": message.message_id,
        "timestamp": message.timestamp,
        "received_at": message.received_at,
        "hidden": event_hidden(kind),
        "raw": message.raw,
        "warnings": warnings,
    }
