"""Bulk writes for the worker: COPY on PostgreSQL, the ORM's bulk statements elsewhere.

New rows are COPYed (ids drawn from the sequence first); updates and counter upserts send their
rows as one JSON parameter, one round trip each, and never join the table to them. COPY has no
ON CONFLICT: callers insert only rows they know are new, under the batch's locks
(ingest/store.py); a conflict anyway raises IntegrityError and the batch is retried.

Design: docs/design/bulk.md
"""

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

from core.json_exact import json_loads_exact
from core.keyshare import references_lock, triggers_restored

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


def _stamped(fields: Sequence[models.Field], *, add: bool) -> list[models.Field]:
    """The fields whose pre_save sets a value (auto_now, and auto_now_add on insert); for the
    others it only reads the attribute, a call per field and row for nothing."""
    return [
        f
        for f in fields
        if getattr(f, "auto_now", False) or (add and getattr(f, "auto_now_add", False))
    ]


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
    stamped = _stamped(fields, add=True)
    for obj in objs:
        for field in stamped:
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


def bulk_insert_values(
    model: type[models.Model], rows: list[dict[str, Any]], *, keys_once: bool = False
) -> None:
    """Insert rows given as {attname: value} dicts (all with the same keys), no ids back.

    For append-only rows (events) this skips building a model instance per row, which costs
    as much as the COPY itself. `keys_once`: when COPYing inside a transaction, check the
    foreign keys once per referenced row instead of once per row (core/keyshare.py: the
    referenced rows are locked FOR KEY SHARE until COMMIT, IntegrityError if one is missing, and
    the COPY alone runs without the per-row triggers where the role may skip them).
    """
    if not rows:
        return
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        model.objects.bulk_create([model(**row) for row in rows])
        return
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in rows[0]]
    converters = [convert for _, convert in _converters(fields)]
    # Only the JSON columns need converting; the other values go to COPY as they are.
    encoded = [(i, convert) for i, convert in enumerate(converters) if convert is not _same]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # In a transaction only: the locks, and the window, last until its end.
    unchecked = keys_once and connection.in_atomic_block and references_lock(model, rows)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = list(row.values())
                for i, convert in encoded:
                    values[i] = convert(values[i])
                copy.write_row(values)
        _log(f"COPY {table} ({names})")
    if unchecked:
        triggers_restored()


def bulk_update(
    model: type[models.Model],
    objs: Sequence[Any],
    names: list[str],
    *,
    narrow: Sequence[Any] = (),
    narrow_names: Sequence[str] = (),
) -> None:
    """Write the given fields of existing rows (model instances or plain rows, as bulk_insert)
    in one statement, whatever their number.

    `narrow`: more rows of which only `narrow_names` (some of `names`) are written, in the same
    statement: each of the other columns is written only where the row's JSON carries it (`?`),
    so a narrow row keeps them as they are (its object's values for them are never read).

    The rows travel as one JSON object keyed by id (one orjson call), and each row of the table
    looks its new values up there; the rows are found by `id = ANY(ids)`. Planner-proof: there is
    no join to plan, and the only scan of the table is by those ids (the primary key) or, where
    the planner finds it cheaper by the table's real page count (not its statistics), one pass
    over a small table. The earlier form, a join to a JSON recordset, became a scan of the whole
    table per statement once statistics called the table empty (rows deleted, ANALYZE, then
    many inserts, autovacuum not run since): tests/test_bulk.py reproduces that state.
    """
    if not objs:
        if not narrow:
            return
        # Only narrow rows: a plain statement of their fields.
        objs, names, narrow, narrow_names = narrow, list(narrow_names), (), ()
    if not set(narrow_names) <= set(names):
        raise ValueError(f"narrow_names {narrow_names} are not all in {names}")
    fields = [model._meta.pk, *_columns(model, names)]
    narrow_fields = [model._meta.pk, *_columns(model, narrow_names)]
    for rows, written in ((objs, fields), (narrow, narrow_fields)):
        stamped = _stamped(written, add=False)
        for obj in rows:
            for field in stamped:
                # auto_now, as save() would; Django's bulk_update leaves it as it is (None on
                # a plain row: a NOT NULL violation).
                field.pre_save(obj, add=False)
    if connection.vendor != "postgresql":
        model.objects.bulk_update(_instances(model, objs), names, batch_size=500)
        if narrow:
            model.objects.bulk_update(_instances(model, narrow), narrow_names, batch_size=500)
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = fields[0]
    by_id: dict[str, dict[str, Any]] = {}
    for rows, written in ((objs, fields), (narrow, narrow_fields)):
        for obj in rows:
            by_id[str(int(getattr(obj, pk.attname)))] = {
                f.column: getattr(obj, f.attname) for f in written[1:]
            }
    if len(by_id) < len(objs) + len(narrow) and narrow:
        raise ValueError("a row is both in objs and in narrow, or twice in narrow")
    key = f"s.j -> t.{quote(pk.column)}::text"
    every_row = {f.column for f in (narrow_fields if narrow else fields)}
    assignments = ", ".join(
        f"{quote(f.column)} = {_from_json(f, key)}"
        if f.column in every_row
        # Written where the row carries it; a narrow row keeps its value.
        else f"{quote(f.column)} = CASE WHEN {key} ? {_literal(f.column)}"
        f" THEN {_from_json(f, key)} ELSE t.{quote(f.column)} END"
        for f in fields[1:]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM (SELECT %s::jsonb AS j) AS s"  # noqa: S608 (names, not values)
            f" WHERE t.{quote(pk.column)} = ANY(%s::{pk.db_type(connection)}[])",
            # The ids as array text: psycopg's list dumper costs more per id than the JSON.
            [_json_text(by_id), "{" + ",".join(by_id) + "}"],
        )


