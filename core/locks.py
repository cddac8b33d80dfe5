"""The write locks of a workspace: batches share it, deletions have it alone.

Transaction-level locks on PostgreSQL (free on SQLite, which serialises writers): the workspace
lock (advisory: batches SHARED, deletions EXCLUSIVE), the storing lock (a batch that collided
twice takes it EXCLUSIVE), key locks on what a batch creates and row locks (FOR NO KEY UPDATE) on
the people and groups it rewrites. Every transaction takes them in that order, each in ascending
order, then the key-share locks (core/keyshare.py) and the counters, so workers never deadlock.

Design: docs/design/concurrency.md
"""

import hashlib
from collections.abc import Iterable

from django.db import connection, models

from core.lookups import int_array

# First key of the workspace lock pair: a namespace so our locks never collide with others'.
LOCK_NAMESPACE = 0x57494E44  # "WIND"
# The second namespace: a workspace's "creating" lock (see `creating_lock`).
CREATING_NAMESPACE = 0x57494E45
# The third: a workspace's storing lock (see `workspaces_store_lock`).
STORING_NAMESPACE = 0x57494E46


def workspaces_lock(workspace_ids: Iterable[int] = (), *, shared: Iterable[int] = ()) -> None:
    """Take the workspaces' write locks until the end of the current transaction: exclusive on
    `workspace_ids`, shared on `shared` (a workspace in both is taken exclusive).

    The worker takes them before it writes anything else (Source counters included), in this
    sorted order, so that two workers cannot each hold what the other waits for. Re-taking a lock
    the transaction holds is free; take exclusive the first time it is needed, as two shared
    holders that both ask for exclusive would deadlock.
    """
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers already.
    exclusive = set(workspace_ids)
    modes = {w: True for w in exclusive} | {w: False for w in set(shared) - exclusive}
    with connection.cursor() as cursor:
        for workspace_id in sorted(modes):
            function = (
                "pg_advisory_xact_lock" if modes[workspace_id] else "pg_advisory_xact_lock_shared"
            )
            cursor.execute(f"SELECT {function}(%s, %s)", [LOCK_NAMESPACE, workspace_id])


def workspaces_store_lock(
    workspace_ids: Iterable[int], *, deleting: Iterable[int] = (), alone: bool = False
) -> None:
    """A storing batch's workspace locks, all in one statement, workspace by workspace in sorted
    order: the workspace lock exclusive where the batch carries a Segment `delete` (`deleting`);
    elsewhere the workspace lock shared, then the storing lock, shared or, when `alone`,
    exclusive."""
    deleting = set(deleting)
    locks: list[str] = []
    params: list[int] = []
    for workspace_id in sorted(set(workspace_ids) | deleting):
        if workspace_id in deleting:
            locks.append("pg_advisory_xact_lock(%s, %s)")
            params += [LOCK_NAMESPACE, workspace_id]
            continue
        storing = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
        locks += ["pg_advisory_xact_lock_shared(%s, %s)", f"{storing}(%s, %s)"]
        params += [LOCK_NAMESPACE, workspace_id, STORING_NAMESPACE, workspace_id]
    if not locks or connection.vendor != "postgresql":
        return  # SQLite serialises writers already.
    with connection.cursor() as cursor:
        # A target list is evaluated left to right: the locks are taken in this order.
        cursor.execute(f"SELECT {', '.join(locks)}", params)


def creating_lock(workspace_id: int, *, exclusive: bool) -> None:
    """The lock every batch that creates ids takes before its key locks: shared when it locks
    each new key, exclusive when it has too many new keys to lock one by one (the lock table
    is shared by the whole server: max_locks_per_transaction x max_connections entries)."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [CREATING_NAMESPACE, workspace_id])


def lock_key(workspace_id: int, kind: str, value: str) -> int:
    """A signed 64-bit advisory lock key for (workspace, kind, value)."""
    digest = hashlib.blake2b(
        f"{workspace_id}\x00{kind}\x00{value}".encode(), digest_size=8, person=b"windsor"
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def keys_lock(keys: Iterable[int]) -> None:
    """Exclusive advisory locks on these keys until the end of the transaction: one statement,
    in ascending key order (unnest returns the sorted array's elements in order)."""
    ordered = sorted(set(keys))
    if not ordered or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k", [ordered])


def rows_lock(model: type[models.Model], pks: Iterable[int]) -> None:
    """Lock these rows against other writers until the end of the transaction: one statement,
    in ascending primary-key order (the lock node sits above the sort)."""
    ordered = sorted(set(pks))
    if not ordered or connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    pk_type = model._meta.pk.db_type(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk} FROM {table} WHERE {pk} = ANY(%s::{pk_type}[])"  # noqa: S608
            f" ORDER BY {pk} FOR NO KEY UPDATE",
            [int_array(ordered)],
        )
