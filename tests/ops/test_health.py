"""/healthz and /readyz: up, and ready to serve (database, migrations, Redis)."""

import pytest
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_in_the_embedded_default_needs_no_redis(client, embedded):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "redis": "not configured",
    }


@pytest.mark.services
def test_readyz_is_ready_with_redis(client, stream):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["redis"] == "ok"


def test_readyz_names_an_unreachable_redis(client, settings):
    # Nothing listens on port 1: a real refused connection.
    settings.INGEST_REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["redis"]
    assert body["checks"]["redis"].startswith("unreachable")
    assert body["checks"]["database"] == "ok"


def test_readyz_names_migrations_not_applied(client, embedded):
    MigrationRecorder.Migration.objects.filter(app="ingest", name="0002_inbox_rejections").delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["migrations"]
    assert "1 not applied" in response.json()["checks"]["migrations"]


@pytest.mark.services
def test_readyz_names_a_separate_broker_that_does_not_answer(client, stream, settings):
    settings.INGEST_REDIS_URL = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["redis"] == "ok"
