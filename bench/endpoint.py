"""The ingest endpoint alone: requests/s of /v1/batch against the bare view, same server, same run.

The bare view (bench/urls.py) reads the body, parses it and pushes it to Redis in one XADD, with
Windsor's middleware around it: the ceiling of an endpoint that must at least do that much. Both
are driven by the same load generator (bench/ingest.py), at 100-message batches and at one
message per request (analytics.js style). Faster than the e2e section (no workers, no database
writes beyond the source): for iterating on the request path.

Two ratios per size, each taken within one round (bare and ours measured back to back) and
reported as the median and range over the rounds. Requests/s, as the issue states the goal; on a
machine shared with other work they are noisy (the clients, the server and everyone else compete
for the same cores). And the server's CPU time per request (gunicorn's processes, read from /proc
before and after each measurement), which other load hardly moves: bare CPU per request / ours is
the requests/s ratio the server would reach when CPU-bound. Redis's own CPU is in neither.

With --against=PATH (another checkout, e.g. a detached worktree of main with the .venv symlink)
a second server runs that checkout's code on the same database and Redis; every round measures
both, in alternating order, and the report adds this checkout's ratio over the other's, round by
round: old against new in one sitting, the machine's drift shared by both.

With --profile, no server and no timing: cProfile of --requests=N (300) posts of --size=N (100)
messages through the view in this process, the --top=N (20) entries by own time and, of ingest's
and Windsor's functions, by cumulative time. Wall-clock times, inflated by the profiler for
Python calls: read the shares, and compare before/after in the same sitting.

Opt-in (`make bench BENCH_ARGS=endpoint`). Options: --seconds=N, --rounds=N (3), --clients=N,
--against=PATH, --profile, --write (append the lines to bench/results/<date>-endpoint.txt).
"""

import os
import re
import statistics
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path

from bench.cpu import tree_seconds
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


def _measure(port, path, token, seconds, clients, size, server) -> tuple[float, float, int]:
    """(requests/s, server CPU seconds per request, non-200 replies) of one measurement."""
    cpu = tree_seconds(server)
    ok, failed, elapsed = _load_counts(port, path, token, seconds, clients, size)
    cpu = tree_seconds(server) - cpu
    return ok / elapsed, cpu / max(ok, 1), failed


