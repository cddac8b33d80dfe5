"""End to end: the whole pipeline on the production stack, each figure against its same-run ceiling.

gunicorn (Windsor plus the bare baseline view of bench/settings.py), real Celery worker processes,
PostgreSQL and Redis, fed a mixed stream of many users over HTTP: 10% identify (some of them
Engage audience syncs), 60% track, 25% page, 5% group, and a few aliases.

- accepted events/s through /v1/batch, against /bench/bare on the same server;
- stored events/s from the first stored event until the queue is drained, with 1, 2 and 4 worker
  processes, on one workspace and on four, against a raw COPY of as many event rows into a table
  with the event table's indexes, on the same PostgreSQL, with the cores the drain kept busy and
  whose they were (the harness's own share apart); progress is read from Redis, and PostgreSQL
  counted only before and after, so the measurement does not take the cores it measures;
- freshness: time from the 200 reply to the event's row being readable (the events table the Feed
  reads, by workspace and messageId), p50 and p95, while sending at half the sustained rate;
- each worker's RSS after its first stored batch and when the queue is drained.

Opt-in (`make bench BENCH_ARGS=e2e`): it takes minutes. Options: --events=N (queued per drain run;
default 20,000; the long run is --events=1000000), --workers=1,2,4, --workspaces=1,4,
--seconds=N (per accepted-rate measurement), --fresh-seconds=N, --clients=N, --users=N (distinct
users in each stored run's stream; default a tenth of --events: batches of one workspace then
share people, and two workers on one workspace take turns on them), --quick (a smoke run
of a few hundred events), --database=NAME (default: the configured one plus `_e2e`, created and
migrated when missing, so the harness never shares a database with tests or the dev server),
--redis-db=N (default: the configured one), --analyze-seconds=N (where autovacuum is off: how
often the harness's ANALYZE stand-in checks autovacuum's rule; default the server's
autovacuum_naptime), --write (save the lines to bench/results/).

Every process it starts (gunicorn, Celery) runs in a session of its own and is killed with its
children on exit, on Ctrl-C and on SIGTERM (Ctrl-C also when the bench was started with SIGINT
ignored, as background jobs are); an interrupted run ends within CLEANUP_SECONDS, status 130.
"""

import contextlib
import http.client
import json
import multiprocessing
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from bench.cpu import (
    DatabaseBackends,
    ServerTimes,
    machine_ticks,
    server_times,
    tree_seconds,
)
from bench.ingest import _free_port, _load, _option, _wait_port
from bench.results_file import results_append

ROOT = Path(__file__).resolve().parent.parent
BATCH = 100
SENT_AT = "2026-11-23T06:46:02.7+00:00"
# How often a drain reads its progress from Redis: the end is timed to within this.
POLL_SECONDS = 0.05


# --- The stream ------------------------------------------------------------------------------


def segment_stream(count: int, *, users: int, seed: int, prefix: str) -> list[dict]:
    """`count` Segment messages as senders send them: 10% identify (one in five of those an
    Engage audience sync), 60% track, 25% page, 5% group, and one alias per 500 messages."""
    return list(segment_messages(count, users=users, seed=seed, prefix=prefix))


