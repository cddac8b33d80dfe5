"""Bulk writes for the worker: COPY on PostgreSQL, the ORM's bulk statements elsewhere.

Measured on this machine: one INSERT per row reaches about 1k rows/s, Django's bulk_create and
bulk_update a few thousand (the statement itself is large and slow to build and plan), COPY well
over 20k. So on PostgreSQL new rows are COPYed (with ids drawn from the table's sequence first,
since COPY returns nothing) and updates COPY the new values into a temporary table and apply them
with one UPDATE .. FROM. COPY has no ON CONFLICT: callers insert only rows they know are new,
under the workspace lock (ingest.services); a conflict anyway raises IntegrityError and the batch
is retried.
"""

import json
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

# Below this many rows one plain statement beats COPY's extra round trips (sequence, temp table).
COPY_FROM = 50


def _converters(fields: list[models.Field]) -> list[tuple[str, Callable[[Any], Any]]]:
    """How each field's Python value becomes a COPY value, resolved once per statement.

    The ORM's per-value adapters cost more than the COPY itself; our values are already plain
    Python (aware datetimes, str, bool, int), so only JSON needs encoding.
    """
    plain = (
        models.CharField,
        models.BooleanField,
        models.IntegerField,
        models.AutoField,
        models.BigAutoField,
        models.ForeignKey,
        models.DateTimeField,
    )
    converters: list[tuple[str, Callable[[Any], Any]]] = []
    db = connections[DEFAULT_DB_ALIAS]
    for field in fields:
        if isinstance(field, models.JSONField):
            encoder = field.encoder

            def to_json(value: Any, encoder: type | None = encoder) -> str | None:
                if value is None:
                    return None
                if encoder is None:
                    try:
                        # orjson is several times faster; it refuses what it cannot encode
                        # exactly (integers past 64 bits), which the stdlib then takes.
                        return orjson.dumps(value).decode()
                    except TypeError:
                        pass
                return json.dumps(value, cls=encoder)

            converters.append((field.attname, to_json))
        elif isinstance(field, plain):
            converters.append((field.attname, _same))
        else:
            converters.append((field.attname, partial(field.get_db_prep_save, connection=db)))
    return converters


def _same(value: Any) -> Any:
    return value


def _rows(objs: Sequence[Any], fields: list[models.Field]) -> Iterator[list[Any]]:
    converters = _converters(fields)
    for obj in objs:
        yield [convert(getattr(obj, attname)) for attname, convert in converters]


def _instances(model: type[models.Model], objs: Sequence[Any]) -> list[models.Model]:
    """Model instances for the ORM's bulk statements, from plain rows where needed."""
    attnames = [f.attname for f in model._meta.concrete_fields]
    return [
        obj if isinstance(obj, model) else model(**{name: getattr(obj, name) for name in attnames})
        for obj in objs
    ]


def _log(sql: str) -> None:
    # COPY goes around Django's cursor wrapper; log it so query counts (tests, debug) see it.
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": "0.000"})


def _columns(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def _insert_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def bulk_insert(model: type[models.Model], objs: Sequence[Any], *, with_ids: bool) -> None:
    """Insert new rows; with_ids sets each object's pk (needed when other rows point at them).

    `objs` are model instances or plain rows with the same attnames (people/rows.py).
    """
    if not objs:
        return
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        instances = _instances(model, objs)
        model.objects.bulk_create(instances)
        for obj, instance in zip(objs, instances, strict=True):
            obj.pk = instance.pk
        return
    table = model._meta.db_table
    fields = _insert_fields(model)
    for obj in objs:
        for field in fields:
            # auto_now / auto_now_add, as save() and bulk_create() would.
            field.pre_save(obj, add=True)
    with connection.cursor() as cursor:
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(objs)],
            )
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
            fields = [model._meta.pk, *fields]
        names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN"
        ) as copy:
            for row in _rows(objs, fields):
                copy.write_row(row)
        _log(f"COPY {table} ({names})")


def bulk_insert_values(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows given as {attname: value} dicts (all with the same keys), no ids back.

    For append-only rows (events) this skips building a model instance per row, which costs
    as much as the COPY itself.
    """
    if not rows:
        return
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        model.objects.bulk_create([model(**row) for row in rows])
        return
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in rows[0]]
    converters = [convert for _, convert in _converters(fields)]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        convert(value)
                        for convert, value in zip(converters, row.values(), strict=True)
                    ]
                )
        _log(f"COPY {table} ({names})")


def bulk_update(model: type[models.Model], objs: Sequence[Any], names: list[str]) -> None:
    """Write the given fields of existing rows (model instances or plain rows, as bulk_insert)
    in a fixed number of statements."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(_instances(model, objs), names, batch_size=500)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    fields = [model._meta.pk, *_columns(model, names)]
    columns = [connection.ops.quote_name(f.column) for f in fields]
    scratch = connection.ops.quote_name(f"bulk_{model._meta.db_table}")
    for obj in objs:
        for field in fields:
            field.pre_save(obj, add=False)
    if len(objs) < COPY_FROM:
        _update_from_values(table, fields, columns, objs)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE {scratch} ON COMMIT DROP AS"  # noqa: S608 (names, not values)
            f" SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {scratch} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in _rows(objs, fields):
                copy.write_row(row)
        _log(f"COPY {scratch}")
        assignments = ", ".join(f"{c} = s.{c}" for c in columns[1:])
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM {scratch} AS s"  # noqa: S608
            f" WHERE t.{columns[0]} = s.{columns[0]}"
        )
        cursor.execute(f"DROP TABLE {scratch}")


def _update_from_values(
    table: str, fields: list[models.Field], columns: list[str], objs: Sequence[Any]
) -> None:
    """One UPDATE .. FROM (VALUES ..) for a few rows (a merge re-pointing a person's ids).

    Django's bulk_update builds a CASE per column and row, which costs milliseconds of Python
    per row; the VALUES list is cast column by column instead.
    """
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    names = ", ".join(f"c{i}" for i in range(len(fields)))
    assignments = ", ".join(
        f"{column} = v.c{i}::{field.cast_db_type(connection)}"
        for i, (field, column) in enumerate(zip(fields, columns, strict=True))
        if i
    )
    params = [value for values in _rows(objs, fields) for value in values]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments}"  # noqa: S608 (names, not values)
            f" FROM (VALUES {', '.join([row] * len(objs))}) AS v({names})"
            f" WHERE t.{columns[0]} = v.c0::bigint",
            params,
        )
