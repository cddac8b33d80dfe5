"""A bulk insert's foreign keys checked once per referenced row, not once per inserted row.

`references_lock` locks the rows a batch's events point at FOR KEY SHARE in one sorted statement
(failing with IntegrityError when one is missing), and, when the role may and no other trigger or
rule would be skipped, lets the COPY that follows run without the per-row foreign-key triggers
(`session_replication_role = replica` in this transaction, put back by `triggers_restored`).
These locks come after the workspace, key and row locks (core/locks.py), just before the COPY.

Design: docs/design/concurrency.md
"""

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, models

from core.lookups import int_array

# pg_trigger.tgtype bit: the trigger fires on INSERT.
TRIGGER_ON_INSERT = 4


def references_lock(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> bool:
    """Lock FOR KEY SHARE every row that `rows` (dicts by attname, as bulk_insert_values takes
    them) point at through `model`'s foreign keys; raise IntegrityError if one does not exist.

    Returns whether it opened the window (see the module rules): then this transaction runs
    without triggers and rules until `triggers_restored`, and only the insert of these rows may
    run in between. One statement. PostgreSQL only."""
    keys = _foreign_keys(model, rows)
    if keys is None:
        return False
    quote = connection.ops.quote_name
    ctes, counts, params, sent = [], [], [], []
    for n, (field, values) in enumerate(keys):
        if not values:
            continue
        target = field.target_field
        table = quote(field.related_model._meta.db_table)
        column = quote(target.column)
        ctes.append(
            f"k{n} AS (SELECT {column} FROM {table} WHERE {column} ="  # noqa: S608 (our names)
            f" ANY(%s::{target.db_type(connection)}[]) ORDER BY {column} FOR KEY SHARE)"
        )
        counts.append(f"(SELECT count(*) FROM k{n})")  # noqa: S608 (our names)
        params.append(int_array(values))
        sent.append((field, len(values)))
    found_all = zip(counts, (wanted for _, wanted in sent), strict=True)
    complete = " AND ".join(f"{count} = {wanted}" for count, wanted in found_all)
    privilege = (
        "has_parameter_privilege('session_replication_role', 'SET')"
        if connection.pg_version >= 150000
        else "current_setting('is_superuser') = 'on'"
    )
    # Every trigger that fires on INSERT must be the check of one of these foreign keys.
    table = model._meta.db_table
    table_oid, constraints = _constraints(
        connection.settings_dict["NAME"],
        table,
        tuple((f.column, f.related_model._meta.db_table, f.target_field.column) for f, _ in keys),
    )
    params += [table_oid, table_oid, TRIGGER_ON_INSERT, constraints]
    allowed = f"""
        current_setting('session_replication_role') = 'origin' AND {privilege}
        AND NOT EXISTS (SELECT FROM pg_rewrite WHERE ev_class = %s::oid)
        AND NOT EXISTS (
            SELECT FROM pg_trigger
            WHERE tgrelid = %s::oid AND tgenabled <> 'D' AND tgtype & %s <> 0
            AND NOT (
                tgfoid = 'pg_catalog."RI_FKey_check_ins"'::regproc
                AND tgconstraint = ANY(%s::oid[])
            )
        )"""  # noqa: S608 (a constant)
    # The window opens in this same statement (one round trip less), and only when every
    # referenced row was found: a failed batch never leaves it open, even if its caller goes on.
    opened = (
        f"CASE WHEN {complete or 'true'} AND {allowed}"
        " THEN set_config('session_replication_role', 'replica', true) IS NOT NULL"
        " ELSE false END"
    )
    with_ = f"WITH {', '.join(ctes)} " if ctes else ""
    sql = f"{with_}SELECT {', '.join([*counts, opened])}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        *found, fast = cursor.fetchone()
    for (field, wanted), got in zip(sent, found, strict=True):
        if got != wanted:
            raise IntegrityError(
                f"{table}.{field.column}: {wanted - got} of the {wanted} rows it references in"
                f" {field.related_model._meta.db_table} do not exist"
            )
    return bool(fast)


@cache
def _constraints(
    database: str, table: str, keys: tuple[tuple[str, str, str], ...]
) -> tuple[int, list[int]]:
    """The table's oid and those of its foreign-key constraints on these (column, referenced
    table, referenced column), read once per process: a join of the catalogs costs more to plan
    than the lock itself. A constraint dropped and made again since has a new oid, and its check
    trigger then no longer passes the lock statement's test: the checked path runs until the
    worker restarts, never the other way round. `database` only keys the cache."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::regclass::oid, coalesce(array_agg(c.oid), '{}') FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = c.confkey[1]"
            " JOIN unnest(%s::text[], %s::regclass[], %s::text[]) AS k(col, tab, ref)"
            "  ON a.attname = k.col AND c.confrelid = k.tab AND r.attname = k.ref"
            " WHERE c.conrelid = %s::regclass AND c.contype = 'f' AND cardinality(c.conkey) = 1",
            [
                table,
                [column for column, _, _ in keys],
                "{" + ",".join(referenced for _, referenced, _ in keys) + "}",
                [column for _, _, column in keys],
                table,
            ],
        )
        table_oid, constraints = cursor.fetchone()
    return table_oid, list(constraints)


def triggers_restored() -> None:
    """Close the window `references_lock` opened: this transaction's triggers and rules fire
    again. Call it right after the one statement (the COPY) the window is for.

    Not needed when that statement raises: its error aborts the transaction (or the savepoint),
    whose rollback restores the setting, and no statement can run before that."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = origin")


def _foreign_keys(
    model: type[models.Model], rows: Sequence[dict[str, Any]]
) -> list[tuple[models.ForeignKey, list[int]]] | None:
    """Each constrained foreign key of `model` with the sorted distinct values `rows` give it,
    identities first and the workspace last (the collector's deletion order: see the module
    rules); None when a constrained key is not among the inserted columns (its default would go
    unchecked) or holds something else than an integer."""
    columns = rows[0].keys()
    keys = []
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or not field.db_constraint:
            continue
        if field.attname not in columns:
            return None
        values = {row[field.attname] for row in rows} - {None}
        if not all(type(v) is int for v in values):
            return None
        keys.append((field, sorted(values)))
    # Rows that point at others first: identities and sources point at the workspace.
    keys.sort(key=lambda key: -_height(key[0].related_model))
    return keys


@cache
def _height(model: type[models.Model], below: frozenset = frozenset()) -> int:
    """The longest chain of constrained foreign keys from `model`'s table (a workspace 0 or
    little, a source more, an identity, which points at a person, more still)."""
    below = below | {model}
    return max(
        (
            1 + _height(f.related_model, below)
            for f in model._meta.concrete_fields
            if isinstance(f, models.ForeignKey) and f.db_constraint and f.related_model not in below
        ),
        default=0,
    )
