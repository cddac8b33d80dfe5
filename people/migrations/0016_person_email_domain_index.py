"""An index on people's email domain for segments' `email_domain` condition.

The expression is segments/query.py's EMAIL_DOMAIN_SQL with "email" for the column (the part
after the last "@", lower case, "" without one): keep them the same, or the planner does not use
the index (tests/segments/test_query.py checks). It leads with the workspace and ends with the
People list's order (last_seen DESC NULLS FIRST, id DESC), so one domain's first page is read
in order from it; partial on current people as person_recent is. Built CONCURRENTLY, so a live
database's people table is not locked, then ANALYZEd: the planner keeps statistics of an
expression index's values, which the segment counts' estimates read. SQLite needs none.
"""

from django.db import migrations

INDEX = (
    "person_email_domain",
    "people_person (workspace_id, (COALESCE(lower(substring(email from '@([^@]*)$')), '')), "
    "last_seen DESC NULLS FIRST, id DESC) WHERE merged_into_id IS NULL",
)


def create_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    name, definition = INDEX
    schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
    schema_editor.execute("ANALYZE people_person")


def drop_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX[0]}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("people", "0015_person_search_words_index")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
