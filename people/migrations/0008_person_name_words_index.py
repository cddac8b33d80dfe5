"""A word index on people's names for the People page's search ("lovelace" finds Ada Lovelace).

Full-text search with PostgreSQL's built-in 'simple' configuration: every word of the name becomes
a lexeme, lower-cased and unstemmed, and the search asks for lexemes by prefix (`lovelace:*`). A
GIN index serves that. Both are part of PostgreSQL itself, so unlike a pg_trgm index this needs no
CREATE EXTENSION: a database role that may not create extensions (most managed databases' app
role) migrates the same way. The expression must stay the one people/selectors.py's
NAME_WORDS_SQL writes, or PostgreSQL will not use the index. Built CONCURRENTLY so that migrating
a live database does not lock the people table. SQLite (the embedded default) needs none of this.
"""

from django.db import migrations

INDEX = (
    "person_name_words",
    "people_person USING gin (to_tsvector('simple'::regconfig, COALESCE(name, ''))) "
    "WHERE merged_into_id IS NULL",
)


def create_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    name, definition = INDEX
    schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX[0]}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("people", "0007_suppression")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
