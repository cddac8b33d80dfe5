"""A bulk insert's foreign keys checked once per referenced row, not once per inserted row.

PostgreSQL checks a foreign key with a trigger per inserted row: at COMMIT (Django makes the
constraints DEFERRABLE INITIALLY DEFERRED) each event row runs `SELECT 1 FROM <referenced> WHERE
id = $1 FOR KEY SHARE` for its workspace, its source and its identity: 1,500 checks for a
500-message batch that references a few hundred distinct rows. Measured (`bench worker
--by-statement`, bench/results/2026-12-01-fkeys.txt): the COMMIT's checks went from 0.42 to 0.25
backend CPU s per 20,000 messages, for 0.08 s of lock statement; the backend's CPU, 0.9x.

`references_lock` does what those triggers do, once per distinct referenced row: one statement
locks the rows FOR KEY SHARE (sorted, per table) and the batch fails with IntegrityError when one
is missing, before anything is inserted. From then until COMMIT nobody can delete those rows or
change their keys (both wait for our lock), and what is missing now stays missing. The COPY that
follows may then run without the triggers: the same statement sets `session_replication_role =
replica` (in this transaction only), and `triggers_restored` sets it back right after the COPY.
Everything else keeps the checks: the constraints stay in the schema, so every other writer is
checked, and a deleter's own check (ON DELETE NO ACTION, at its COMMIT) still sees our committed
rows.

When is the fast path taken? The lock statement says so, per batch (so SET ROLE, GRANT and REVOKE
apply to the next batch), and only when all of these hold:
- the role may set session_replication_role: a superuser, or on PostgreSQL 15+ a role granted
  `GRANT SET ON PARAMETER session_replication_role TO <role>` (docs/operations.md);
- the session is in the ordinary (origin) role, so the window has something to restore;
- the table has no rule, and every trigger that fires on INSERT is the check trigger of a
  foreign key this statement locked (a trigger or rule added by hand, or a deferrable unique
  constraint's recheck, would be skipped silently in the window: then the checked path runs).
  Which constraints those are is read from the catalogs once per process (`_constraints`).
Otherwise the COPY runs with its triggers, as before; the locks taken stay (they only make the
triggers' own locks cheap). FOR KEY SHARE needs the UPDATE privilege on the referenced tables,
which the tables' owner (the role that migrates) has.

Lock order (core/locks.py): these key-share locks come after the workspace lock, the key
locks and the people's and groups' row locks (people/locking.py), after the batch has written
its people and identities, just before the events' COPY; then the counters. Within the
statement: identities, then sources, then the workspace (rows that point at others first, the
order in which a workspace's deletion removes them), each table in ascending id order. FOR KEY
SHARE conflicts only with DELETE, FOR UPDATE and updates of a unique column, never with the FOR
NO KEY UPDATE locks and plain updates that batches take on people, identities and sources, so
two batches never wait for each other here. A person deletion holds the workspace lock exclusive
and never overlaps a batch. An admin deleting a source or a workspace (no workspace lock) waits
for a batch that holds the row, or the batch finds it gone, fails, and is retried (a deleted
identity is then created again; a deleted source or workspace fails it again, and the worker
goes one message at a time). The per-row checks took these locks at COMMIT, after the counters;
taken earlier they can meet an admin deletion that first deleted a source's counter rows and
then waits for our lock on the source while we wait for its counter row: PostgreSQL's deadlock
detector ends one of the two (the batch is retried), as it already did when the deletion met the
batch's update of the source's counters. SQLite has none of this: its bulk path is unchanged.
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