def _server(root: Path, env: dict[str, str], workers: str) -> tuple[subprocess.Popen, int]:
    """A gunicorn serving the checkout at `root` (its own code: the working directory comes
    first on sys.path), and its port."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "windsor.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", workers, "--log-level", "warning"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    return server, port


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def _spread(values: list[float]) -> str:
    """Median and range: `0.62 (0.55-0.69)`."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def _profile(token: str, requests: int, size: int, top: int) -> list[str]:
    """cProfile of `requests` posts of `size` messages through the real view in this process
    (Django's test client: the WSGI handler, the middleware and the view; Redis for real)."""
    import cProfile
    import io
    import pstats

    from django.test import Client

    from bench.ingest import _batch_body

    bodies = [_batch_body(token, "profile", k, size) for k in range(20)]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
    for body in bodies:  # warm: the token cache, the Redis connection, imports
        assert client.post("/v1/batch", body, content_type="application/json").status_code == 200
    profiler = cProfile.Profile()
    profiler.enable()
    for k in range(requests):
        client.post("/v1/batch", bodies[k % len(bodies)], content_type="application/json")
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(r"ingest/|orjson|windsor/", top)
    lines = [f"cProfile of {requests} requests of {size} messages through the view:"]
    for line in out.getvalue().splitlines():
        if line.strip() and not line.strip().startswith(("Ordered by", "List reduced")):
            # Paths from the checkout and the venv's site-packages, not the machine's.
            lines.append(re.sub(r"\S*/(site-packages|" + re.escape(ROOT.name) + ")/", "", line))
    return lines


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
    against = next((a.split("=", 1)[1] for a in argv if a.startswith("--against=")), None)
    # name -> checkout: this one, and with --against the other (old code), alternating.
    checkouts = {"this": ROOT}
    if against:
        checkouts["against"] = Path(against).resolve()
    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.create(name=f"bench-endpoint-{uuid.uuid4().hex[:6]}")
    token = source_create(workspace=workspace, name="bench").token
    stream = f"bench:endpoint:{uuid.uuid4().hex}"
    if "--profile" in argv:
        settings.INGEST_STREAM, settings.DEBUG = stream, False
        client = redis.Redis.from_url(settings.INGEST_REDIS_URL)
        try:
            lines = _profile(
                token, int(_option(argv, "requests", 300)), int(_option(argv, "size", BATCH)),
                int(_option(argv, "top", 20)),
            )  # fmt: skip
        finally:
            for key in client.scan_iter(stream + "*"):
                client.delete(key)
            workspace.delete()
        if "--write" in argv:
            lines.append(f"written to {results_append('endpoint', argv, lines)}")
        return lines
    env = server_env(stream)
    workers = str(max(2, os.cpu_count() or 2))
    servers = {name: _server(root, env, workers) for name, root in checkouts.items()}
    client = redis.Redis.from_url(settings.INGEST_REDIS_URL)
    load = f"{os.getloadavg()[0]:.2f}"
    # (checkout, size) -> one value per round; a ratio is taken within its round only.
    rates: dict[tuple[str, int], list[float]] = defaultdict(list)
    cpus: dict[tuple[str, int], list[float]] = defaultdict(list)
    ours_rate: dict[tuple[str, int], list[float]] = defaultdict(list)
    ours_cpu: dict[tuple[str, int], list[float]] = defaultdict(list)
    loads: list[float] = []
    failures = 0
    try:
        for _, port in servers.values():
            _wait_port(port)
            for path in ("/bench/bare", "/v1/batch"):  # warm up both paths
                _load(port, path, token, 1, clients, BATCH)
        for round_ in range(rounds):
            # Each round swaps which checkout goes first: drift in the machine's load then
            # favours neither.
            order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
            for size in (BATCH, 1):
                for name in order:
                    server, port = servers[name]
                    measured = {}
                    # Bare first in even rounds, ours first in odd ones (drift within a pair).
                    paths = ("/bench/bare", "/v1/batch")
                    for path in paths if round_ % 2 == 0 else paths[::-1]:
                        rate, per_request, failed = _measure(
                            port, path, token, seconds, clients, size, server.pid
                        )
                        measured[path] = (rate, per_request)
                        failures += failed
                        for key in client.scan_iter(stream + "*"):
                            client.delete(key)
                    (bare_rate, bare_cpu), (rate, cpu) = (measured[path] for path in paths)
                    rates[(name, size)].append(rate / bare_rate)
                    cpus[(name, size)].append(bare_cpu / cpu)
                    ours_rate[(name, size)].append(rate)
                    ours_cpu[(name, size)].append(cpu)
            loads.append(os.getloadavg()[0])
    finally:
        for server, _ in servers.values():
            _stop(server)
        for key in client.scan_iter(stream + "*"):
            client.delete(key)
        workspace.delete()
    lines = [f"load average at start: {load} ({os.cpu_count()} cores)"]
    if against:
        # The folder's name only: results files are committed, and a clone must not name a
        # machine's directories (.ci/run refuses that).
        lines.append(f"this checkout against ../{checkouts['against'].name}, alternating")
    for size in (BATCH, 1):
        for name in servers:
            label = f"{size}-message requests" + (f", {name}" if against else "")
            lines.append(
                f"{label}: req/s ratio {_spread(rates[(name, size)])}, CPU ratio "
                f"{_spread(cpus[(name, size)])}; /v1/batch "
                f"{statistics.median(ours_rate[(name, size)]):,.0f} req/s, "
                f"{statistics.median(ours_cpu[(name, size)]) * 1000:.2f} ms CPU per request"
            )
        if against:
            # This checkout's gain, round by round: its ratio over the other's in the same round.
            this, other = ("this", size), ("against", size)
            gain = [a / b for a, b in zip(cpus[this], cpus[other], strict=True)]
            gain_rate = [a / b for a, b in zip(rates[this], rates[other], strict=True)]
            lines.append(
                f"{size}-message requests, this / against: CPU ratio {_spread(gain)}, "
                f"req/s ratio {_spread(gain_rate)}"
            )
    lines.append(
        f"non-200 replies: {failures}; gunicorn {workers} sync workers each, {clients} client "
        f"processes, median (min-max) of {rounds} rounds of {seconds:g} s; load after each "
        f"round {' '.join(f'{v:.2f}' for v in loads)}"
    )
    if "--write" in argv:
        lines.append(f"written to {results_append('endpoint', argv, lines)}")
    return lines
