"""core/bulk.py's plans cannot depend on the statistics: bulk_update reads only its rows; its
narrow rows keep the columns they do not carry."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.bulk import bulk_update
from people.identity import PERSON_FIELDS, SEEN_FIELDS
from people.models import Identity, Person
from people.rows import PersonRow

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's planner and statistics"
    ),
]


def _rows_read(plan: dict, table: str) -> int:
    """Rows the plan's scans of `table` looked at: returned and filtered away, over all loops."""
    read = 0
    if plan.get("Relation Name") == table and plan["Node Type"] != "ModifyTable":
        loops = plan.get("Actual Loops", 1)
        read += (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * loops
    for child in plan.get("Plans", []):
        read += _rows_read(child, table)
    return read


def test_bulk_update_reads_only_its_rows_when_statistics_call_the_table_empty(workspace):
    """The state a busy server reaches between two autovacuums: rows were deleted, ANALYZE saw
    only dead rows (reltuples 0 over many pages, so the planner takes every page to be empty and
    the table for one row), and then many rows arrived. A join of the table to the batch's rows
    was planned as a scan of the whole table (a nested loop with a join filter, or a hash of the
    whole table), per statement; bulk_update must read the rows it updates and no others."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO people_person (workspace_id, traits, audiences, is_identified,"
            " event_count, created_at, updated_at) VALUES (%s, '{}', '{}', false, 0, now(), now())"
            " RETURNING id",
            [workspace.pk],
        )
        person_id = cursor.fetchone()[0]
        insert = (
            "INSERT INTO people_identity (workspace_id, person_id, value, kind, trait_versions,"
            " event_count, linked_by_message_id, linked_to, linked_by_type, aliased, created_at)"
            " SELECT %s, %s, %s || g, 'user', '{}', 0, '', '', '', false, now()"
            " FROM generate_series(1, %s) g"
        )
        cursor.execute(insert, [workspace.pk, person_id, "gone-", 5_000])
        cursor.execute("DELETE FROM people_identity WHERE workspace_id = %s", [workspace.pk])
        cursor.execute("ANALYZE people_identity")
        cursor.execute("SELECT reltuples, relpages FROM pg_class WHERE relname = 'people_identity'")
        reltuples, relpages = cursor.fetchone()
        assert reltuples == 0 and relpages > 0, (reltuples, relpages)
        cursor.execute(insert, [workspace.pk, person_id, "user-", 20_000])
    identities = list(Identity.objects.filter(workspace=workspace).order_by("pk")[:: 20_000 // 40])
    for identity in identities:
        identity.event_count = 7
    plans: list[dict] = []

    def explained(execute, sql, params, many, context):
        if not sql.startswith("UPDATE"):
            return execute(sql, params, many, context)
        result = execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params, many, context)
        plan = context["cursor"].fetchone()[0]
        plans.append(json.loads(plan) if isinstance(plan, str) else plan)
        return result

    with connection.execute_wrapper(explained):
        bulk_update(Identity, identities, SEEN_FIELDS[:-1])

    assert len(plans) == 1
    read = _rows_read(plans[0][0]["Plan"], "people_identity")
    assert read <= 2 * len(identities), f"{read} identity rows read to update {len(identities)}"
    assert Identity.objects.filter(workspace=workspace, event_count=7).count() == len(identities)


def test_bulk_update_narrow_rows_keep_the_columns_they_do_not_carry(workspace):
    whole, narrow = (
        Person.objects.create(workspace=workspace, email=f"{n}@x.io", name=n, traits={"plan": n})
        for n in ("whole", "narrow")
    )
    rewritten = PersonRow(
        id=whole.pk, workspace_id=workspace.pk, email=None, name="Ada", traits={}, event_count=3
    )
    seen_only = PersonRow(id=narrow.pk, workspace_id=workspace.pk, event_count=7)
    with CaptureQueriesContext(connection) as queries:
        bulk_update(
            Person, [rewritten], PERSON_FIELDS, narrow=[seen_only], narrow_names=SEEN_FIELDS
        )
    assert len(queries.captured_queries) == 1
    whole.refresh_from_db()
    narrow.refresh_from_db()
    # The whole row takes every column, a null too; the narrow row only its own.
    assert (whole.email, whole.name, whole.traits, whole.event_count) == (None, "Ada", {}, 3)
    assert (narrow.email, narrow.name, narrow.traits, narrow.event_count) == (
        "narrow@x.io",
        "narrow",
        {"plan": "narrow"},
        7,
    )
