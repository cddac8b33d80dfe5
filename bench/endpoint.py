"""The ingest endpoint alone: requests/s of /v1/batch against the bare view, same server, same run.

The bare view (bench/urls.py) reads the body, parses it and pushes it to Redis in one XADD, with
Windsor's middleware around it: the ceiling of an endpoint that must at least do that much. Both
are driven by the same load generator (bench/ingest.py), alternating over a few rounds, each
keeping its best, at 100-message batches and at one message per request (analytics.js style).
Faster than the e2e section (no workers, no database writes beyond the source): for iterating on
the request path.

Two ratios per size. Requests/s, as the issue states the goal; on a machine shared with other
work they are noisy (the clients, the server and everyone else compete for the same cores). And
the server's CPU time per request (gunicorn's processes, read from /proc before and after each
measurement), which other load hardly moves: bare CPU per request / ours is the requests/s ratio
the server would reach when CPU-bound. Redis's own CPU is in neither.

Opt-in (`make bench BENCH_ARGS=endpoint`). Options: --seconds=N, --rounds=N, --clients=N,
--write (append the lines to bench/results/<date>-endpoint.txt).
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from bench.ingest import (
    BATCH,
    _free_port,
    _load,
    _load_counts,
    _option,
    _wait_port,
    server_env,
)
from bench.results_file import results_append

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(root: int) -> float:
    """User + system CPU of process `root` and its children (gunicorn's master and workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, ..., utime and stime are the 12th and 13th.
        if int(entry.name) == root or int(fields[1]) == root:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def _measure(port, path, token, seconds, clients, size, server) -> tuple[float, float, int]:
    """(requests/s, server CPU seconds per request, non-200 replies) of one measurement."""
    cpu = _cpu_seconds(server)
    ok, failed, elapsed = _load_counts(port, path, token, seconds, clients, size)
    cpu = _cpu_seconds(server) - cpu
    return ok / elapsed, cpu / max(ok, 1), failed


def run(argv: list[str]) -> list[str]:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return ["skipped: needs PostgreSQL (DATABASE_URL)"]
    if not settings.INGEST_REDIS_URL:
        return ["skipped: needs Redis (CELERY_BROKER_URL or INGEST_REDIS_URL)"]
    import redis
    from django.core.management import call_command

    from accounts.models import Workspace
    from accounts.services import source_create

    seconds = _option(argv, "seconds", 3)
    rounds = int(_option(argv, "rounds", 3))
    clients = int(_option(argv, "clients", 4))
    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.create(name=f"bench-endpoint-{uuid.uuid4().hex[:6]}")
    token = source_create(workspace=workspace, name="bench").token
    stream = f"bench:endpoint:{uuid.uuid4().hex}"
    env = server_env(stream)
    port = _free_port()
    workers = str(max(2, os.cpu_count() or 2))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "windsor.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", workers, "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    client = redis.Redis.from_url(settings.INGEST_REDIS_URL)
    load = f"{os.getloadavg()[0]:.2f}"
    try:
        _wait_port(port)
        for path in ("/bench/bare", "/v1/batch"):  # warm up both paths
            _load(port, path, token, 1, clients, BATCH)
        best: dict[tuple[str, int], float] = {}
        cpu: dict[tuple[str, int], float] = {}  # the least CPU per request of the rounds
        failures = 0
        for _ in range(rounds):
            for size in (BATCH, 1):
                for path in ("/bench/bare", "/v1/batch"):
                    rate, per_request, failed = _measure(
                        port, path, token, seconds, clients, size, server.pid
                    )
                    best[(path, size)] = max(best.get((path, size), 0.0), rate)
                    cpu[(path, size)] = min(cpu.get((path, size), float("inf")), per_request)
                    failures += failed
                    for key in client.scan_iter(stream + "*"):
                        client.delete(key)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        for key in client.scan_iter(stream + "*"):
            client.delete(key)
        workspace.delete()
    lines = [f"load average at start: {load} ({os.cpu_count()} cores)"]
    for size in (BATCH, 1):
        bare, ours = best[("/bench/bare", size)], best[("/v1/batch", size)]
        lines.append(
            f"{size}-message requests: /v1/batch {ours:,.0f} req/s, bare view {bare:,.0f} req/s: "
            f"ratio {ours / bare:.2f}; server CPU per request {cpu[('/v1/batch', size)] * 1000:.2f}"
            f" ms against {cpu[('/bench/bare', size)] * 1000:.2f} ms: ratio "
            f"{cpu[('/bench/bare', size)] / cpu[('/v1/batch', size)]:.2f}"
        )
    lines.append(
        f"non-200 replies: {failures}; gunicorn {workers} sync workers, {clients} client "
        f"processes, best of {rounds} rounds of {seconds:g} s; load at end "
        f"{os.getloadavg()[0]:.2f}"
    )
    if "--write" in argv:
        lines.append(f"written to {results_append('endpoint', argv, lines)}")
    return lines
