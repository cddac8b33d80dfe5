"""Ingest throughput: accepted events/s through /v1/batch next to a bare Django view.

Both run on the same gunicorn server in the same run (the bare view exists only with
bench/settings.py), driven by the same load generator, so the ratio says what our work costs
on top of Django and HTTP. Then a Celery worker drains a fixed number of queued events into
PostgreSQL, end to end.

Options: --seconds=N (per measurement), --rounds=N, --clients=N, --e2e=0 (skip the worker
part).
"""

import http.client
import json
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BATCH = 100
ROOT = Path(__file__).resolve().parent.parent


def _option(argv: list[str], name: str, default: float) -> float:
    for arg in argv:
        if arg.startswith(f"--{name}="):
            return float(arg.split("=", 1)[1])
    return default


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def _batch_body(token: str, prefix: str, n: int, size: int) -> bytes:
    messages = [
        {
            "type": "track",
            "event": "Order Completed",
            "userId": f"user-{(n * size + i) % 1000}",
            "messageId": f"{prefix}-{n}-{i}",
            "timestamp": "2026-11-23T06:46:02.621+00:00",
            "properties": {"revenue": 42.5, "currency": "USD", "sku": f"sku-{i}"},
            "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
        }
        for i in range(size)
    ]
    return json.dumps(
        {"batch": messages, "sentAt": "2026-11-23T06:46:02.7+00:00", "writeKey": token}
    ).encode()


def _client(args: tuple[int, str, str, str, float, int, int]) -> tuple[int, int]:
    """One load-generating process: POST for `seconds`, count 200s and other replies."""
    port, path, token, prefix, seconds, size, worker = args
    ok = failed = n = 0
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    # Bodies are built before the clock starts, so the generator spends its CPU on sending.
    # Repeats are fine here: duplicates are dropped by the worker, not the endpoint.
    bodies = [_batch_body(token, f"{prefix}-{worker}", k, size) for k in range(20)]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = bodies[n % len(bodies)]
        n += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                ok += 1
            else:
                failed += 1
        except OSError:
            failed += 1
        finally:
            conn.close()
    return ok, failed


def _client_process(writer, args) -> None:
    writer.send(_client(args))
    writer.close()


def _load_counts(
    port: int, path: str, token: str, seconds: float, clients: int, size: int
) -> tuple[int, int, float]:
    """(200 replies, other replies, seconds taken) of `clients` processes posting for `seconds`.

    One process and one pipe per client, not multiprocessing.Pool: the pool's workers share a
    lock on their task queue, and a worker that died holding it (or was forked while another
    thread held it) left the pool's clean-up joining a worker that waits for it forever, which
    hung the e2e bench on a loaded machine. Here nothing is shared; a client that does not
    answer in time counts as failed and is killed.
    """
    prefix = uuid.uuid4().hex[:8]
    context = multiprocessing.get_context("fork")
    running = []
    ok = failed = 0
    started = time.monotonic()
    try:
        for worker in range(clients):
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(
                target=_client_process,
                args=(writer, (port, path, token, prefix, seconds, size, worker)),
                daemon=True,
            )
            process.start()
            writer.close()
            running.append((process, reader))
        for _, reader in running:
            try:
                if not reader.poll(seconds + 60):
                    raise EOFError
                good, bad = reader.recv()
            except (EOFError, OSError):
                good, bad = 0, 1
            ok += good
            failed += bad
        elapsed = time.monotonic() - started
    finally:
        for process, reader in running:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
            reader.close()
    return ok, failed, elapsed


def _load(port: int, path: str, token: str, seconds: float, clients: int, size: int):
    ok, failed, elapsed = _load_counts(port, path, token, seconds, clients, size)
    return ok / elapsed, failed


