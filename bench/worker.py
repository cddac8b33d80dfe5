"""Worker throughput: `batch_process` on a mixed stream next to a raw COPY of as many rows, and
what an alias merge costs for a person with 10 events vs 100k events. The stream is handed over
as the worker's drain hands it: `Message` values, built before the clock starts.

Runs against DATABASE_URL (PostgreSQL, migrated). Everything lives in a throwaway workspace that
is deleted at the end. `--quick` shrinks the sizes for a smoke run; `--events=N` sets the mixed
stream's size (50,000), `--throughput-only` skips the Engage burst and the merges, `--write` saves
to bench/results/<date>-worker.txt. The throughput lines include the CPU time of this process and
of its PostgreSQL backend (from /proc) for the batches and for the raw COPY; `--by-statement`
adds the backend's CPU per statement shape, commit and event COPY.
"""

import contextlib
import json
import re
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from accounts.models import Workspace
from bench.results_file import results_append
from core.messages import Message, message_decode
from feed import services as feed_services
from ingest.store import batch_process
from people.models import Identity

BATCH = 500
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def run(argv: list[str]) -> list[str]:
    if connection.vendor != "postgresql":
        return ["needs PostgreSQL: set DATABASE_URL"]
    quick = "--quick" in argv
    size = 5_000 if quick else 50_000
    size = int(next((a[9:] for a in argv if a.startswith("--events=")), size))
    history = 10_000 if quick else 100_000
    warm = Workspace.objects.create(name=f"bench-worker-warm-{uuid.uuid4().hex[:8]}")
    workspace = Workspace.objects.create(name=f"bench-worker-{uuid.uuid4().hex[:8]}")
    try:
        _warm_up(warm, max(1_000, size // 4))
        lines = _throughput(workspace, size, by_statement="--by-statement" in argv)
        if "--throughput-only" not in argv:
            lines += _engage_burst(workspace, size // 2)
            lines += _merges(workspace, history)
    finally:
        with transaction.atomic():
            workspace.delete()
            warm.delete()
    if "--write" in argv:
        lines = [*lines, f"written to {results_append('worker', argv, lines)}"]
    return lines


def typed_stream(workspace_id: int, size: int) -> list[Message]:
    """`mixed_stream` as the worker's drain hands it to `batch_process`: Messages."""
    return [message_decode(m) for m in mixed_stream(workspace_id, size)]


def mixed_stream(workspace_id: int, size: int) -> list[dict]:
    """Per visitor: 2 page views, identify with anonymousId, 3 tracks; every 10th a group call,
    every 20th an alias of a legacy id; ids repeat across batches as in a real stream."""
    out: list[dict] = []
    i = 0
    while len(out) < size:
        user, visitor = f"user-{i}", f"visitor-{i}"
        moment = BASE + timedelta(seconds=i)
        calls = [
            ("page", {"anonymous_id": visitor, "name": "Home"}),
            ("page", {"anonymous_id": visitor, "name": "Pricing"}),
            (
                "identify",
                {
                    "user_id": user,
                    "anonymous_id": visitor,
                    "traits": {"email": f"{i}@example.com", "name": f"User {i}", "plan": "pro"},
                },
            ),
            ("track", {"user_id": user, "event": "Signed Up"}),
            ("track", {"user_id": user, "event": "Viewed Report"}),
            ("track", {"user_id": f"user-{max(i - 700, 0)}", "event": "Came Back"}),
        ]
        if i % 10 == 0:
            calls.append(("group", {"user_id": user, "group_id": f"g{i % 50}"}))
        if i % 20 == 0:
            calls.append(("alias", {"user_id": user, "previous_id": f"legacy-{i}"}))
        for offset, (kind, fields) in enumerate(calls):
            out.append(
                _message(workspace_id, kind, moment + timedelta(milliseconds=offset), fields)
            )
        i += 1
    return out[:size]


def _message(workspace_id: int, kind: str, moment: datetime, fields: dict) -> dict:
    message_id = uuid.uuid4().hex
    message = {
        "workspace_id": workspace_id,
        "source_id": None,
        "type": kind,
        "message_id": message_id,
        "user_id": None,
        "anonymous_id": None,
        "previous_id": None,
        "group_id": None,
        "event": None,
        "name": None,
        "properties": {"path": "/", "plan": "pro"},
        "traits": {},
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
        "timestamp": moment.isoformat(),
        "received_at": moment.isoformat(),
        **fields,
    }
    message["raw"] = {"type": kind, "messageId": message_id, "properties": message["properties"]}
    return message


def _typed(workspace_id: int, kind: str, moment: datetime, fields: dict) -> Message:
    return message_decode(_message(workspace_id, kind, moment, fields))


def _warm_up(workspace: Workspace, size: int) -> None:
    """A steady state to measure in, as a server with autovacuum keeps it: tables of some size,
    with statistics that say so. On tables of a few pages the deferred foreign-key checks' cached
    plans are sequential scans, which the connection keeps while the tables grow (a scan of
    people_identity per event row): after VACUUM ANALYZE, a new connection plans them anew."""
    stream = typed_stream(workspace.pk, size)
    for start in range(0, len(stream), BATCH):
        batch_process(stream[start : start + BATCH])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) people_identity, people_person, people_group, feed_event")
    connection.close()


def _backend_cpu() -> float:
    """CPU seconds this connection's PostgreSQL backend has run so far (/proc/<pid>/schedstat,
    nanoseconds): the database's share of the work, which other load on the machine hardly moves
    (wall time does). The server must run on this machine."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return _schedstat(pid)


def _schedstat(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except OSError:
        return float("nan")


@contextlib.contextmanager
def _backend_cpu_by_statement(into: Counter) -> Iterator[None]:
    """Add each statement's backend CPU to `into` by its shape (numbers blanked), and the commits'
    (where PostgreSQL runs the deferred foreign-key checks) and the events' COPY under their names.
    Two /proc reads per statement: for a breakdown, not for the totals."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def timed(call: Callable[[], Any], name: str) -> Any:
        before = _schedstat(pid)
        try:
            return call()
        finally:
            into[name] += _schedstat(pid) - before

    def statement(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        shape = re.sub(r"\s+", " ", re.sub(r"\d+", "N", sql)).strip()[:90]
        return timed(lambda: execute(sql, params, many, context), shape)

    commit = connection._commit
    insert = feed_services.bulk_insert_values
    connection._commit = lambda: timed(commit, "COMMIT (the deferred foreign-key checks)")
    # The events' COPY with whatever runs around it: the lock of the rows it references and the
    # SETs of session_replication_role (core/keyshare.py), also counted on their own lines.
    feed_services.bulk_insert_values = lambda model, rows, **options: timed(
        lambda: insert(model, rows, **options), "COPY feed_event (the events)"
    )
    try:
        with connection.execute_wrapper(statement):
            yield
    finally:
        del connection._commit
        feed_services.bulk_insert_values = insert


def _throughput(workspace: Workspace, size: int, *, by_statement: bool = False) -> list[str]:
    stream = mixed_stream(workspace.pk, size)
    typed = [message_decode(m) for m in stream]
    statements: Counter = Counter()
    backend, client = _backend_cpu(), time.process_time()
    started = time.perf_counter()
    with _backend_cpu_by_statement(statements) if by_statement else contextlib.nullcontext():
        for start in range(0, len(typed), BATCH):
            batch_process(typed[start : start + BATCH])
    worker = time.perf_counter() - started
    worker_cpu = (time.process_time() - client, _backend_cpu() - backend)

    backend, client = _backend_cpu(), time.process_time()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # A real (logged) table with the event table's indexes, so that only our work differs.
        cursor.execute("CREATE TABLE bench_copy (LIKE feed_event INCLUDING ALL)")
        with cursor.cursor.copy(
            "COPY bench_copy (workspace_id, type, name, properties, context, message_id,"
            " timestamp, received_at, hidden, raw, warnings) FROM STDIN"
        ) as copy:
            for m in stream:
                copy.write_row(
                    (
                        workspace.pk,
                        m["type"],
                        m.get("event") or m.get("name") or "",
                        json.dumps(m["properties"]),
                        json.dumps(m["context"]),
                        m["message_id"],
                        m["timestamp"],
                        m["received_at"],
                        m["type"] == "page",
                        json.dumps(m["raw"]),
                        "[]",
                    )
                )
    copied = time.perf_counter() - started
    copy_cpu = (time.process_time() - client, _backend_cpu() - backend)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    people = workspace.people.current().count()
    return [
        f"mixed stream: {size} messages in batches of {BATCH} -> {people} people",
        f"worker batch_process: {size / worker:,.0f} events/s ({worker:.2f} s)",
        f"raw COPY of {size} event rows: {size / copied:,.0f} rows/s ({copied:.2f} s)",
        f"ratio worker / raw COPY: {copied / worker:.2f}",
        f"CPU s, client + PostgreSQL backend: worker {worker_cpu[0]:.2f} + {worker_cpu[1]:.2f}"
        f" = {sum(worker_cpu):.2f}; raw COPY {copy_cpu[0]:.2f} + {copy_cpu[1]:.2f}"
        f" = {sum(copy_cpu):.2f}",
        f"ratio raw COPY / worker by CPU: {sum(copy_cpu) / sum(worker_cpu):.3f}; the database"
        f" alone (its CPU for the COPY over its CPU for the batches, the cap were the worker's"
        f" Python free): {copy_cpu[1] / worker_cpu[1]:.3f}",
    ] + [
        f"  backend CPU {seconds:6.3f} s {seconds / worker_cpu[1]:4.0%}  {shape}"
        for shape, seconds in statements.most_common(16)
    ]


def _engage_burst(workspace: Workspace, size: int) -> list[str]:
    """An Engage audience's first sync: one identify per member, half of them known already."""
    personas = {"computation_class": "audience", "computation_key": "big_spenders"}
    stream = [
        _typed(
            workspace.pk,
            "identify",
            BASE + timedelta(days=1),
            {
                "user_id": f"user-{i}" if i % 2 else f"member-{i}",
                "traits": {"big_spenders": True},
                "context": {"personas": personas},
            },
        )
        for i in range(size)
    ]
    started = time.perf_counter()
    for start in range(0, len(stream), BATCH):
        batch_process(stream[start : start + BATCH])
    took = time.perf_counter() - started
    members = workspace.people.current().filter(audiences__big_spenders=True).count()
    return [f"Engage first sync: {size} identifies -> {members} members: {size / took:,.0f}/s"]


def _person_with_history(workspace: Workspace, value: str, events: int) -> Identity:
    """A user with `events` stored track events (written with COPY: this is set-up, not timed)."""
    batch_process(
        [_message(workspace.pk, "identify", BASE, {"user_id": value, "traits": {"plan": "x"}})]
    )
    identity = Identity.objects.get(workspace=workspace, value=value)
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY feed_event (workspace_id, identity_id, type, name, properties, context,"
            " message_id, timestamp, received_at, hidden, raw, warnings) FROM STDIN"
        ) as copy,
    ):
        for n in range(events):
            moment = (BASE + timedelta(seconds=n)).isoformat()
            copy.write_row(
                (
                    workspace.pk,
                    identity.pk,
                    "track",
                    "Viewed",
                    "{}",
                    "{}",
                    f"{value}-{n}",
                    moment,
                    moment,
                    False,
                    "{}",
                    "[]",
                )
            )
    Identity.objects.filter(pk=identity.pk).update(event_count=events + 1)
    return identity


def _merges(workspace: Workspace, history: int) -> list[str]:
    # Statistics as autovacuum keeps them (migration people 0005): a workspace that grew within
    # the last seconds is unknown to the planner, which then scans it for every id lookup.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_identity, people_person, feed_event")
    lines = []
    for events in (10, history):
        _person_with_history(workspace, f"old-{events}", events)
        # The same person is merged again and again along a chain; the median of the runs.
        times = []
        previous = f"old-{events}"
        for run in range(5):
            target = f"new-{events}-{run}"
            batch_process([_message(workspace.pk, "identify", BASE, {"user_id": target})])
            alias = _typed(
                workspace.pk, "alias", BASE, {"previous_id": previous, "user_id": target}
            )
            started = time.perf_counter()
            batch_process([alias])
            times.append(time.perf_counter() - started)
            previous = target
        merged = Identity.objects.get(workspace=workspace, value=f"old-{events}").person
        assert merged.event_count == events + 11, merged.event_count
        took = statistics.median(times)
        lines.append(
            f"alias merge of a person with {events:,} events: {took * 1000:.1f} ms (median of 5)"
        )

    # What the identity-keyed design avoids: rewriting each event's owner on merge.
    identity = Identity.objects.get(workspace=workspace, value=f"old-{history}")
    other = Identity.objects.get(workspace=workspace, value=f"new-{history}-0")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE feed_event SET identity_id = %s WHERE identity_id = %s",
            [other.pk, identity.pk],
        )
        transaction.set_rollback(True)
    took = time.perf_counter() - started
    lines.append(f"for comparison, re-pointing {history:,} events row by row: {took * 1000:.0f} ms")
    return lines
