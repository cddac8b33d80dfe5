"""Forgetting a person reaches ingest's dead letters too (people/deletion.py erases the rest).

A dead letter keeps the queued messages that failed (each a dict with `user_id`, `anonymous_id`
and `previous_id`) or, as a last resort, a minimal record with an excerpt of the message. When
someone is erased, every dead letter of their workspace holding one of their id values, in one
of those keys or in an excerpt, is deleted: one DELETE, whatever the number of ids or letters.
Letters are matched message by message with the database's JSON functions (jsonb on PostgreSQL,
json_each on SQLite), the values as one parameter; a letter whose workspace is unknown (an
unreadable queue record) cannot be told apart and stays.
"""

import json

from django.db import connection
from django.db.models.expressions import RawSQL

from ingest.models import DeadLetter
from people.deletion import excerpt_needles

# The ids of letters holding, for the workspace %s, a message with one of the values (array %s)
# in an id key, or an excerpt containing one of the needles (array %s).
_POSTGRESQL = """
SELECT d.id FROM ingest_deadletter d CROSS JOIN LATERAL jsonb_array_elements(
    CASE jsonb_typeof(d.messages) WHEN 'array' THEN d.messages ELSE '[]'::jsonb END) AS m
WHERE m->>'workspace_id' = %s AND (
    m->>'user_id' = ANY(%s::text[]) OR m->>'anonymous_id' = ANY(%s::text[])
    OR m->>'previous_id' = ANY(%s::text[])
    OR EXISTS (SELECT 1 FROM unnest(%s::text[]) AS n(s) WHERE strpos(m->>'excerpt', n.s) > 0))
"""
# SQLite: json_each over the letter, keys read from the letter by each element's path (a
# non-object element gives NULL, not an error), the values as JSON arrays.
_SQLITE = """
SELECT d.id FROM ingest_deadletter d, json_each(
    CASE json_type(d.messages) WHEN 'array' THEN d.messages ELSE '[]' END) AS m
WHERE CAST(json_extract(d.messages, m.fullkey || '.workspace_id') AS TEXT) = %s AND (
    json_extract(d.messages, m.fullkey || '.user_id') IN (SELECT value FROM json_each(%s))
    OR json_extract(d.messages, m.fullkey || '.anonymous_id') IN (SELECT value FROM json_each(%s))
    OR json_extract(d.messages, m.fullkey || '.previous_id') IN (SELECT value FROM json_each(%s))
    OR EXISTS (SELECT 1 FROM json_each(%s) AS n
               WHERE instr(json_extract(d.messages, m.fullkey || '.excerpt'), n.value) > 0))
"""


def dead_letters_forget(
    sender: object, *, workspace_id: int, values: list[str], **kwargs: object
) -> int:
    """Delete the workspace's dead letters that hold one of the erased id values; the count.
    people.signals.person_ids_erasing's receiver (ingest.apps connects it)."""
    needles = excerpt_needles(values)
    if connection.vendor == "postgresql":
        sql, params = _POSTGRESQL, [str(workspace_id), values, values, values, needles]
    else:
        sql, params = _SQLITE, [str(workspace_id), *[json.dumps(values)] * 3, json.dumps(needles)]
    letters = RawSQL(sql, params)  # noqa: S611 - constant text, the values are parameters
    return DeadLetter.objects.filter(pk__in=letters).delete()[0]
