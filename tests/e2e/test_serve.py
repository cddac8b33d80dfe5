"""`make serve`'s processes for real: honcho runs the Procfile (gunicorn, a Celery worker, beat)
on the test database and Redis; an SDK's identify and track come out as stored events.

What CI runs once: the Procfile, unchanged, with production settings (DEBUG off).
"""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from segment.analytics import Client

from feed.models import Event
from tests.http import free_port
from tests.services import test_database_url

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

STARTUP_SECONDS = 90
ARRIVAL_SECONDS = 60


def get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def broker_of_its_own() -> str:
    """The suite's Redis with another database number. On the suite's own, the session's Celery
    worker (tests/conftest.py) takes part of the drain tasks that beat and the web send for these
    processes, and drains its own stream instead: their message then waits on luck."""
    parts = urlsplit(settings.CELERY_BROKER_URL)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(number + 8) % 16}"))


@pytest.fixture
def served(tmp_path):
    """honcho running the Procfile; yields the web URL and stops the whole process group."""
    port = free_port()
    stream = f"test:serve:{uuid.uuid4().hex}"
    broker = broker_of_its_own()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": broker,
        "INGEST_REDIS_URL": broker,
        "INGEST_STREAM": stream,  # its own stream: other workers of the session stay out
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "serve-test-" + uuid.uuid4().hex,
        # Plain HTTP on the loopback: the production defaults for HTTPS are turned off here.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "0",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "WINDSOR_VAR_DIR": str(tmp_path / "var"),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = Path(settings.BASE_DIR) / "artifacts" / "serve.log"
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    command = [sys.executable, "-m", "honcho", "start", "--no-colour", "--procfile", "Procfile"]
    proc = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as one
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert proc.poll() is None, f"honcho exited; see {log_path}"
            try:
                if get(f"{url}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not answer; see {log_path}"
            time.sleep(0.5)
        yield url, log_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        client = redis.Redis.from_url(broker)
        keys = client.keys(stream + "*") + client.keys("celery*") + client.keys("_kombu*")
        if keys:
            client.delete(*keys)
    # Every process of the group is gone.
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


def stored(workspace, **filters) -> Event:
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while time.monotonic() < deadline:
        event = Event.objects.filter(workspace=workspace, **filters).first()
        if event is not None:
            return event
        time.sleep(0.3)
    raise AssertionError(f"no event {filters} stored within {ARRIVAL_SECONDS} s")


def test_make_serve_processes_store_an_sdk_message(served, issued, workspace):
    url, log_path = served
    status, body = get(f"{url}/healthz")
    assert (status, body) == (200, '{"status": "ok"}')
    status, body = get(f"{url}/readyz")
    assert status == 200, body
    assert '"redis": "ok"' in body and '"migrations": "ok"' in body

    errors: list = []
    sdk = Client(
        write_key=issued.token,
        host=url,
        sync_mode=True,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    sdk.identify("serve-user", {"name": "Served Person", "email": "served@example.com"})
    sdk.track("serve-user", "Served Event", {"plan": "pro"})
    assert errors == []

    stored(workspace, type="identify")
    event = stored(workspace, name="Served Event")
    assert event.identity.person.email == "served@example.com"

    # The worker counted what it stored; gunicorn's /metrics reads it (localhost is allowed).
    # The worker counts a batch after its commit, a moment after the events become visible; and
    # honcho copies each process's lines to the log as they come: wait for both, not race them.
    deadline = time.monotonic() + 15
    while True:
        status, metrics = get(f"{url}/metrics")
        assert status == 200
        counted = re.search(r"^windsor_ingest_events_stored_total (\S+)$", metrics, re.M)
        log = log_path.read_text()
        ready = counted and float(counted[1]) == 2 and '"POST /v1/batch HTTP/1.1" 200' in log
        if ready or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert counted and float(counted[1]) == 2, counted and counted[0]
    assert "django_http_requests_total_by_method_total" in metrics

    for process in ("web.1", "worker.1", "beat.1"):
        assert re.search(rf"{process}\s+\| ", log), f"{process} did not start"
    # Senders authenticate with Basic auth: the access log must not show the user (the token).
    assert issued.token not in log
    assert '"POST /v1/batch HTTP/1.1" 200' in log
