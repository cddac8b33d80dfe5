"""Where the worker's time goes: cProfile over the worker's drain of a queued mixed stream.

The stream is the e2e section's (bench/e2e.py `segment_stream`), validated and queued as the
endpoint does (`messages_parse`, `queued_record`) on a Redis stream of this run's own; then
`stream_drain` (what a Celery drain task runs: Redis reads, decoding, `batch_process`,
acknowledgements) stores all of it in this process under cProfile. Every SQL statement is counted
and timed (a round trip each), and so are the commits, where deferred foreign keys are checked.

Opt-in (`make bench BENCH_ARGS=profile`). Options: --events=N (20,000), --top=N (25),
--workspaces=N (1: the stream's requests go to N workspaces in turn, as many senders' would
interleave in the stream), --write
(save to bench/results/<date>-profile.txt), --database=NAME (default: the e2e section's,
`<DATABASE_URL's name>_e2e`). Runs in throwaway workspaces, after an unmeasured warm-up drain
of a quarter of the size and VACUUM ANALYZE (see run()).
"""

import cProfile
import io
import pstats
import re
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench.e2e import _database_use, _load_average, segment_stream
from bench.ingest import _option
from bench.results_file import results_append

ROOT = Path(__file__).resolve().parent.parent
# The steps of a drain, in order, by (file, function): the parts of the profile to read first.
PLACES = {
    "Redis read of entries (XREADGROUP)": ("ingest/queue.py", "stream_read"),
    "  decoding the entries' JSON (orjson.loads)": ("~", "<orjson.loads>"),
    "  building their Messages (queued_messages)": ("ingest/segment.py", "queued_messages"),
    "Redis acknowledgements (XACK)": ("ingest/queue.py", "stream_ack"),
    "older records' dicts: depth rule, decoding (older_message_add)": (
        "ingest/older_records.py",
        "older_message_add",
    ),
    "messages of deleted workspaces (_still_owned)": ("ingest/store.py", "_still_owned"),
    "workspace advisory locks (workspaces_store_lock)": ("core/locks.py", "workspaces_store_lock"),
    "suppression check (messages_unsuppressed)": ("people/suppression.py", "messages_unsuppressed"),
    "dedupe by messageId (stored_message_ids)": ("feed/services.py", "stored_message_ids"),
    "people, new ids and groups locked (batch_lock)": ("people/locking.py", "batch_lock"),
    "people: load the batch's identities (IdentityBatch.load)": ("people/identity.py", "load"),
    "people: per-message Python (IdentityBatch.apply)": ("people/identity.py", "apply"),
    "people: write identities/persons (IdentityBatch.save)": ("people/identity.py", "save"),
    "events: COPY the event rows (events_write)": ("feed/services.py", "events_write"),
    "source counters (sources_count_accepted)": (
        "ingest/source_counts.py",
        "sources_count_accepted",
    ),
    "FK checks: SET CONSTRAINTS ALL IMMEDIATE": ("postgresql/base.py", "check_constraints"),
    "COMMIT": ("psycopg/connection.py", "commit"),
    "JSON encoding (orjson.dumps)": ("~", "<orjson.dumps>"),
    "JSON encoding (stdlib json.dumps)": ("json/__init__.py", "dumps"),
    "JSON decoding (stdlib json.loads, e.g. JSONField reads)": ("json/__init__.py", "loads"),
}


TABLES = ("people_identity", "people_person", "people_group", "feed_event")