def segment_messages(count: int, *, users: int, seed: int, prefix: str) -> Iterator[dict]:
    """segment_stream one message at a time: a long run's million messages never all in memory."""
    rng = random.Random(seed)
    for n in range(count):
        user = rng.randrange(users)
        base = {
            "messageId": f"{prefix}-{n}",
            "timestamp": f"2026-11-23T06:{(n // 60) % 60:02d}:{n % 60:02d}.000+00:00",
            "context": {
                "library": {"name": "analytics.js", "version": "5.2.0"},
                "ip": f"10.0.{user % 250}.{user % 200}",
                "page": {"path": "/pricing", "url": "https://example.com/pricing"},
            },
        }
        # Visitors are anonymous until they identify: a third of the calls carry only a device id.
        if user % 3 == 0:
            base["anonymousId"] = f"anon-{user}"
        else:
            base["userId"] = f"user-{user}"
            base["anonymousId"] = f"anon-{user}"
        roll = rng.random()
        if n % 500 == 499:
            message = {
                **base,
                "type": "alias",
                "userId": f"user-{user}",
                "previousId": f"legacy-{user}",
            }
        elif roll < 0.10:
            message = {
                **base,
                "type": "identify",
                "userId": f"user-{user}",
                "traits": {"email": f"u{user}@example.com", "name": f"User {user}", "plan": "pro"},
            }
            if rng.random() < 0.2:
                message["context"] = {
                    **base["context"],
                    "personas": {"computation_class": "audience", "computation_key": "buyers"},
                }
                message["traits"] = {"buyers": True}
        elif roll < 0.70:
            message = {
                **base,
                "type": "track",
                "event": rng.choice(["Order Completed", "Product Viewed", "Signed In"]),
                "properties": {"revenue": round(rng.random() * 100, 2), "sku": f"sku-{n % 97}"},
            }
        elif roll < 0.95:
            message = {**base, "type": "page", "name": "Pricing", "properties": {"path": "/p"}}
        else:
            message = {
                **base,
                "type": "group",
                "userId": f"user-{user}",
                "groupId": f"org-{user % 40}",
                "traits": {"name": f"Org {user % 40}"},
            }
        yield message


def _body(token: str, messages: list[dict]) -> bytes:
    return json.dumps({"batch": messages, "sentAt": SENT_AT, "writeKey": token}).encode()


