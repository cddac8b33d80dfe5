"""Adding to counters with one statement: INSERT .. ON CONFLICT .. DO UPDATE SET n = n + excluded.n.

PostgreSQL and SQLite (3.24+) both have this upsert. A batch's counts are summed in Python first,
so a statement names each key once (PostgreSQL refuses to update one row twice in a statement),
and the keys are sent sorted: two workers adding to the same counters lock them in the same order,
so they wait for each other instead of deadlocking. A negative count subtracts (forgetting
events that are deleted).
"""

from datetime import UTC, datetime

from django.db import connection, models

from core.bulk import recordset


def hour_of(moment: datetime) -> datetime:
    """The UTC hour a moment falls in: the rollups' time key (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def counts_add(
    model: type[models.Model],
    *,
    keys: tuple[str, ...],
    counts: tuple[str, ...],
    rows: dict[tuple, tuple[int, ...]],
    conflict: tuple[str, ...] | None = None,
) -> None:
    """Add `rows` ({key values: count values}) to `model`'s counters, one statement. `conflict`:
    the keys of the unique constraint, when `keys` holds more (a workspace id carried along)."""
    rows = {key: values for key, values in rows.items() if any(values)}
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in (*keys, *counts)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    target = ", ".join(quote(meta.get_field(name).column) for name in (conflict or keys))
    updates = ", ".join(
        f"{quote(f.column)} = {table}.{quote(f.column)} + excluded.{quote(f.column)}"
        for f in fields[len(keys) :]
    )
    ordered = [(*key, *rows[key]) for key in sorted(rows)]
    if connection.vendor == "postgresql":
        # All rows as one JSON parameter: a VALUES list of one parameter per value cost more to
        # quote and parse than the upsert itself (a batch touches hundreds of identity hours).
        source, params = recordset(fields, ordered)
        values = f"SELECT {columns} FROM {source}"  # noqa: S608 - our own names
    else:
        key_fields = fields[: len(keys)]
        params = []
        for row in ordered:
            params.extend(
                field.get_db_prep_save(value, connection)
                for field, value in zip(key_fields, row, strict=False)
            )
            params.extend(row[len(keys) :])
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        values = f"VALUES {', '.join([one] * len(ordered))}"
    sql = (
        f"INSERT INTO {table} ({columns}) {values} "  # our own table and columns
        f"ON CONFLICT ({target}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
