"""Where the worker's time goes: cProfile over the worker's drain of a queued mixed stream.

The stream is the e2e section's (bench/e2e.py `segment_stream`), validated and encoded as the
endpoint does (`messages_parse`) and queued on a Redis stream of this run's own; then
`stream_drain` (what a Celery drain task runs: Redis reads, decoding, `batch_process`,
acknowledgements) stores all of it in this process under cProfile. Every SQL statement is counted
and timed (a round trip each), and so are the commits, where deferred foreign keys are checked.

Opt-in (`make bench BENCH_ARGS=profile`). Options: --events=N (20,000), --top=N (25), --write
(save to bench/results/<date>-profile.txt). Runs on DATABASE_URL's database in a throwaway
workspace.
"""

import cProfile
import io
import pstats
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench.e2e import segment_stream
from bench.ingest import _option

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str]) -> list[str]:
    from django.conf import settings
    from django.db import connection, transaction

    from accounts.models import Workspace
    from accounts.services import source_create
    from ingest import queue
    from ingest.processing import stream_drain
    from ingest.segment import messages_parse, payload_from_json

    if connection.vendor != "postgresql" or not settings.INGEST_REDIS_URL:
        return ["skipped: needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL)"]
    count = int(_option(argv, "events", 20_000))
    top = int(_option(argv, "top", 25))
    settings.INGEST_STREAM = f"bench:profile:{uuid.uuid4().hex}"
    client = queue.redis_client()
    workspace = Workspace.objects.create(name=f"bench-profile-{uuid.uuid4().hex[:6]}")
    source = source_create(workspace=workspace, name="bench")
    lines: list[str] = []
    try:
        messages = segment_stream(count, users=max(100, count // 10), seed=7, prefix="p")
        received = datetime.now(UTC)
        for start in range(0, count, 100):
            payload = payload_from_json({"batch": messages[start : start + 100]})
            parsed = messages_parse(
                payload, workspace_id=workspace.pk, source_id=source.pk, received_at=received
            )
            queue.enqueue(parsed.encoded, [])
        statements: Counter[str] = Counter()
        seconds: Counter[str] = Counter()

        def timed(execute, sql, params, many, context):
            kind = sql.lstrip().split(None, 1)[0].upper() if sql else "?"
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                statements[kind] += 1
                seconds[kind] += time.perf_counter() - started

        profiler = cProfile.Profile()
        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            profiler.enable()
            stored, _ = stream_drain(client, deadline=time.monotonic() + 3600)
            profiler.disable()
            took = time.perf_counter() - started
        batches = -(-count // settings.INGEST_BATCH_SIZE)
        total_sql = sum(seconds.values())
        stats = pstats.Stats(profiler)
        commit_time = sum(
            v[3]
            for k, v in stats.stats.items()  # type: ignore[attr-defined]
            if k[2] == "commit" and "psycopg" in k[0]
        )
        commits = sum(
            v[1]
            for k, v in stats.stats.items()  # type: ignore[attr-defined]
            if k[2] == "commit" and "psycopg" in k[0]
        )
        lines += [
            f"stream_drain of {count:,} mixed messages ({stored:,} stored) in {took:.2f} s under "
            f"cProfile: {count / took:,.0f} events/s (the profiler slows Python, not SQL)",
            f"SQL statements: {sum(statements.values()):,} = "
            f"{sum(statements.values()) / batches:.1f} per {settings.INGEST_BATCH_SIZE}-message "
            f"batch, {total_sql:.2f} s waiting on them ({total_sql / took:.0%} of the run): "
            + ", ".join(f"{k} {n:,} ({seconds[k]:.2f} s)" for k, n in statements.most_common()),
            f"commits (deferred FK checks run here): {commits:,} taking {commit_time:.2f} s "
            f"({commit_time / took:.0%})",
        ]
        for key, title in (("cumulative", "cumulative"), ("tottime", "own time (tottime)")):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(top)
            body = out.getvalue()
            body = body[body.find("   ncalls") :]
            lines.append(f"top {top} by {title}:")
            lines += [line for line in body.splitlines() if line.strip()]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM feed_event WHERE workspace_id = %s", [workspace.pk]
            )
            lines.insert(1, f"events in the table afterwards: {cursor.fetchone()[0]:,}")
    finally:
        for key in client.scan_iter(settings.INGEST_STREAM + "*"):
            client.delete(key)
        with transaction.atomic():
            workspace.delete()
    if "--write" in argv:
        path = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y-%m-%d}-profile.txt"
        with path.open("a") as f:
            f.write(f'# make bench BENCH_ARGS="profile {" ".join(argv)}"\n')
            f.writelines(f"{line}\n" for line in lines)
        lines = [*lines[:4], f"written to {path.relative_to(ROOT)}"]
    return lines
