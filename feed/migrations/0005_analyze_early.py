"""Let autovacuum ANALYZE the events table early (PostgreSQL only): see people 0005, which set
this for feed_event before the feed owned it; setting the same values again is harmless."""

from django.db import migrations

TABLE = "feed_event"


def analyze_early(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE {TABLE} SET (autovacuum_analyze_scale_factor = 0.01,"
        " autovacuum_analyze_threshold = 1000)"
    )


def analyze_default(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE {TABLE} RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)"
    )


class Migration(migrations.Migration):
    dependencies = [("feed", "0004_event_workspace_id")]

    operations = [migrations.RunPython(analyze_early, analyze_default)]
