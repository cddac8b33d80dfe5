"""The events' foreign keys, checked once per referenced row (core/keyshare.py), still keep
every event pointing at a workspace, source and identity that exist, on PostgreSQL.

- A row deleted before the batch, or deleted by a transaction still open while the batch runs,
  is never referenced by a committed event: the batch fails (or waits, then fails).
- A role that may not set session_replication_role still stores, through the checked COPY;
  one granted SET on it (PostgreSQL 15+) takes the fast path, as a superuser does.
- The fast path is what runs when allowed: the referenced tables are read once per batch, not
  once per event (pg_stat_xact_user_tables counts every scan, the triggers' included).
"""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import Source, Workspace
from core.bulk import COPY_FROM
from feed.models import Event
from feed.services import events_write
from people.models import Identity, Person
from segments.models import Segment
from tests.factories import typed_message

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's foreign-key triggers and row locks"
)

EVENTS = COPY_FROM + 10  # COPYed: the path that checks keys once
TABLES = ("accounts_workspace", "accounts_source", "people_identity")


def _references(workspace: Workspace) -> tuple[Source, Identity]:
    source = Source.objects.create(
        workspace=workspace, name="s", token_hash=uuid.uuid4().hex, token_prefix="p"
    )
    person = Person.objects.create(workspace=workspace, traits={}, audiences={})
    identity = Identity.objects.create(
        workspace=workspace, person=person, kind=Identity.Kind.USER, value=uuid.uuid4().hex
    )
    return source, identity


def _write(workspace_id: int, source_id: int | None, identity: Identity | None) -> None:
    """One batch's events: EVENTS track calls, all with this source and identity."""
    messages = [
        typed_message(workspace_id, "track", live=True, source_id=source_id, user_id="u", event="E")
        for _ in range(EVENTS)
    ]
    events_write(messages, [identity] * EVENTS, [[] for _ in messages])


def _orphans() -> int:
    """Events pointing at a workspace, source or identity that does not exist."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM feed_event e"
            " LEFT JOIN accounts_workspace w ON w.id = e.workspace_id"
            " LEFT JOIN accounts_source s ON s.id = e.source_id"
            " LEFT JOIN people_identity i ON i.id = e.identity_id"
            " WHERE w.id IS NULL OR (e.source_id IS NOT NULL AND s.id IS NULL)"
            " OR (e.identity_id IS NOT NULL AND i.id IS NULL)"
        )
        return cursor.fetchone()[0]


def _scans() -> dict[str, int]:
    """Scans of the referenced tables so far in this transaction, the triggers' included."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables"
            " WHERE relname = ANY(%s)",
            [list(TABLES)],
        )
        return dict(cursor.fetchall())


def _scans_of_a_batch(workspace: Workspace) -> dict[str, int]:
    """How often one batch of EVENTS events read each referenced table, its deferred checks
    fired before counting."""
    source, identity = _references(workspace)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The checks the fixtures' rows left for COMMIT, run now and not counted.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        before = _scans()
        _write(workspace.pk, source.pk, identity)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SHOW session_replication_role")
            # The window closed with the COPY: the rollups' rows and anything after are checked.
            assert cursor.fetchone()[0] == "origin"
        after = _scans()
    assert Event.objects.filter(workspace=workspace).count() == EVENTS
    return {table: after.get(table, 0) - before.get(table, 0) for table in TABLES}


@contextmanager
def _role(*, may_skip_triggers: bool) -> Iterator[None]:
    """This transaction as a fresh role that is no superuser, granted what the worker writes
    (and, when asked, SET on session_replication_role). Rolled back with the test."""
    name = f"windsor_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOSUPERUSER NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {name}")
        cursor.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {name}")
        if may_skip_triggers:
            cursor.execute(f"GRANT SET ON PARAMETER session_replication_role TO {name}")
        cursor.execute(f"SET LOCAL ROLE {name}")
    yield


@pytest.mark.django_db
def test_the_fast_path_reads_each_referenced_table_once_per_batch(workspace):
    scans = _scans_of_a_batch(workspace)
    # Our lock statement once each; the rollups' three rows (the workspace's hour, the
    # identity's hour and its day of that event name) add one workspace check each and two
    # identity checks. Per row, it would be at least EVENTS each.
    assert scans["accounts_source"] == 1, scans
    assert scans["people_identity"] <= 3, scans
    assert scans["accounts_workspace"] <= 4, scans
    assert _orphans() == 0


