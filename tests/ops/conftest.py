"""Operations fixtures: a private ingest stream on the real Redis, or the embedded default."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from ingest import counters, queue
from ops import health


@pytest.fixture(autouse=True)
def _fresh_process_state():
    counters._local.clear()
    health._migrated = False
    queue._redis_down_until = 0.0
    yield
    counters._local.clear()
    queue._redis_down_until = 0.0


@pytest.fixture
def embedded(settings) -> None:
    """The embedded default: no Redis, the drain runs in the request (inbox + in-process)."""
    settings.INGEST_REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def stream(settings):
    """A private stream (and counters) on the configured Redis; drains run in this process."""
    settings.INGEST_STREAM = f"test:ops:{uuid.uuid4().hex}"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = queue.redis_client()
    yield client
    keys = client.keys(settings.INGEST_STREAM + "*")
    if keys:
        client.delete(*keys)


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_user(
        "ops@example.com", "ops@example.com", "pw-ops-123456", is_staff=True
    )
    client.force_login(user)
    return client