def _tables_vacuumed() -> str:
    """VACUUM ANALYZE the tables a drain reads (outside any transaction, as VACUUM must be)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
        cursor.execute(
            "SELECT relname, reltuples::bigint, relpages FROM pg_class WHERE relname = ANY(%s)"
            " ORDER BY relname",
            [list(TABLES)],
        )
        return ", ".join(f"{name} {rows:,}/{pages:,}" for name, rows, pages in cursor.fetchall())


def run(argv: list[str]) -> list[str]:
    from django.conf import settings
    from django.db import connection, transaction

    from accounts.models import Workspace
    from accounts.services import source_create
    from ingest import queue
    from ingest.drain import stream_drain
    from ingest.segment import messages_parse, payload_from_json, queued_record

    if connection.vendor != "postgresql" or not settings.INGEST_REDIS_URL:
        return ["skipped: needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL)"]
    name = settings.DATABASES["default"]["NAME"]
    _database_use(next((a[11:] for a in argv if a.startswith("--database=")), f"{name}_e2e"))
    count = int(_option(argv, "events", 20_000))
    top = int(_option(argv, "top", 25))
    settings.INGEST_STREAM = f"bench:profile:{uuid.uuid4().hex}"
    client = queue.redis_client()
    spaces = [
        Workspace.objects.create(name=f"bench-profile-{uuid.uuid4().hex[:6]}")
        for _ in range(int(_option(argv, "workspaces", 1)))
    ]
    sources = [source_create(workspace=w, name="bench").source for w in spaces]
    lines: list[str] = []
    received = datetime.now(UTC)

    def fill(prefix: str, size: int = count) -> None:
        messages = segment_stream(size, users=max(100, size // 10), seed=7, prefix=prefix)
        for start in range(0, size, 100):
            payload = payload_from_json({"batch": messages[start : start + 100]})
            source = sources[start // 100 % len(sources)]
            scope = {
                "workspace_id": source.workspace_id,
                "source_id": source.pk,
                "received_at": received,
            }
            parsed = messages_parse(payload, build=False, **scope)
            record = queued_record(parsed, default_type=None, **scope)
            queue.enqueue([record], [], count=len(parsed.queued))

    statements: Counter[str] = Counter()
    seconds: Counter[str] = Counter()

    def timed(execute, sql, params, many, context):
        # One shape per statement text with its numbers blanked (temp table names, VALUES).
        shape = re.sub(r"\s+", " ", re.sub(r"\d+", "N", sql or "?")).strip()[:110]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements[shape] += 1
            seconds[shape] += time.perf_counter() - started

    try:
        # First without the profiler, for the true rate and the SQL it waits on; then the same
        # size again (new users and messageIds on the same workspace) under cProfile.
        # A steady state, as a server with autovacuum keeps it, not the planner's picture of
        # an empty database. VACUUM, not ANALYZE alone: the previous run's deleted workspace
        # leaves its tables full of dead rows, ANALYZE then records 0 live rows over all those
        # pages (a density of 0), and the planner takes every table for one row until the next
        # ANALYZE, whatever we insert meanwhile. A warm-up drain first (a quarter of the size,
        # other users): on tables of a few pages the deferred foreign-key checks' cached plans
        # are sequential scans, kept by the connection for its life while the tables grow (a
        # scan of people_identity per event row); a new connection after VACUUM plans them anew.
        fill("warm", max(1_000, count // 4))
        stream_drain(client, deadline=time.monotonic() + 3600)
        statistics = _tables_vacuumed()
        connection.close()
        fill("plain")
        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            stored, _ = stream_drain(client, deadline=time.monotonic() + 3600)
            plain = time.perf_counter() - started
        batches = -(-count // settings.INGEST_BATCH_SIZE)
        total_sql = sum(seconds.values())
        lines += [
            f"stream_drain of {count:,} queued mixed messages ({stored:,} stored) of "
            f"{len(spaces)} workspace(s), in process, "
            f"no profiler: {plain:.2f} s = {count / plain:,.0f} events/s; load {_load_average()}",
            f"statistics before it (VACUUM ANALYZE; live rows / pages): {statistics}",
            f"SQL statements (execute round trips; COPY data and commits not counted): "
            f"{sum(statements.values()):,} = {sum(statements.values()) / batches:.1f} per "
            f"{settings.INGEST_BATCH_SIZE}-message batch, {total_sql:.2f} s waiting on them "
            f"({total_sql / plain:.0%} of the run). By time:",
        ]
        lines += [
            f"  {seconds[shape]:6.2f} s {n:5d}x  {shape}"
            for shape, n in sorted(statements.items(), key=lambda kv: -seconds[kv[0]])[:15]
        ]
        fill("profiled")
        # Statistics as autovacuum keeps them (it is off on development servers).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE people_identity, people_person, people_group, feed_event")
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        stream_drain(client, deadline=time.monotonic() + 3600)
        profiler.disable()
        took = time.perf_counter() - started
        stats = pstats.Stats(profiler)
        commit = [
            v
            for k, v in stats.stats.items()  # type: ignore[attr-defined]
            if k[2] == "commit" and "psycopg" in k[0]
        ]
        wait = [
            v
            for k, v in stats.stats.items()  # type: ignore[attr-defined]
            if k[2] == "wait" and k[0].endswith("connection.py")
        ]
        lines += [
            f"the same under cProfile: {took:.2f} s ({count / took:,.0f} events/s; the profiler "
            f"slows Python, not the database)",
            f"commits (deferred FK checks run here): {sum(v[1] for v in commit):,} taking "
            f"{sum(v[3] for v in commit):.2f} s; psycopg waiting on the server in all (queries, "
            f"COPY, commits): {sum(v[3] for v in wait):.2f} s of {took:.2f} s",
        ]
        lines.append("where the drain's time goes (cumulative, under cProfile):")
        for label, (suffix, function) in PLACES.items():
            found = [
                v
                for k, v in stats.stats.items()  # type: ignore[attr-defined]
                if k[2] == function and k[0].endswith(suffix)
            ]
            cumulative = sum(v[3] for v in found)
            calls = sum(v[1] for v in found)
            lines.append(f"  {cumulative:6.2f} s {cumulative / took:4.0%} {calls:7,}x  {label}")
        # Who encodes JSON, and how often per message: the "encoded twice" question.
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().print_callers("orjson.dumps|json.dumps")
        body = out.getvalue()
        lines.append(f"callers of JSON encoding ({count:,} messages):")
        lines += [f"  {line}" for line in body[body.find("Function ") :].splitlines() if line]
        for key, title in (("cumulative", "cumulative"), ("tottime", "own time (tottime)")):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(top)
            body = out.getvalue()
            body = body[body.find("   ncalls") :]
            lines.append(f"top {top} by {title}:")
            lines += [line for line in body.splitlines() if line.strip()]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM feed_event WHERE workspace_id = ANY(%s)",
                [[w.pk for w in spaces]],
            )
            lines.insert(1, f"events in the table afterwards: {cursor.fetchone()[0]:,}")
    finally:
        for key in client.scan_iter(settings.INGEST_STREAM + "*"):
            client.delete(key)
        with transaction.atomic():
            for workspace in spaces:
                workspace.delete()
    if "--write" in argv:
        lines = [*lines[:3], f"written to {results_append('profile', argv, lines)}"]
    return lines
