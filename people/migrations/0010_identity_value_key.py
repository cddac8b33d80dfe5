"""The identities' unique constraint led by the id: (value, workspace) replaces (workspace, value),
the same rows unique. The worker's reads of a batch's ids then descend once per id whatever the
statistics say of a young workspace (people/locking.py, people/identity.py).

On PostgreSQL the new index is built CONCURRENTLY, the identities stay readable and writable; then
it becomes the constraint and the old one is dropped, each an instant under the table's lock (see
core/migration_ops.py). Hence a non-atomic migration.
"""

from django.db import migrations, models

from core.migration_ops import UniqueConstraintReplace


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("people", "0009_audience_names")]

    operations = [
        UniqueConstraintReplace(
            "identity",
            old=models.UniqueConstraint(fields=["workspace", "value"], name="identity_unique_value"),
            new=models.UniqueConstraint(fields=["value", "workspace"], name="identity_value_key"),
        )
    ]
