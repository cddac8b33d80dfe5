"""`make bench e2e` at a tiny size, so the harness does not rot: it runs the whole pipeline, prints
every figure, and leaves no process behind, also when interrupted with Ctrl-C.

The bench runs as `python -m bench` would, against a redis-server of this test's own (so its
keys and Celery tasks stay out of every other Redis) and DATABASE_URL's server, where it uses a
database of its own (`<name>_e2e`), never the test database.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.http import free_port
from tests.services import REQUIRE_SERVICES, redis_ready

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parent.parent.parent
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture
def bench_env():
    """The environment for the bench: a throwaway redis-server; the rest as the suite's."""
    if not Path(REDIS_SERVER).exists():
        reason = "needs redis-server (apt-get install redis-server)"
        pytest.fail(reason) if REQUIRE_SERVICES else pytest.skip(reason)
    port = free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    redis_ready(client)
    env = {**os.environ, "CELERY_BROKER_URL": url, "INGEST_REDIS_URL": url}
    env.setdefault("DJANGO_DEBUG", "1")
    yield env, client
    # Whatever a broken harness left running (a mutant of its clean-up) must not outlive us.
    for pid in started_by(url):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.terminate()
    server.wait(timeout=10)


def started_by(url: str) -> list[int]:
    """Processes whose environment names this Redis: the ones the bench started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if f"INGEST_REDIS_URL={url}".encode() in environ and (
            b"gunicorn" in cmdline or b"celery" in cmdline
        ):
            found.append(int(entry.name))
    return found


def test_the_e2e_bench_reports_every_figure_and_stops_its_processes(bench_env):
    env, client = bench_env
    done = subprocess.run(
        # More events than one batch holds (500): a drain called over after its first batch
        # is then caught by the count of what PostgreSQL holds at that moment.
        [sys.executable, "-m", "bench", "e2e", "--quick", "--events=1500", "--fresh-seconds=2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    figures = ["accepted: /v1/batch", "ratio", "raw COPY of 1,500", "stored, 1 worker"]
    figures += ["ratio to COPY", "worker RSS", "CPU while draining", "cores busy"]
    figures += ["stored: timed from", "the harness's process", "other processes"]
    figures += ["this database's backends", "freshness at", "p95", "load average"]
    if "autovacuum is off" in out:
        figures += ["ANALYZE stand-in:"]
    for figure in figures:
        assert figure in out, out
    # Every queued event was stored once, and was in PostgreSQL when the drain was called over.
    assert "only " not in out, out
    assert "stored twice" not in out, out
    assert started_by(env["INGEST_REDIS_URL"]) == []
    assert client.keys("bench:e2e:*") == []


def in_group(pgid: int) -> list[int]:
    """Processes still in process group `pgid` (the bench and its forked load generators)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.getpgid(int(entry.name)) == pgid:
                    found.append(int(entry.name))
    return found


# The bench's own clean-up bound (bench/e2e.py CLEANUP_SECONDS) plus the time to notice.
INTERRUPTED_EXIT_SECONDS = 150


def sigint_ignored() -> None:
    # What a non-interactive shell does to a command it starts with `&` (CI's runner, `nohup`):
    # the command inherits SIGINT ignored, and Python then installs no KeyboardInterrupt for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("stage", "inherited"),
    [("gunicorn", "default"), ("gunicorn", "ignored"), ("celery", "ignored")],
)
def test_an_interrupted_e2e_bench_ends_in_bounded_time_and_stops_its_processes(
    bench_env, stage, inherited
):
    """Ctrl-C, as a terminal sends it (SIGINT to the whole foreground process group, the forked
    load generators included), once the server is up (while the accepted rate is measured) or
    once Celery workers are draining; also when the bench was started with SIGINT ignored, as
    CI starts it: the interrupt then did nothing and the bench ran on for many minutes."""
    env, client = bench_env
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", "e2e", "--events=20000", "--workers=4",
         "--workspaces=1", "--seconds=5"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=sigint_ignored if inherited == "ignored" else None,
    )  # fmt: skip
    url = env["INGEST_REDIS_URL"]
    err = ""
    try:
        deadline = time.monotonic() + 240
        while not [pid for pid in started_by(url) if stage.encode() in cmdline(pid)]:
            assert bench.poll() is None, bench.communicate()[1][-3000:]
            assert time.monotonic() < deadline, f"the bench started no {stage} process"
            time.sleep(0.2)
        time.sleep(2)
        assert bench.poll() is None, "the bench ended before it was interrupted"
        os.killpg(bench.pid, signal.SIGINT)
        interrupted = time.monotonic()
        # communicate, not wait: it reads both pipes, so a chatty bench cannot block on them.
        _, err = bench.communicate(timeout=INTERRUPTED_EXIT_SECONDS)
        took = time.monotonic() - interrupted
    finally:
        if bench.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(bench.pid, signal.SIGKILL)
            bench.wait(timeout=10)
    assert bench.returncode == 130, err[-3000:]
    assert "interrupted; stopped every process it started" in err, err[-3000:]
    assert took < INTERRUPTED_EXIT_SECONDS
    assert started_by(url) == []
    time.sleep(0.5)  # the load generators' exit is reaped by init, not by us
    assert in_group(bench.pid) == []
    assert client.keys("bench:e2e:*") == []


def cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def test_the_e2e_bench_refuses_a_test_database(bench_env):
    env, _ = bench_env
    done = subprocess.run(
        [sys.executable, "-m", "bench", "e2e", "--quick", "--database=test_windsor_bench_e2e"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "refusing to run on test_windsor_bench_e2e" in done.stderr + done.stdout