def _from_json(field: models.Field, key: str) -> str:
    """The new value of `field` for row t, looked up by t's id in the statement's JSON object.

    No join, so no join method to choose: a join of the rows to an unanalyzed (or emptied and
    regrown) table was planned as a scan of the whole table per statement (bulk_update's rule).
    """
    value = f"{key} -> {_literal(field.column)}"
    if isinstance(field, models.JSONField):
        if field.encoder is not None:
            raise ValueError(f"{field}: a JSON column with its own encoder cannot nest as is")
        # JSON null is SQL NULL here, as Django stores None (json_to_recordset did the same).
        return f"NULLIF({value}, 'null'::jsonb)"
    return f"({key} ->> {_literal(field.column)})::{field.db_type(connection)}"


def _literal(name: str) -> str:
    # Our own column names: letters, digits and underscores only.
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain column name: {name!r}")
    return f"'{name}'"


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, cls=_Encoder)


class _Encoder(json.JSONEncoder):
    """The stdlib's fallback for what orjson refuses (integers past 64 bits): datetimes in full
    ISO form, microseconds kept (DjangoJSONEncoder would cut them to milliseconds)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def recordset(fields: Sequence[models.Field], rows: Sequence[Sequence[Any]]) -> tuple[str, list]:
    """Many rows as one parameter: `json_to_recordset(%s::json) AS s(column type, ...)`, the rows
    encoded by one orjson call (JSON columns nest as they are, datetimes in ISO form).

    One statement with one parameter, where COPY needs a temporary table and three more round
    trips, and a VALUES list one parameter per value that the client has to quote. Each row's
    values follow `fields`; the rows keep their order (counters rely on it to lock in order).
    """
    names = [f.column for f in fields]
    columns = []
    for field in fields:
        db_type = field.db_type(connection)
        if isinstance(field, models.JSONField) and field.encoder is not None:
            raise ValueError(f"{field}: a JSON column with its own encoder cannot nest as is")
        columns.append(f"{connection.ops.quote_name(field.column)} {db_type}")
    objects = [dict(zip(names, row, strict=True)) for row in rows]
    try:
        text = orjson.dumps(objects).decode()
    except TypeError:
        text = json.dumps(objects, cls=_Encoder)
    return f"json_to_recordset(%s::json) AS s({', '.join(columns)})", [text]


def rows_read(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Fetch many rows with psycopg's C loaders: timestamps as aware UTC datetimes and jsonb
    decoded by orjson (integers past 64 bits by the standard parser: core/json_exact.py), on
    this cursor only.

    Django's own loaders (a Python subclass of psycopg's timestamptz loader, jsonb as text for
    `json.loads`) cost more than the query when a batch reads thousands of identities.
    PostgreSQL only (the session's time zone is UTC, as Django sets it).
    """
    from psycopg.types.datetime import TimestamptzLoader
    from psycopg.types.json import set_json_loads

    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.adapters.register_loader("timestamptz", TimestamptzLoader)
        set_json_loads(json_loads_exact, raw)
        cursor.execute(sql, params)
        return cursor.fetchall()
