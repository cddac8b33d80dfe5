"""Messages nested too deep, in tests: as JSON text (encoders would recurse), and as an older
server queued them before the depth check."""

import json

from feed.models import Event
from ingest.segment import message_parse
from tests.factories import wire_message

MAX_NESTING = 64  # the documented limit (ingest.segment.MAX_NESTING)
TOO_DEEP = f"message is nested deeper than {MAX_NESTING} levels"


def nested(depth: int) -> str:
    """JSON text of arrays nested `depth` levels deep (built as text: encoders would recurse)."""
    return "[" * depth + "]" * depth


def with_deep_properties(message: dict, depth: int) -> bytes:
    """`message` as JSON whose properties hold a value nested so that the whole message is
    `depth` levels deep (message and properties are two of them)."""
    text = json.dumps({**message, "properties": {"deep": "DEEP"}})
    return text.replace('"DEEP"', nested(depth - 2)).encode()


def queued_text(source, message_id: str, depth: int) -> str:
    """A message as an older server queued it (validated, not depth-checked), as JSON text."""
    message = message_parse(
        wire_message(message_id, properties={"deep": "DEEP"}),
        workspace_id=source.workspace_id,
        source_id=source.pk,
        received_at=Event._meta.get_field("received_at").to_python("2026-11-30T12:00:00+00:00"),
    ).as_dict()
    return json.dumps(message).replace('"DEEP"', nested(depth - 2))
