"""Let autovacuum ANALYZE the growing worker tables early (PostgreSQL only).

The worker looks ids up by (workspace, value) and messages by (workspace, messageId). While a
workspace is new to the planner's statistics (a fresh install's first import, an Engage first
sync), PostgreSQL estimates it at one row and scans the whole workspace instead of probing the
unique index; fresh statistics fix the plan. The default (10% of the table changed) comes far
too late for tables that double in minutes.

The feed's table is feed's own migration (feed 0005): this one used to set it too, which made
people depend on feed. Installs that ran the old version keep the setting; feed 0005 sets the
same values again (idempotent), and unapplies before this one (feed 0004 depends on it).
"""

from django.db import migrations

TABLES = ["people_identity", "people_person"]


def analyze_early(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} SET (autovacuum_analyze_scale_factor = 0.01,"
            " autovacuum_analyze_threshold = 1000)"
        )


def analyze_default(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} RESET (autovacuum_analyze_scale_factor,"
            " autovacuum_analyze_threshold)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0004_drop_redundant_fk_indexes"),
    ]

    operations = [migrations.RunPython(analyze_early, analyze_default)]
