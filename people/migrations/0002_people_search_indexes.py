"""Indexes for the People page's search and filters on PostgreSQL.

Search is a prefix LIKE on lower(email), lower(name) and lower(identity value). The database
collation is not C, so a plain btree cannot serve LIKE 'x%': text_pattern_ops can. The audience
filter uses `audiences @> '{"name": true}'`, served by a GIN index. Built CONCURRENTLY so that
migrating a live database does not lock the people table. SQLite (the embedded default) needs
none of this.
"""

from django.db import migrations

INDEXES = [
    (
        "person_email_prefix",
        "people_person (workspace_id, lower(email) text_pattern_ops) "
        "WHERE merged_into_id IS NULL",
    ),
    (
        "person_name_prefix",
        "people_person (workspace_id, lower(name) text_pattern_ops) "
        "WHERE merged_into_id IS NULL",
    ),
    ("identity_value_prefix", "people_identity (workspace_id, lower(value) text_pattern_ops)"),
    ("person_audiences", "people_person USING gin (audiences jsonb_path_ops)"),
    (
        "person_missing_email",
        "people_person (workspace_id, last_seen DESC, id DESC) "
        "WHERE merged_into_id IS NULL AND (email IS NULL OR email = '')",
    ),
]


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
