"""A word index on people's search text (people/search_text.py) for the People search.

As migration 0008's name index: PostgreSQL's built-in 'simple' full-text configuration (no
extension needed), prefix lexemes, GIN, built CONCURRENTLY after the backfill (0014) so that it
is built once over the filled rows and a live database's people table is not locked. The
expression must stay the one people/selectors.py's SEARCH_WORDS_SQL writes. SQLite needs none.
"""

from django.db import migrations

INDEX = (
    "person_search_words",
    "people_person USING gin (to_tsvector('simple'::regconfig, search_text)) "
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

    dependencies = [("people", "0014_person_search_text_backfill")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
