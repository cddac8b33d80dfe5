"""The activity rollups of a workspace the benchmarks seeded with COPY (which bypasses the worker,
where they are kept: events_write and the sources' counts): the same counts, computed in the
database, so that the charts read what a real workspace of that size would hold."""

from django.db import connection

SQL = [
    """INSERT INTO feed_workspaceactivity (workspace_id, hour, type, n)
       SELECT workspace_id, date_trunc('hour', timestamp AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
              type, count(*)
       FROM feed_event WHERE workspace_id = %s GROUP BY 1, 2, 3
       ON CONFLICT (workspace_id, hour, type) DO UPDATE SET n = excluded.n""",
    """INSERT INTO feed_identityactivity (workspace_id, identity_id, hour, type, n)
       SELECT workspace_id, identity_id,
              date_trunc('hour', timestamp AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', type, count(*)
       FROM feed_event WHERE workspace_id = %s AND identity_id IS NOT NULL GROUP BY 1, 2, 3, 4
       ON CONFLICT (identity_id, hour, type) DO UPDATE SET n = excluded.n""",
    # The seeds reject nothing: accepted messages only, by the hour they were received.
    """INSERT INTO accounts_sourceactivity (source_id, hour, accepted, rejected)
       SELECT source_id,
              date_trunc('hour', received_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*), 0
       FROM feed_event WHERE workspace_id = %s AND source_id IS NOT NULL GROUP BY 1, 2
       ON CONFLICT (source_id, hour) DO UPDATE SET accepted = excluded.accepted""",
]


def rollups_fill(workspace_id: int) -> None:
    with connection.cursor() as cursor:
        for sql in SQL:
            cursor.execute(sql, [workspace_id])
