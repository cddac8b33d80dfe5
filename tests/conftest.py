"""Shared fixtures, built through our own services.

Tests marked `services` need PostgreSQL, Redis and a Celery worker; `e2e` tests also need
Chromium. Where those are missing they are skipped with the reason shown, except when
WINDSOR_REQUIRE_SERVICES=1 (CI), where a missing service is a failure.
"""

import os
import shutil

import hypothesis
import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Workspace
from accounts.services import IssuedToken, source_create, workspace_create
from tests.factories import PeopleFactory
from tests.services import CHROMIUM, REQUIRE_SERVICES, worker_start, worker_stop

# python -m mutants only needs to know that a property fails, not its smallest example:
# shrinking against the database takes minutes.
hypothesis.settings.register_profile(
    "mutants", phases=[p for p in hypothesis.Phase if p is not hypothesis.Phase.shrink]
)

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


def pytest_configure(config: pytest.Config) -> None:
    # The live server answers each request on a thread of its own; a persistent connection would
    # outlive that thread and keep the test database busy when it is dropped.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Every test user gets a password; PBKDF2's deliberate slowness (most of a second on a busy
    # CI machine) would be most of many tests' run time. Logins still check the password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings) -> None:
    """Each test counts throttled attempts under keys of its own (Redis keeps them for minutes)."""
    import uuid

    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def embedded(settings) -> None:
    """The embedded default: no Redis, the drain runs in the request (inbox + in-process)."""
    settings.INGEST_REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.INGEST_RATE_LIMIT_PER_SECOND = 0


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
def people(workspace: Workspace) -> PeopleFactory:
    """People, groups and events built directly in the signed-in owner's workspace."""
    return PeopleFactory(workspace=workspace, now=timezone.now())


@pytest.fixture
def stranger_workspace(db, django_user_model) -> Workspace:
    """A workspace the signed-in owner is not a member of."""
    stranger = django_user_model.objects.create_user(username="stranger@example.com", password="x")
    return workspace_create(name="Elsewhere", owner=stranger)


@pytest.fixture
def owner_client(client, owner, workspace):
    # Logged in after joining Acme: the login stamps the membership's last activity, so pages
    # requested within ACTIVITY_RESOLUTION write nothing (the query-count tests rely on it).
    client.force_login(owner)
    return client


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process (with beat) on the test database and the Redis broker."""
    reason = services_missing()
    if reason:
        pytest.fail(reason) if REQUIRE_SERVICES else pytest.skip(reason)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    proc = worker_start("celery-worker", beat=True)
    yield proc
    worker_stop(proc)