def _post(port: int, token: str, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/v1/batch",
            body=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


# --- Processes -------------------------------------------------------------------------------


class Processes:
    """The processes a run started: each in its own session, killed with its children."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen, *, grace: float = 20) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # A Celery prefork child or gunicorn worker left behind by its master.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self, processes: list[subprocess.Popen] | None = None) -> None:
        """Stop `processes` (default: every one) at once: one grace period in all, not one per
        process (gunicorn and four workers one after the other took minutes on a loaded box).
        An interrupted run gives them a short one: nothing they would finish is wanted."""
        running = list(self.running if processes is None else processes)
        grace = 3 if _stopping.is_set() else 20
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        for process in running:
            self.stop(process, grace=10)  # SIGKILL for what outlived the grace, and its children

    def kill_all(self) -> None:
        """SIGKILL every process group now, without waiting: for the watchdog, which must not
        block on anything the main thread may hold."""
        for process in list(self.running):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# --- The run ---------------------------------------------------------------------------------


def _database_use(name: str) -> None:
    """Point this process at database `name`, creating and migrating it when missing."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if name.startswith("test_"):
        raise SystemExit(f"refusing to run on {name}: test databases belong to pytest")
    import psycopg

    # Through the server's maintenance database: DATABASE_URL's own may not exist (pytest-django
    # makes only test_<name>, e.g. under python -m mutants).
    params = {**connection.get_connection_params(), "dbname": "postgres", "autocommit": True}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    # The same dict backs every thread's connection; settings too, for anything that reads it.
    connection.settings_dict["NAME"] = name
    settings.DATABASES["default"]["NAME"] = name
    call_command("migrate", verbosity=0)


@dataclass(frozen=True)
class CpuReading:
    """What `_cpu_line` compares: read at the first stored batch and when the queue is drained
    (the machine, the workers and PostgreSQL are not polled in between: reading /proc is
    itself CPU on the cores being measured)."""

    machine: tuple[int, int]  # busy and total clock ticks of all cores
    workers: float  # the worker processes' CPU seconds, their children's included
    server: ServerTimes  # PostgreSQL's, closed backends included
    harness: float  # this process's CPU seconds (its poll loop and the stand-in's thread)
    ours: dict[tuple[int, int], float]  # the bench database's backends (DatabaseBackends)


def _cpu_now(procs: list[subprocess.Popen], backends: DatabaseBackends) -> CpuReading:
    return CpuReading(
        machine=machine_ticks(),
        workers=sum(tree_seconds(p.pid) for p in procs),
        server=server_times("postgres"),
        harness=time.process_time(),
        ours=backends.poll(),
    )


def _backends_added(start: CpuReading, end: CpuReading, pids: set[int] | None) -> float:
    """CPU seconds the bench database's backends used from `start` to `end` (all of theirs
    for one started since), of those with a pid in `pids` (None: all)."""
    return sum(
        seconds - start.ours.get(key, 0.0)
        for key, seconds in end.ours.items()
        if pids is None or key[0] in pids
    )


def _cpu_line(
    start: CpuReading,
    end: CpuReading,
    seconds: float,
    *,
    harness_pids: set[int],
    stand_in_pid: int | None,
) -> str:
    """How many cores the drain kept busy, and whose: on a machine where one worker and
    PostgreSQL already fill most cores, more workers can only share them. The parts add up to
    the cores busy: "other processes" is what the workers, PostgreSQL and the harness's own
    process leave (gunicorn idling, Redis, whatever else runs on the machine). PostgreSQL is the
    whole server, closed backends included; of it, this database's live backends and, among
    them, the harness's own (its ANALYZE stand-in's connection and its main one)."""
    (busy0, total0), (busy1, total1) = start.machine, end.machine
    cores = os.cpu_count() or 1
    busy = (busy1 - busy0) / max(total1 - total0, 1) * cores
    workers = (end.workers - start.workers) / seconds
    postgres = (end.server.total - start.server.total) / seconds
    harness = (end.harness - start.harness) / seconds
    ours = _backends_added(start, end, None) / seconds
    harness_backends = _backends_added(start, end, harness_pids) / seconds
    analyze = (
        _backends_added(start, end, {stand_in_pid}) / seconds if stand_in_pid is not None else 0.0
    )
    other = busy - workers - postgres - harness
    return (
        f"CPU while draining: {busy:.2f} of {cores} cores busy "
        f"(workers {workers:.2f}, PostgreSQL {postgres:.2f}, the harness's process {harness:.2f}, "
        f"other processes {other:.2f}; of PostgreSQL's, this database's backends {ours:.2f}, "
        f"the harness's among them {harness_backends:.2f}, its ANALYZE stand-in's {analyze:.2f})"
    )


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def run(argv: list[str]) -> list[str]:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return ["skipped: needs PostgreSQL (DATABASE_URL)"]
    if not settings.INGEST_REDIS_URL:
        return ["skipped: needs Redis (CELERY_BROKER_URL or INGEST_REDIS_URL)"]
    quick = "--quick" in argv
    db = settings.DATABASES["default"]
    name = next(
        (a.split("=", 1)[1] for a in argv if a.startswith("--database=")), f"{db['NAME']}_e2e"
    )
    _database_use(name)
    redis_url = settings.INGEST_REDIS_URL
    redis_db = next((a.split("=", 1)[1] for a in argv if a.startswith("--redis-db=")), None)
    if redis_db is not None:
        redis_url = redis_url.rsplit("/", 1)[0] + f"/{int(redis_db)}"
    options = {
        "events": int(_option(argv, "events", 600 if quick else 20_000)),
        "workers": [
            int(w)
            for w in next(
                (a.split("=", 1)[1] for a in argv if a.startswith("--workers=")),
                "1" if quick else "1,2,4",
            ).split(",")
        ],
        "workspaces": [
            int(w)
            for w in next(
                (a.split("=", 1)[1] for a in argv if a.startswith("--workspaces=")),
                "1" if quick else "1,4",
            ).split(",")
        ],
        "seconds": _option(argv, "seconds", 1 if quick else 5),
        "fresh": _option(argv, "fresh-seconds", 3 if quick else 20),
        "clients": int(_option(argv, "clients", 2 if quick else 4)),
        "users": int(_option(argv, "users", 0)),
        "analyze_seconds": next(
            (float(a.split("=", 1)[1]) for a in argv if a.startswith("--analyze-seconds=")), None
        ),
    }
    harness = Harness(db, name, redis_url, options)
    _stopping.clear()
    _running.append(harness.processes)
    # SIGINT too, explicitly: a command started with `&` by a non-interactive shell (as CI starts
    # its jobs) inherits SIGINT ignored, Python then raises no KeyboardInterrupt, and Ctrl-C did
    # nothing: the bench ran on to its end, many minutes later.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            lines = harness.run()
        finally:
            harness.close()
    except KeyboardInterrupt:
        _interrupted_exit(harness.processes)
    finally:
        _running.clear()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if "--write" in argv:
        lines.append(f"written to {results_append('e2e', argv, lines)}")
    return lines


_MAIN_PID = os.getpid()
# After Ctrl-C or SIGTERM, the clean-up (stopping processes, deleting the run's rows and keys) gets
# this long (stopping takes seconds; deleting a big run's rows may not); then a watchdog thread
# kills every process group the run started and exits.
CLEANUP_SECONDS = 120
_running: list[Processes] = []  # the current run's processes, for the signal handler
_stopping = threading.Event()


def _interrupt(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM: the main process stops and cleans up, within CLEANUP_SECONDS.

    Forked load generators inherit this handler: they leave Ctrl-C (sent to the whole terminal
    process group) to the main process, which kills them (bench.ingest._load_counts), and exit on
    SIGTERM. A second signal kills everything at once.
    """
    if os.getpid() != _MAIN_PID:
        if signum != signal.SIGINT:
            os._exit(1)
        return
    if _stopping.is_set():
        _kill_and_exit(130)
    _stopping.set()
    threading.Thread(target=_watchdog, name="bench-e2e-watchdog", daemon=True).start()
    raise KeyboardInterrupt


def _watchdog() -> None:
    # A thread, not an alarm: it runs whatever the main thread is blocked in, interpreter
    # shutdown included (multiprocessing joins its children there, without a timeout).
    time.sleep(CLEANUP_SECONDS)
    print(f"bench e2e: clean-up took over {CLEANUP_SECONDS} s; killing", file=sys.stderr)
    _kill_and_exit(1)


def _kill_and_exit(code: int) -> None:
    for processes in _running:
        processes.kill_all()
    for child in multiprocessing.active_children():
        with contextlib.suppress(OSError):
            child.kill()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _interrupted_exit(processes: Processes) -> None:
    """After an interrupted run was cleaned up: exit now, with the shell's Ctrl-C status.

    Not through the interpreter's shutdown: a load generator pool caught half built by the
    interrupt leaves workers that multiprocessing's exit handler would join forever.
    """
    print("bench e2e: interrupted; stopped every process it started", file=sys.stderr)
    _kill_and_exit(130)


# The tables a batch reads and writes, whose statistics the planner uses for its statements.
ANALYZED_TABLES = ["people_identity", "people_person", "people_group", "feed_event"]
# Autovacuum's own rule for ANALYZE, with the server's settings: a table whose rows changed by
# more than the threshold plus the scale factor of its row count since its last ANALYZE.
ANALYZE_DUE = """
    SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.schemaname = current_schema() AND s.relname = ANY(%s)
      AND s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float
          + current_setting('autovacuum_analyze_scale_factor')::float * greatest(c.reltuples, 0)
    ORDER BY s.relname
"""


class AutovacuumStandIn:
    """ANALYZE what autovacuum would, on a server where it is off (a development or CI
    PostgreSQL): without statistics the planner scans people_identity whole for every batch, and
    the drain slows down as the tables grow, which a production server never sees.

    As autovacuum does: the tables whose rows changed by autovacuum_analyze_threshold plus
    autovacuum_analyze_scale_factor of their row count, checked once at the workers' start and
    then every `every` seconds (autovacuum_naptime: the launcher visits a database that often).
    On a thread and a connection of its own, so that an ANALYZE never holds up the poll that sees
    the drain end, and its backend's CPU is told apart (`pid`). It used to ANALYZE all four
    tables each time the events grew by a tenth, every second or so on the bench's young
    tables, in the poll loop: 0.22-0.31 of a core of the 2 it measured, when the count polls
    took 0.01-0.02 (read per statement from its backend's /proc figures).
    """

    def __init__(self, every: float, tables: list[str] = ANALYZED_TABLES) -> None:
        self.every = max(0.1, every)
        self.tables = tables
        self.pid: int | None = None
        self.analyzed: list[str] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-e2e-analyze", daemon=True)
        self._thread.start()
        self._connected.wait(timeout=30)

    def _run(self) -> None:
        from django.db import connection

        try:
            connection.ensure_connection()
            self.pid = connection.connection.info.backend_pid
            self._connected.set()
            while True:
                with connection.cursor() as cursor:
                    cursor.execute(ANALYZE_DUE, [self.tables])
                    for (table,) in cursor.fetchall():
                        if self._stop.is_set():
                            return
                        cursor.execute(f'ANALYZE "{table}"')
                        self.analyzed.append(table)
                if self._stop.wait(self.every):
                    return
        except BaseException as exc:  # reported by close(), in the main thread
            self.error = exc
        finally:
            self._connected.set()
            connection.close()

    def close(self) -> None:
        """Stop (an ANALYZE under way ends first) and raise what failed: a drain measured
        without the statistics autovacuum would keep is not the drain it claims to be."""
        self._stop.set()
        self._thread.join(timeout=60)
        if self.error is not None:
            raise RuntimeError(f"the ANALYZE stand-in failed: {self.error!r}") from self.error


class Harness:
    def __init__(self, db: dict, name: str, redis_url: str, options: dict) -> None:
        import redis

        self.options = options
        self.database = name
        self.processes = Processes()
        self.stream = f"bench:e2e:{uuid.uuid4().hex}"
        self.redis_url = redis_url
        self.redis = redis.Redis.from_url(redis_url)
        self.workspaces: list = []
        self.tmp = Path(tempfile.mkdtemp(prefix="windsor-e2e-"))
        self.env = dict(os.environ)
        self.env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            INGEST_STREAM=self.stream,
            INGEST_REDIS_URL=redis_url,
            CELERY_BROKER_URL=redis_url,
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
            DJANGO_SECURE_SSL_REDIRECT="0",
            WINDSOR_VAR_DIR=str(self.tmp),
            DATABASE_URL=(
                f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{name}"
            ),
        )

    # Set-up and tear-down -------------------------------------------------------------------

    def workspaces_make(self, count: int) -> list[tuple[object, str]]:
        from accounts.models import Workspace
        from accounts.services import source_create

        made = []
        for _ in range(count):
            workspace = Workspace.objects.create(name=f"bench-e2e-{uuid.uuid4().hex[:6]}")
            self.workspaces.append(workspace)
            made.append((workspace, source_create(workspace=workspace, name="bench").token))
        return made

    def close(self) -> None:
        self.processes.stop_all()
        for key in self.redis.scan_iter(self.stream + "*"):
            self.redis.delete(key)
        from django.db import connection

        with connection.cursor() as cursor:
            for workspace in self.workspaces:
                cursor.execute("DELETE FROM feed_event WHERE workspace_id = %s", [workspace.pk])
                workspace.delete()
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)

    def server_start(self) -> int:
        port = _free_port()
        self.server = self.processes.start(
            [sys.executable, "-m", "gunicorn", "windsor.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(max(2, os.cpu_count() or 2)), "--log-level", "warning"],
            self.env,
        )  # fmt: skip
        _wait_port(port)
        return port

    def workers_start(self, count: int) -> list[subprocess.Popen]:
        """`count` worker processes (solo pool: one process each, as `-c N` forks N); the first
        also runs beat, whose periodic drain is the safety net the Procfile's beat gives."""
        started = []
        for n in range(count):
            args = [sys.executable, "-m", "celery", "-A", "windsor", "worker", "--pool=solo",
                    "--without-gossip", "--without-mingle", "--loglevel=WARNING",
                    "-n", f"e2e{n}-{uuid.uuid4().hex[:6]}@%h"]  # fmt: skip
            if n == 0:
                args += ["-B", "--schedule", str(self.tmp / "beat")]
            started.append(self.processes.start(args, self.env))
        return started

    def queue_reset(self) -> None:
        for key in self.redis.scan_iter(self.stream + "*"):
            self.redis.delete(key)

    # Measurements ---------------------------------------------------------------------------

    def run(self) -> list[str]:
        from django.db import connection

        o = self.options
        lines = [f"load average at start: {_load_average()} ({os.cpu_count()} cores)"]
        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            self.autovacuum = cursor.fetchone()[0] == "on"
            cursor.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum_naptime',"
                " 'autovacuum_analyze_threshold', 'autovacuum_analyze_scale_factor')"
            )
            server = dict(cursor.fetchall())
        naptime = float(server["autovacuum_naptime"])  # in seconds
        self.analyze_every = o["analyze_seconds"] if o["analyze_seconds"] is not None else naptime
        if not self.autovacuum:
            lines.append(
                "autovacuum is off on this server: the harness ANALYZEs the people and event "
                "tables as autovacuum would, each one whose rows changed by more than "
                f"{server['autovacuum_analyze_threshold']} + "
                f"{server['autovacuum_analyze_scale_factor']} of its row count, checked at the "
                f"workers' start and every {self.analyze_every:g} s (autovacuum_naptime "
                f"{naptime:g} s), on a connection of its own"
            )
        lines.append(
            f"stored: timed from the first stored batch until the queue is drained, both seen "
            f"in Redis every {POLL_SECONDS:g} s (the workers' own count of stored events, and "
            "the stream's length); PostgreSQL counted once before and once after each drain, "
            "which must find exactly the events queued"
        )
        port = self.server_start()
        (workspace, token), *_ = self.workspaces_make(1)
        lines += self.accepted(port, token)
        self.queue_reset()
        copy_rate = self.copy_rate(o["events"])
        lines.append(
            f"ceiling: raw COPY of {o['events']:,} event rows into a table with feed_event's "
            f"indexes: {copy_rate:,.0f} rows/s"
        )
        one_worker = None
        for spread in o["workspaces"]:
            targets = [(workspace, token)] if spread == 1 else self.workspaces_make(spread)
            for workers in o["workers"]:
                rate, line = self.stored(port, targets, workers, o["events"], copy_rate)
                lines.append(line)
                if spread == 1 and workers == 1:
                    one_worker = rate
        if one_worker:
            lines.append(self.freshness(port, workspace, token, one_worker / 2, o["fresh"]))
        lines.append(f"load average at end: {_load_average()}")
        return lines

    def accepted(self, port: int, token: str) -> list[str]:
        o = self.options
        _load(port, "/bench/bare", token, 1, o["clients"], BATCH)  # warm up both paths
        _load(port, "/v1/batch", token, 1, o["clients"], BATCH)
        best = {"/bench/bare": 0.0, "/v1/batch": 0.0}
        failures = 0
        for _ in range(2):
            for path in best:
                rate, failed = _load(port, path, token, o["seconds"], o["clients"], BATCH)
                best[path] = max(best[path], rate)
                failures += failed
                self.queue_reset()  # what this queued is not the stored measurement's
        bare, ours = best["/bench/bare"], best["/v1/batch"]
        return [
            f"accepted: /v1/batch {ours * BATCH:,.0f} events/s ({ours:,.0f} req/s of {BATCH}) "
            f"against the bare view {bare * BATCH:,.0f}: ratio {ours / bare:.2f} "
            f"({o['clients']} clients, best of 2 x {o['seconds']:g} s, {failures} non-200)"
        ]

    def copy_rate(self, count: int) -> float:
        """Raw COPY of `count` event rows built from the same stream: the storage ceiling."""
        from django.db import connection, transaction

        messages = segment_messages(count, users=max(100, count // 10), seed=1, prefix="copy")
        workspace_id = self.workspaces[0].pk
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_e2e_copy (LIKE feed_event INCLUDING ALL)")
            with cursor.cursor.copy(
                "COPY bench_e2e_copy (workspace_id, type, name, properties, context, message_id,"
                " timestamp, received_at, hidden, raw, warnings) FROM STDIN"
            ) as copy:
                for m in messages:
                    copy.write_row(
                        (
                            workspace_id,
                            m["type"],
                            m.get("event") or m.get("name") or "",
                            json.dumps(m.get("properties") or m.get("traits") or {}),
                            json.dumps(m["context"]),
                            m["messageId"],
                            m["timestamp"],
                            m["timestamp"],
                            m["type"] == "page",
                            json.dumps(m),
                            "[]",
                        )
                    )
        took = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_e2e_copy")
        return count / took

    def stored(self, port, targets, workers, count, copy_rate) -> tuple[float, str]:
        """Queue `count` messages over HTTP with no worker running, then start `workers` worker
        processes and time them from the first stored batch until every event is stored.

        Progress is read from Redis, not PostgreSQL: the workers' own count of the events they
        stored (ingest/counters.py, added when a batch commits) and the stream's length (an
        entry is deleted when acknowledged, after its batch committed). Polling PostgreSQL is
        work on the cores being measured, and the loop that polled it also ran the ANALYZEs, so
        it saw the end up to an ANALYZE late. PostgreSQL is counted once before and once when
        the drain is seen to end: it must hold exactly the events queued, none lost, none twice,
        whatever the counter said."""
        from django.db import connection

        from feed.models import Event

        self.queue_reset()
        ids = [w.pk for w, _ in targets]
        before = Event.objects.filter(workspace_id__in=ids).count()
        prefix = uuid.uuid4().hex[:8]
        users = self.options.get("users") or max(100, count // 10)
        messages = segment_messages(count, users=users, seed=7, prefix=prefix)
        for n in range(-(-count // BATCH)):
            _, token = targets[n % len(targets)]
            status = _post(port, token, _body(token, list(islice(messages, BATCH))))
            if status != 200:
                raise RuntimeError(f"/v1/batch answered {status} while queueing")
        # Repeated user ids in an identify/alias may drop nothing: every message is an event.
        expected = before + count
        connection.ensure_connection()
        harness_pids = {connection.connection.info.backend_pid}
        procs = self.workers_start(workers)
        launched = time.monotonic()
        stand_in = None if self.autovacuum else AutovacuumStandIn(self.analyze_every)
        if stand_in is not None and stand_in.pid is not None:
            harness_pids.add(stand_in.pid)
        backends = DatabaseBackends(self.database)
        first: tuple[float, int] | None = None
        rss_first: list[float] = []
        done = 0
        samples: list[tuple[int, float]] = []  # (events stored, first worker's RSS) every 30 s
        next_sample = time.monotonic() + 30
        deadline = time.monotonic() + max(120, count / 200)
        try:
            while time.monotonic() < deadline:
                done, left = self.progress()
                now = time.monotonic()
                if done > 0 and first is None:
                    first = (now, done)
                    rss_first = [_rss_mb(p.pid) for p in procs]
                    cpu_first = _cpu_now(procs, backends)
                # An empty stream is drained too: a counter that failed to count (it is best
                # effort) must not keep the bench waiting; the count below decides.
                if first is not None and (done >= count or left == 0):
                    break
                if first is not None:
                    backends.poll()
                if now >= next_sample:
                    samples.append((done, _rss_mb(procs[0].pid)))
                    next_sample += 30
                time.sleep(POLL_SECONDS)
            finished = time.monotonic()
            rss_end = [_rss_mb(p.pid) for p in procs]
            cpu_end = _cpu_now(procs, backends) if first is not None else None
            # Counted before the workers stop (a stopping worker finishes its batch): what was
            # called drained must already be in PostgreSQL.
            stored = Event.objects.filter(workspace_id__in=ids).count()
        finally:
            try:
                if stand_in is not None:
                    stand_in.close()
            finally:
                self.processes.stop_all(procs)
        label = f"{workers} worker{'s' if workers > 1 else ''}, {len(targets)} workspace" + (
            "s" if len(targets) > 1 else ""
        )
        if first is None or stored < expected:
            return 0.0, f"stored, {label}: only {stored - before:,} of {count:,} within the limit"
        if stored > expected:
            return 0.0, (
                f"stored, {label}: {stored - before:,} events for {count:,} messages queued: "
                "some stored twice"
            )
        # After the first stored batch, so start-up is not counted; a run so small that one
        # batch held nearly all of it falls back to the time since the workers started.
        if count - first[1] >= count // 2 and finished - first[0] > 0.5:
            rate, since = (count - first[1]) / (finished - first[0]), "the first stored batch"
        else:
            rate, since = count / (finished - launched), "the workers' start"
        rss = ", ".join(f"{a:.0f}->{b:.0f}" for a, b in zip(rss_first, rss_end, strict=True))
        cpu = _cpu_line(
            cpu_first, cpu_end, finished - first[0],
            harness_pids=harness_pids, stand_in_pid=stand_in.pid if stand_in else None,
        )  # fmt: skip
        analyzed = (
            f"; ANALYZE stand-in: {len(stand_in.analyzed)} table(s) analyzed"
            + (
                " ("
                + ", ".join(f"{t} x{n}" for t, n in sorted(Counter(stand_in.analyzed).items()))
                + ")"
                if stand_in.analyzed
                else ""
            )
            if stand_in is not None
            else ""
        )
        return rate, (
            f"stored, {label}: {rate:,.0f} events/s from {since} until {count:,} were "
            f"drained ({finished - launched:.1f} s after start): "
            f"ratio to COPY {rate / copy_rate:.3f}; "
            f"worker RSS MB first batch->drained: {rss}; "
            f"{cpu}{analyzed}; load {_load_average()}"
            + (
                "; first worker's RSS every 30 s: "
                + ", ".join(f"{mb:.0f} MB at {n:,}" for n, mb in samples)
                if samples
                else ""
            )
        )

    def progress(self) -> tuple[int, int]:
        """The events the workers counted as stored, and the entries left in the stream: one
        round trip to Redis (ingest/counters.py keeps the count at `<stream>:counters`)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(f"{self.stream}:counters", "events_stored")
        pipe.xlen(self.stream)
        stored, left = pipe.execute()
        return int(stored or 0), int(left)

    def freshness(self, port, workspace, token, rate, seconds) -> str:
        """Send 10-message batches at `rate` events/s with one worker running and time each
        message from its 200 reply until its row is readable by workspace and messageId."""
        from django.db import connection

        from feed.models import Event

        self.queue_reset()
        procs = self.workers_start(1)
        size = 10
        sent: dict[str, float] = {}
        seen: dict[str, float] = {}
        lock = threading.Lock()
        done = threading.Event()

        def watch() -> None:
            try:
                while not done.is_set() or len(seen) < len(sent):
                    with lock:
                        waiting = [m for m in sent if m not in seen]
                    if waiting:
                        found = Event.objects.filter(
                            workspace=workspace, message_id__in=waiting
                        ).values_list("message_id", flat=True)
                        now = time.monotonic()
                        for message_id in found:
                            seen[message_id] = now
                    if done.is_set() and time.monotonic() > done_at[0] + 60:
                        return
                    time.sleep(0.02)
            finally:
                connection.close()

        done_at = [0.0]
        watcher = threading.Thread(target=watch, daemon=True)
        try:
            # Wait for the worker to be up (its first drain stores a probe) before timing.
            probe = segment_stream(1, users=10, seed=3, prefix=f"probe-{uuid.uuid4().hex[:6]}")
            _post(port, token, _body(token, probe))
            wait_until = time.monotonic() + 60
            while not Event.objects.filter(
                workspace=workspace, message_id=probe[0]["messageId"]
            ).exists():
                if time.monotonic() > wait_until:
                    return "freshness: the worker stored nothing within 60 s"
                time.sleep(0.1)
            rss_start = _rss_mb(procs[0].pid)
            watcher.start()
            prefix = uuid.uuid4().hex[:8]
            total = max(size, int(rate * seconds))
            messages = segment_stream(total, users=max(100, total // 10), seed=11, prefix=prefix)
            interval = size / rate
            started = time.monotonic()
            for n, start in enumerate(range(0, total, size)):
                pause = started + n * interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                chunk = messages[start : start + size]
                _post(port, token, _body(token, chunk))
                replied = time.monotonic()
                with lock:
                    for m in chunk:
                        sent[m["messageId"]] = replied
            done_at[0] = time.monotonic()
            done.set()
            watcher.join(timeout=90)
            rss_end = _rss_mb(procs[0].pid)
        finally:
            done.set()
            self.processes.stop_all(procs)
        delays = sorted(seen[m] - sent[m] for m in sent if m in seen)
        if not delays:
            return "freshness: nothing became readable"
        p50 = statistics.median(delays)
        p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
        return (
            f"freshness at {rate:,.0f} events/s (half of 1 worker's sustained rate), "
            f"{len(delays):,} of {len(sent):,} messages seen: 200 reply -> readable p50 "
            f"{p50 * 1000:,.0f} ms, p95 {p95 * 1000:,.0f} ms (polled every 20 ms); "
            f"worker RSS {rss_start:.0f}->{rss_end:.0f} MB"
        )
