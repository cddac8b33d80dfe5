"""Migration operations for the big tables.

`UniqueConstraintReplace(model_name, old, new)` replaces a model's unique constraint by another
that keeps the same rows unique (its columns in another order) without locking the table while
the new index is built:

- PostgreSQL: `CREATE UNIQUE INDEX CONCURRENTLY` (reads and writes go on; it waits for the
  transactions running when it starts and reads the table twice), then `ADD CONSTRAINT .. UNIQUE
  USING INDEX` and `DROP CONSTRAINT` of the old one: catalog changes, each holding the table's
  ACCESS EXCLUSIVE lock for an instant, but waiting for it behind the statements already running
  on the table (and holding up the ones that come after). The migration holding the operation
  must be non-atomic (`atomic = False`): CONCURRENTLY cannot run in a transaction. An interrupted
  build leaves an invalid index of the new name; migrating again drops it and builds anew.
- Elsewhere (SQLite, the embedded default): Django's own removal and addition, in one
  transaction (SQLite copies the table for each).
"""

from typing import Any

from django.db import transaction
from django.db.migrations.operations.base import Operation
from django.db.models import UniqueConstraint


class UniqueConstraintReplace(Operation):
    reversible = True

    def __init__(self, model_name: str, old: UniqueConstraint, new: UniqueConstraint) -> None:
        self.model_name = model_name
        self.old = old
        self.new = new

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"model_name": self.model_name, "old": self.old, "new": self.new}
        return (self.__class__.__name__, [], kwargs)

    def state_forwards(self, app_label: str, state: Any) -> None:
        state.remove_constraint(app_label, self.model_name.lower(), self.old.name)
        state.add_constraint(app_label, self.model_name.lower(), self.new)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._replace(app_label, schema_editor, to_state, drop=self.old, build=self.new)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._replace(app_label, schema_editor, to_state, drop=self.new, build=self.old)

    def describe(self) -> str:
        return f"Replace constraint {self.old.name} by {self.new.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{self.new.name.lower()}"

    def _replace(
        self,
        app_label: str,
        schema_editor: Any,
        to_state: Any,
        *,
        drop: UniqueConstraint,
        build: UniqueConstraint,
    ) -> None:
        # The model as it is after this step: it has `build` and not `drop`.
        model = to_state.apps.get_model(app_label, self.model_name)
        connection = schema_editor.connection
        if not self.allow_migrate_model(connection.alias, model):
            return
        if connection.vendor != "postgresql":
            with transaction.atomic(using=connection.alias):
                schema_editor.remove_constraint(model, drop)
                schema_editor.add_constraint(model, build)
            return
        quote = schema_editor.quote_name
        table = model._meta.db_table
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in build.fields)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
                [build.name, table],
            )
            built = cursor.fetchone() is not None
        if not built:
            name = quote(build.name)
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            schema_editor.execute(
                f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {quote(table)} ({columns})"
            )
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
            )
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(drop.name)}"
        )