@pytest.mark.django_db
def test_a_role_that_may_not_skip_triggers_stores_through_the_checked_copy(workspace):
    with _role(may_skip_triggers=False):
        scans = _scans_of_a_batch(workspace)
    # The triggers checked every row.
    assert min(scans.values()) >= EVENTS, scans
    assert _orphans() == 0


@pytest.mark.django_db
def test_a_role_granted_set_on_the_parameter_takes_the_fast_path(workspace):
    """What docs/operations.md tells an operator to grant is enough (PostgreSQL 15+)."""
    if connection.pg_version < 150000:
        pytest.skip("GRANT SET ON PARAMETER is PostgreSQL 15+")
    with _role(may_skip_triggers=True):
        scans = _scans_of_a_batch(workspace)
    assert max(scans.values()) <= 4, scans


@pytest.mark.django_db
def test_a_trigger_of_its_own_on_the_events_keeps_the_checked_copy(workspace):
    """A trigger the window would skip (added by hand here) turns the fast path off."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE fired (n int) ON COMMIT DROP")
        cursor.execute(
            "CREATE FUNCTION pg_temp.fired() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN INSERT INTO fired VALUES (1); RETURN NULL; END$$"
        )
        cursor.execute(
            "CREATE TRIGGER event_fired AFTER INSERT ON feed_event"
            " FOR EACH ROW EXECUTE FUNCTION pg_temp.fired()"
        )
    scans = _scans_of_a_batch(workspace)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM fired")
        assert cursor.fetchone()[0] == EVENTS
    assert min(scans.values()) >= EVENTS, scans


# --- Deleted under the batch: two real connections -------------------------------------------

TARGETS = ["workspace", "source", "identity"]


def _batch_of(target: str, owner) -> tuple[tuple[int, int | None, Identity | None], str, int]:
    """A workspace whose batch references the target (and nothing else it could lose): the
    batch's arguments, and the table and id a deleter removes."""
    workspace = Workspace.objects.create(name=f"w-{uuid.uuid4().hex[:8]}")
    if target == "workspace":
        # Its built-in segments (segments/builtin.py) would hold the row: it must hold nothing.
        Segment.objects.filter(workspace=workspace).delete()
        return (workspace.pk, None, None), "accounts_workspace", workspace.pk
    source, identity = _references(workspace)
    if target == "source":
        return (workspace.pk, source.pk, None), "accounts_source", source.pk
    return (workspace.pk, None, identity), "people_identity", identity.pk


def _delete(table: str, pk: int) -> None:
    with connection.cursor() as cursor:
        # Only this row: the deleter removes nothing else the batch could trip over.
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.django_db(transaction=True)
def test_a_row_deleted_before_the_batch_fails_the_batch(target, owner):
    args, table, pk = _batch_of(target, owner)
    _delete(table, pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        _write(*args)
    assert Event.objects.count() == 0
    assert _orphans() == 0


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.django_db(transaction=True)
def test_a_row_deleted_by_an_open_transaction_makes_the_batch_wait_then_fail(target, owner):
    """The deleter deletes first and holds its transaction open while the batch runs, then
    commits; the batch then commits if it can. Nothing may point at the deleted row after."""
    args, table, pk = _batch_of(target, owner)
    deleted, commit, written, release = (threading.Event() for _ in range(4))
    outcome: dict[str, object] = {}
    batch_pid: list[int] = []

    def deleter() -> None:
        try:
            with transaction.atomic():
                _delete(table, pk)
                deleted.set()
                commit.wait(30)
            outcome["deleter"] = "committed"
        except Exception as error:  # reported in the assertion, not lost in a thread
            outcome["deleter"] = error
        finally:
            deleted.set()
            connection.close()

    def batch() -> None:
        try:
            connection.ensure_connection()
            batch_pid.append(connection.connection.info.backend_pid)
            with transaction.atomic():
                _write(*args)
                written.set()
                release.wait(30)
            outcome["batch"] = "committed"
        except Exception as error:
            outcome["batch"] = error
        finally:
            written.set()
            connection.close()

    deleting = threading.Thread(target=deleter)
    deleting.start()
    assert deleted.wait(30)
    storing = threading.Thread(target=batch)
    storing.start()
    # The batch either waits for the deleter's row lock or gets through its writes.
    for _ in range(300):
        if written.wait(0.05) or (batch_pid and _waits_for_a_lock(batch_pid[0])):
            break
    else:
        raise AssertionError("the batch neither waited nor wrote")
    commit.set()
    deleting.join(30)
    release.set()
    storing.join(30)
    assert outcome["deleter"] == "committed", outcome
    assert isinstance(outcome["batch"], IntegrityError), outcome
    assert Event.objects.count() == 0
    assert _orphans() == 0


def _waits_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"
