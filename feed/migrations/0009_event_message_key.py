"""The events' unique constraint led by the messageId: (message_id, workspace) replaces
(workspace, message_id), the same rows unique. The worker's dedupe read then descends once per
messageId whatever the statistics say of a young workspace (feed/services.py stored_message_ids).

On PostgreSQL the new index is built CONCURRENTLY, the events stay readable and writable; then it
becomes the constraint and the old one is dropped, each an instant under the table's lock (see
core/migration_ops.py). Hence a non-atomic migration.
"""

from django.db import migrations, models

from core.migration_ops import UniqueConstraintReplace


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("feed", "0008_activity_rollups")]

    operations = [
        UniqueConstraintReplace(
            "event",
            old=models.UniqueConstraint(
                fields=["workspace", "message_id"], name="event_unique_message"
            ),
            new=models.UniqueConstraint(fields=["message_id", "workspace"], name="event_message_key"),
        )
    ]
