"""Process a batch of validated messages: store events once, hand each call to people/.

PLACEHOLDER: a naive per-message version so the ingest path works end to end; the real batch
processor (bulk statements, identity rules) replaces it.

A message here is the JSON-safe dict produced by `ingest.segment` (see `Message.as_dict`):
workspace_id, source_id, type, message_id, user_id, anonymous_id, previous_id, group_id, event,
name, properties, traits, context, timestamp (ISO), received_at (ISO), raw.
"""

from datetime import datetime

from django.db import transaction

from feed.models import Event
from people.models import Identity, Person


@transaction.atomic
def batch_process(messages: list[dict]) -> None:
    for message in messages:
        key = message.get("user_id") or message.get("anonymous_id")
        identity = None
        if key:
            identity = Identity.objects.filter(
                workspace_id=message["workspace_id"], value=key
            ).first()
            if identity is None:
                person = Person.objects.create(workspace_id=message["workspace_id"])
                identity = Identity.objects.create(
                    workspace_id=message["workspace_id"],
                    value=key,
                    kind="user" if message.get("user_id") else "anonymous",
                    person=person,
                )
        Event.objects.bulk_create(
            [
                Event(
                    workspace_id=message["workspace_id"],
                    source_id=message.get("source_id"),
                    identity=identity,
                    type=message["type"],
                    name=message.get("event") or message.get("name") or "",
                    properties=message.get("properties") or {},
                    message_id=message["message_id"],
                    timestamp=datetime.fromisoformat(message["timestamp"]),
                    received_at=datetime.fromisoformat(message["received_at"]),
                    hidden=message["type"] == "page",
                    raw=message.get("raw") or {},
                )
            ],
            ignore_conflicts=True,
        )
