"""The per-workspace write lock: the worker's batches and person deletions take turns under it.

A transaction-level advisory lock on PostgreSQL (SQLite serialises writers anyway). The worker
(ingest.services) holds it while it stores a batch; people.deletion takes it before it deletes,
so a deletion and a batch carrying the same ids never interleave.
"""

from collections.abc import Iterable

from django.db import connection

# First key of the advisory lock pair: a namespace so our locks never collide with others'.
LOCK_NAMESPACE = 0x57494E44  # "WIND"


def workspaces_lock(workspace_ids: Iterable[int]) -> None:
    """Take the workspaces' batch locks until the end of the current transaction.

    batch_process takes them itself; a caller that writes other rows those batches also write
    (e.g. Source counters) before calling it should take them first, in this same sorted order,
    so that two workers cannot each hold what the other waits for. Re-taking is free.
    """
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers already.
    with connection.cursor() as cursor:
        for workspace_id in sorted(set(workspace_ids)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, workspace_id])
