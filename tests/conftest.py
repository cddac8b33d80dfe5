"""Shared fixtures, built through our own services.

Tests marked `services` need PostgreSQL, Redis and a Celery worker; `e2e` tests also need
Chromium. Where those are missing they are skipped with the reason shown, except when
WINDSOR_REQUIRE_SERVICES=1 (CI), where a missing service is a failure.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.models import Workspace
from accounts.services import IssuedToken, source_create, workspace_create

REQUIRE_SERVICES = os.environ.get("WINDSOR_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"

# Playwright's sync API runs an event loop in the test thread; the ORM calls our tests make from
# that thread are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def services_missing() -> str | None:
    """Why the real stack is not available, or None when it is."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL (set DATABASE_URL)"
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        return "needs Redis (set CELERY_BROKER_URL)"
    return None


def chromium_missing() -> str | None:
    if not shutil.which(CHROMIUM):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        reasons = []
        if item.get_closest_marker("services"):
            reasons.append(services_missing())
        if item.get_closest_marker("e2e"):
            reasons.append(chromium_missing())
        reason = "; ".join(r for r in reasons if r)
        if not reason:
            continue
        if REQUIRE_SERVICES:
            item.user_properties.append(("missing", reason))
        else:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name, reason in item.user_properties:
        if name == "missing":
            pytest.fail(f"WINDSOR_REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)


@pytest.fixture
def password() -> str:
    return "correct-horse-battery-staple"


@pytest.fixture
def owner(db, password: str):
    return get_user_model().objects.create_user(
        username="owner@example.com", email="owner@example.com", password=password
    )


@pytest.fixture
def workspace(owner) -> Workspace:
    return workspace_create(name="Acme", owner=owner)


@pytest.fixture
def issued(workspace: Workspace, owner) -> IssuedToken:
    return source_create(workspace=workspace, name="Segment", created_by=owner)


@pytest.fixture
def token(issued: IssuedToken) -> str:
    return issued.token


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process on the test database and the configured Redis broker."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    import redis

    reason = services_missing()
    if reason:
        pytest.fail(reason) if REQUIRE_SERVICES else pytest.skip(reason)
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )
    env["DJANGO_DEBUG"] = "1"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()
    log_dir = Path(settings.BASE_DIR) / "artifacts"
    log_dir.mkdir(exist_ok=True)
    log = open(log_dir / "celery-worker.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
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
            f"test-{os.getpid()}@%h",
            "--schedule",
            str(log_dir / f"celerybeat-{os.getpid()}"),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    from windsor.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"Celery worker exited with {proc.returncode}; see artifacts/celery-worker.log"
            )
        try:
            if app.control.ping(timeout=1.0):
                break
        except Exception:  # the broker may still be starting
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("Celery worker did not answer a ping within 60 s")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
