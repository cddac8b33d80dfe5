"""Fill `Identity.linked_by_type` (people 0006) for ids linked before it existed, from the event
of the linking message. Here and not in people: the events are the feed's, and people's
migrations depend on nothing of the feed.

One UPDATE ... FROM on the (workspace, message_id) unique index; an id whose linking message has
no event (it never should) keeps an empty type, as the card showed before."""

from django.db import migrations

BACKFILL = """
    UPDATE people_identity AS i SET linked_by_type = e.type
    FROM feed_event AS e
    WHERE i.linked_by_message_id <> '' AND i.linked_by_type = ''
      AND e.workspace_id = i.workspace_id AND e.message_id = i.linked_by_message_id
"""

BACKFILL_SQLITE = """
    UPDATE people_identity SET linked_by_type = COALESCE((
        SELECT e.type FROM feed_event AS e
        WHERE e.workspace_id = people_identity.workspace_id
          AND e.message_id = people_identity.linked_by_message_id
    ), '')
    WHERE linked_by_message_id <> '' AND linked_by_type = ''
"""


def backfill(apps, schema_editor) -> None:
    sql = BACKFILL if schema_editor.connection.vendor == "postgresql" else BACKFILL_SQLITE
    schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("feed", "0005_analyze_early"),
        ("people", "0006_identity_linked_by_type"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
