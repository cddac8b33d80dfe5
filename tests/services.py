"""The real stack in tests: whether it is required, the test database's URL for the processes
tests start, Celery workers and throwaway redis-servers, and waiting on them."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

# CI sets it: a missing PostgreSQL, Redis or Chromium is then a failure, not a skip.
REQUIRE_SERVICES = os.environ.get("WINDSOR_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"
# Where the processes tests start write their logs.
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"


def test_database_url() -> str:
    """The URL of the test database, for processes the tests start."""
    db = settings.DATABASES["default"]
    return (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


test_database_url.__test__ = False  # a helper, not a test


def wait_until(check, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    pytest.fail(f"gave up waiting for {what}")


def redis_ready(client: redis.Redis, seconds: float = 10) -> None:
    """Until a redis-server just started answers a ping."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def worker_start(name: str, *, beat: bool = False, env: dict[str, str] | None = None):
    """Start a real Celery worker on the test database; returns once it answers a ping."""
    from windsor.celery import app

    log_dir = ARTIFACTS
    log_dir.mkdir(exist_ok=True)
    node = f"{name}-{os.getpid()}@localhost"
    command = [sys.executable, "-m", "celery", "-A", "windsor", "worker", "--pool=solo"]
    command += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", node]
    if beat:
        command += ["-B", "--schedule", str(log_dir / f"celerybeat-{os.getpid()}")]
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed by worker_stop
    proc = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": test_database_url(), "DJANGO_DEBUG": "1", **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"Celery worker exited with {proc.returncode}; see artifacts/{name}.log")
        try:
            if app.control.ping(destination=[node], timeout=1.0):
                return proc
        except Exception:  # the broker may still be starting
            time.sleep(0.5)
    worker_stop(proc)
    pytest.fail(f"Celery worker {name} did not answer a ping within 60 s")


def worker_stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    proc.log.close()
