"""The worker's per-batch reads by key cannot depend on the statistics: the dedupe read
(feed.services.stored_message_ids) and the reads of a batch's ids (people.locking.batch_lock:
who holds each id, then every identity of those people) read about one row per key, also for a
workspace that is new since the last ANALYZE.

The state: autovacuum ANALYZEs a big table only after many changes, so a workspace that started
since then is unknown to the planner, which estimates it at about one row. With the workspace
condition indexable, PostgreSQL 15 then scanned the workspace's whole part of a (workspace, key)
index on every batch and filtered the keys afterwards: 19,500 rows removed per batch at the 40th
batch of a 20k import, growing with the workspace until the next ANALYZE.
"""

import json

import pytest
from django.db import connection

from accounts.models import Workspace
from feed.services import stored_message_ids
from people.locking import batch_lock
from tests.factories import typed_message

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's planner and statistics"
    ),
]

# The young workspace's rows, and the keys a batch looks up: half stored, half new. Rows of about
# 1.5 kB (as events with their properties are), so that a sequential scan costs what it would.
ROWS = 6_000
KEYS = 100
# 1,280 hex digits that differ per row `n` (a repeated string would be compressed to nothing).
PAD = (
    "jsonb_build_object('pad',"
    " (SELECT string_agg(md5({n}::text || i), '') FROM generate_series(1, 40) i))"
)


def _rows_read(plan: dict, table: str) -> int:
    """Rows the plan's scans of `table` looked at: returned and filtered away, over all loops."""
    read = 0
    if plan.get("Relation Name") == table:
        removed = plan.get("Rows Removed by Filter", 0) + plan.get(
            "Rows Removed by Index Recheck", 0
        )
        read += (plan.get("Actual Rows", 0) + removed) * plan.get("Actual Loops", 1)
    for child in plan.get("Plans", []):
        read += _rows_read(child, table)
    return read


def _index_leads(plan: dict, table: str) -> set[str | None]:
    """The leading column of each index of `table` the plan scans (None: an expression)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, a.attname FROM pg_index i"
            " LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            " WHERE i.indrelid = %s::regclass",
            [table],
        )
        leads = dict(cursor.fetchall())

    def used(node: dict) -> set[str]:
        names = {node["Index Name"]} if "Index Name" in node else set()
        return names.union(*(used(child) for child in node.get("Plans", [])))

    return {leads[name] for name in used(plan) if name in leads}


def _events_add(workspace_id: int, prefix: str, count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO feed_event (workspace_id, type, name, properties, context, message_id,"
            " timestamp, received_at, hidden, raw, warnings)"
            f" SELECT %s, 'track', 'Viewed', {PAD.format(n='g')}, '{{}}',"
            " %s || g, now(), now(), false, '{}', '[]' FROM generate_series(1, %s) g",
            [workspace_id, prefix, count],
        )


def _identities_add(workspace_id: int, prefix: str, count: int) -> None:
    """`count` people of one id each: `prefix` + n."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO people_person (workspace_id, email, traits, audiences, is_identified,"
            " event_count, created_at, updated_at)"
            " SELECT %s, %s || g, '{}', '{}', true, 0, now(), now() FROM generate_series(1, %s) g",
            [workspace_id, prefix, count],
        )
        cursor.execute(
            "INSERT INTO people_identity (workspace_id, person_id, value, kind, trait_versions,"
            " event_count, linked_by_message_id, linked_to, linked_by_type, aliased, created_at)"
            f" SELECT workspace_id, id, email, 'user', {PAD.format(n='id')}, 0, '',"
            " '', '', false, now() FROM people_person WHERE workspace_id = %s AND email LIKE %s",
            [workspace_id, f"{prefix}%"],
        )


@pytest.fixture
def young(workspace: Workspace) -> Workspace:
    """`workspace` after the last ANALYZE: another workspace was analyzed (holding the same
    messageIds and ids as some of ours), then ours got ROWS events and ROWS people."""
    other = Workspace.objects.create(name="Older")
    _events_add(other.pk, "m-", 1_000)
    _identities_add(other.pk, "u-", 1_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE feed_event, people_identity, people_person")
    _events_add(workspace.pk, "m-", ROWS)
    _identities_add(workspace.pk, "u-", ROWS)
    return workspace


def _explained(plans: list[dict], table: str):
    """An execute wrapper: each SELECT reading `table` runs under EXPLAIN ANALYZE first (its plan
    kept in `plans`), then as itself, for the caller's rows."""

    def wrapper(execute, sql, params, many, context):
        if sql.startswith("SELECT") and table in sql:
            execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params, many, context)
            plan = context["cursor"].fetchone()[0]
            plans.append(json.loads(plan) if isinstance(plan, str) else plan)
        return execute(sql, params, many, context)

    return wrapper


def test_the_dedupe_read_reads_one_row_per_key_in_a_workspace_new_since_analyze(young):
    # Every other stored messageId of the young workspace, and as many never stored.
    keys = [f"m-{n}" for n in range(1, KEYS + 1, 2)] + [f"m-new-{n}" for n in range(KEYS // 2)]
    plans: list[dict] = []

    with connection.execute_wrapper(_explained(plans, "feed_event")):
        stored = stored_message_ids(young.pk, keys)

    assert stored == {f"m-{n}" for n in range(1, KEYS + 1, 2)}
    assert len(plans) == 1
    plan = plans[0][0]["Plan"]
    read = _rows_read(plan, "feed_event")
    # Each stored key is found in both workspaces: at most two rows per key. An index scan whose
    # condition is not on its leading column reads the whole index and shows only what matched.
    assert read <= 2 * KEYS, f"{read} event rows read to look up {KEYS} messageIds"
    assert _index_leads(plan, "feed_event") <= {"message_id"}, plan


def test_the_reads_of_a_batchs_ids_read_one_row_per_id_in_a_workspace_new_since_analyze(young):
    known = [f"u-{n}" for n in range(1, KEYS + 1, 2)]
    messages = [typed_message(young, "identify", live=True, user_id=v) for v in known] + [
        typed_message(young, "identify", live=True, user_id=f"u-new-{n}") for n in range(KEYS // 2)
    ]
    plans: list[dict] = []

    with connection.execute_wrapper(_explained(plans, "people_identity")):
        loaded = batch_lock(young.pk, messages)

    assert sorted(i.value for i in loaded) == sorted(known)
    assert {i.workspace_id for i in loaded} == {young.pk}
    # Who holds the ids, then every identity of those people (one read: nobody new turned up).
    assert len(plans) == 2
    for explained in plans:
        plan = explained[0]["Plan"]
        read = _rows_read(plan, "people_identity")
        assert read <= 2 * KEYS, f"{read} identity rows read for {KEYS} ids: {plan}"
        assert _index_leads(plan, "people_identity") <= {"value", "person_id"}, plan
