"""Outages: Redis gone (nothing lost), Redis and PostgreSQL gone (503, so senders retry); and
what only a real WSGI server shows (chunked bodies).

The machine's shared Redis and PostgreSQL are never stopped: these tests run their own
redis-server, and a gunicorn server and a Celery worker pointed at it, as subprocesses.
"""

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from django.conf import settings
from segment.analytics import Client

from ingest.models import InboxBatch
from tests.e2e.waits import stored_ids
from tests.http import free_port, port_open
from tests.services import ARTIFACTS, test_database_url, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REDIS_SERVER = "/usr/bin/redis-server"


class Process:
    """A subprocess we started, logging to artifacts/<name>.log."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = open(ARTIFACTS / f"{name}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            args, cwd=settings.BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: Process | None = None

    def start(self) -> None:
        self.process = Process(
            "outage-redis",
            [REDIS_SERVER, "--port", str(self.port), "--save", "", "--appendonly", "no"],
            dict(os.environ),
        )
        wait_until(lambda: port_open(self.port), "redis-server to listen", 20)

    def stop(self) -> None:
        if self.process:
            self.process.stop()
            self.process = None


def stack_env(*, database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=redis_url,
        INGEST_REDIS_URL=redis_url,
        DJANGO_DEBUG="1",
        INGEST_REDIS_TIMEOUT="0.5",
    )
    return env


def gunicorn(env: dict[str, str], name: str) -> tuple[Process, str]:
    port = free_port()
    process = Process(
        name,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "windsor.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
        ],
        env,
    )
    wait_until(lambda: port_open(port), f"{name} to listen", 30)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    if not os.path.exists(REDIS_SERVER):
        pytest.fail(f"needs {REDIS_SERVER}")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(own_redis: RedisServer, tmp_path) -> Iterator[str]:
    """A gunicorn server and a Celery worker (with beat) on the test database and own_redis."""
    env = stack_env(
        database_url=test_database_url(), redis_url=f"redis://127.0.0.1:{own_redis.port}/0"
    )
    server, url = gunicorn(env, "outage-server")
    worker = Process(
        "outage-worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "windsor",
            "worker",
            "-B",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"outage-{uuid.uuid4().hex[:6]}@%h",
            "--schedule",
            str(tmp_path / "beat"),
        ],
        env,
    )
    yield url
    worker.stop()
    server.stop()


def test_with_redis_down_sdk_events_get_200_and_are_stored_once_when_it_returns(
    stack, own_redis, issued
):
    errors: list = []
    client = Client(
        write_key=issued.token,
        host=stack,
        sync_mode=True,
        gzip=True,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    workspace = issued.source.workspace
    client.track("user-1", "Before Outage", message_id="before")
    wait_until(lambda: stored_ids(workspace) == ["before"], "the stack to store a first event")

    own_redis.stop()
    during = [f"during-{n}" for n in range(12)]
    for message_id in during:
        client.track("user-1", "During Outage", {"n": message_id}, message_id=message_id)
    client.identify("user-1", {"email": "u1@example.com"}, message_id="during-identify")
    during.append("during-identify")
    assert errors == []
    # With Redis gone they can only be in the inbox (a drain already running may have stored
    # some of them from there).
    landed = [i for i in stored_ids(workspace) if i != "before"]
    assert InboxBatch.objects.exists() or landed

    own_redis.start()
    expected = sorted(["before", *during])
    wait_until(lambda: len(stored_ids(workspace)) >= len(expected), "the inbox to be drained")
    time.sleep(1)  # a duplicate arriving late would show now
    assert sorted(stored_ids(workspace)) == expected
    assert InboxBatch.objects.count() == 0


def test_with_redis_and_postgresql_down_the_endpoint_answers_503(issued):
    env = stack_env(
        database_url=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
    )
    server, url = gunicorn(env, "outage-both-down")
    try:
        for headers, body in [
            ({"Authorization": f"Bearer {issued.token}"}, {"batch": [{"type": "track"}]}),
            ({}, {"batch": [], "writeKey": issued.token}),
        ]:
            response = requests.post(f"{url}/v1/batch", json=body, headers=headers, timeout=20)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "unavailable"
            assert int(response.headers["Retry-After"]) > 0
    finally:
        server.stop()


def test_a_chunked_body_without_content_length_is_read(stack, issued):
    port = int(stack.rsplit(":", 1)[1])
    body = json.dumps(
        {"batch": [{"type": "track", "event": "E", "userId": "u", "messageId": "c1"}]}
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request(
        "POST",
        "/v1/batch",
        body=iter([body[:20].encode(), body[20:].encode()]),
        headers={"Authorization": f"Bearer {issued.token}", "Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = conn.getresponse()
    assert (response.status, json.loads(response.read())) == (200, {"success": True})
    wait_until(lambda: stored_ids(issued.source.workspace) == ["c1"], "the chunked message")