def server_env(stream: str) -> dict[str, str]:
    """The environment of a bench gunicorn: Windsor's settings plus the /bench/bare baseline
    (never in production URLs), queueing on `stream`, on the configured database."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "INGEST_STREAM": stream,
        "INGEST_REDIS_URL": settings.INGEST_REDIS_URL,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        # Plain http on 127.0.0.1: /bench/bare must not be redirected to https.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
    }


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
    from feed.models import Event

    seconds = _option(argv, "seconds", 3)
    rounds = int(_option(argv, "rounds", 3))
    clients = int(_option(argv, "clients", 4))
    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.create(name=f"bench-ingest-{uuid.uuid4().hex[:6]}")
    token = source_create(workspace=workspace, name="bench").token
    stream = f"bench:ingest:{uuid.uuid4().hex}"
    env = server_env(stream)
    port = _free_port()
    workers = str(max(2, os.cpu_count() or 2))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "windsor.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", workers, "--access-logfile", "-", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    lines: list[str] = []
    client = redis.Redis.from_url(settings.INGEST_REDIS_URL)
    try:
        _wait_port(port)
        _load(port, "/bench/bare", token, 1, clients, BATCH)  # warm up both paths
        _load(port, "/v1/batch", token, 1, clients, BATCH)
        # The machine is shared: measurements alternate over a few rounds and each keeps its
        # best, so that a burst of someone else's load does not decide the ratio.
        best: dict[tuple[str, int], float] = {}
        failures = 0
        for _ in range(rounds):
            for path, size in [
                ("/bench/bare", BATCH),
                ("/v1/batch", BATCH),
                ("/bench/bare", 1),
                ("/v1/batch", 1),
            ]:
                rate, failed = _load(port, path, token, seconds, clients, size)
                best[(path, size)] = max(best.get((path, size), 0.0), rate)
                failures += failed
        bare, ours = best[("/bench/bare", BATCH)], best[("/v1/batch", BATCH)]
        bare_one, one = best[("/bench/bare", 1)], best[("/v1/batch", 1)]
        lines += [
            f"bare Django view, same server: {bare:,.0f} req/s ({bare * BATCH:,.0f} events/s)",
            f"/v1/batch, {BATCH}-message batches: {ours:,.0f} req/s = {ours * BATCH:,.0f} "
            f"accepted events/s",
            f"ratio ingest/bare ({BATCH}-message batches): {ours / bare:.2f}",
            f"1 message per request (analytics.js style): bare {bare_one:,.0f} req/s, "
            f"/v1/batch {one:,.0f} events/s, ratio {one / bare_one:.2f}",
            f"non-200 replies: {failures}; gunicorn: {workers} sync workers, {clients} client "
            f"processes, best of {rounds} rounds of {seconds:g} s",
        ]
        lines.append(_bomb_line(port, token))
        client.delete(stream)
        if _option(argv, "e2e", 1):
            lines.append(_end_to_end(env, port, token, workspace, Event, client, stream))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        for key in client.keys(stream + "*"):
            client.delete(key)
        Event.objects.filter(workspace=workspace).delete()
        workspace.delete()
    return lines


def _bomb_line(port: int, token: str) -> str:
    import gzip

    bomb = gzip.compress(bytes(1024 * 1024)) * 1024
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    conn.request(
        "POST",
        "/v1/batch",
        body=bomb,
        headers={"Content-Encoding": "gzip", "Authorization": f"Bearer {token}"},
    )
    response = conn.getresponse()
    response.read()
    elapsed = time.monotonic() - started
    conn.close()
    return (
        f"gzip bomb ({len(bomb) / 1e6:.1f} MB -> 1 GB): HTTP {response.status} in "
        f"{elapsed * 1000:.0f} ms"
    )


def _end_to_end(env, port, token, workspace, event_model, client, stream) -> str:
    """Queue a fixed number of events, then time one Celery worker storing them all."""
    total = 10_000
    for n in range(total // BATCH):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            "/v1/batch",
            body=_batch_body(token, "e2e", n, BATCH),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        conn.getresponse().read()
        conn.close()
    queued = total
    schedule = Path(tempfile.mkdtemp()) / "beat"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "windsor", "worker", "-B", "--pool=solo",
         "--without-gossip", "--without-mingle", "--loglevel=WARNING",
         "-n", f"bench-{uuid.uuid4().hex[:6]}@%h", "--schedule", str(schedule)],
        cwd=ROOT, env={**env, "CELERY_BROKER_URL": env["INGEST_REDIS_URL"]},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.monotonic()
    stored = 0
    # The clock starts at the first stored batch, so the worker's start-up is not counted.
    first: tuple[float, int] | None = None
    try:
        deadline = started + 300
        while time.monotonic() < deadline:
            stored = event_model.objects.filter(workspace=workspace).count()
            if stored and first is None:
                first = (time.monotonic(), stored)
            if stored >= queued:
                break
            time.sleep(0.1)
        finished = time.monotonic()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    if first is None or stored <= first[1]:
        return f"end to end: {stored:,} of {queued:,} events stored within 300 s"
    rate = (stored - first[1]) / max(finished - first[0], 1e-6)
    return (
        f"end to end: {stored:,} of {queued:,} queued events stored by 1 Celery worker at "
        f"{rate:,.0f} events/s after its first batch ({settings_batch()} per batch)"
    )


def settings_batch() -> int:
    from django.conf import settings

    return settings.INGEST_BATCH_SIZE
