"""Workers warn at start when the ingest Redis would lose queued messages on a restart.

Each test runs a Redis server of its own (the machine's redis-server binary, on a free port, no
data on disk), configured the way the case needs; the Celery broker stays the usual one.
"""

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from ingest.durability import redis_durability_problem
from tests.http import free_port
from tests.services import REQUIRE_SERVICES, redis_ready, worker_start, worker_stop

pytestmark = pytest.mark.services
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture
def private_redis(tmp_path):
    """Start a throwaway redis-server with extra arguments; returns its URL."""
    if not Path(REDIS_SERVER).exists():
        reason = "needs redis-server (apt-get install redis-server)"
        pytest.fail(reason) if REQUIRE_SERVICES else pytest.skip(reason)
    started = []

    def start(*args: str) -> str:
        port = free_port()
        command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--dir", str(tmp_path), "--appendfilename", f"aof-{port}.aof", *args]
        proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        redis_ready(redis.Redis(port=port))
        return f"redis://127.0.0.1:{port}/0"

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_redis_with_an_append_only_file_is_fine(private_redis):
    url = private_redis("--appendonly", "yes")
    assert redis_durability_problem(redis.Redis.from_url(url)) is None


def test_a_redis_without_one_is_named(private_redis):
    url = private_redis("--appendonly", "no")
    problem = redis_durability_problem(redis.Redis.from_url(url))
    assert "no append-only file" in problem
    assert "restart loses every message still queued" in problem


def test_a_redis_that_refuses_config_is_reported_as_unchecked(private_redis):
    url = private_redis("--appendonly", "yes", "--rename-command", "CONFIG", "")
    problem = redis_durability_problem(redis.Redis.from_url(url))
    assert problem.startswith("Could not check")
    assert "CONFIG GET refused" in problem


def worker_log_until_ready(url: str) -> str:
    """Start a real worker whose ingest Redis is `url`; its log up to "ready.".

    The check runs in the worker_ready signal, which Celery sends just before it logs "ready.".
    """
    name = f"durability-{uuid.uuid4().hex[:8]}"
    proc = worker_start(name, env={"INGEST_REDIS_URL": url})
    log = Path(settings.BASE_DIR) / "artifacts" / f"{name}.log"
    try:
        deadline = time.monotonic() + 30
        while " ready." not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker_stop(proc)
    text = log.read_text()
    assert " ready." in text
    return text


def test_a_worker_logs_the_warning_at_start(private_redis):
    text = worker_log_until_ready(private_redis("--appendonly", "no"))
    assert "WARNING/MainProcess] ingest: The ingest Redis has no append-only file" in text


def test_a_worker_on_a_durable_redis_says_nothing(private_redis):
    text = worker_log_until_ready(private_redis("--appendonly", "yes"))
    assert "append-only" not in text
