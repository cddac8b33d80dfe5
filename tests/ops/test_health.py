"""/healthz and /readyz: up, and ready to serve (database, migrations, Redis)."""

import copy
import socket

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


OUTSIDE = "203.0.113.9"  # documentation range: only a REMOTE_ADDR string, no traffic


def test_readyz_tells_outsiders_which_check_failed_and_nothing_more(client, settings):
    settings.INGEST_REDIS_URL = "redis://:hunter2@127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "failed": ["redis"]}
    # Who may read /metrics (here: the loopback) also sees why.
    inside = client.get("/readyz").json()
    assert inside["failed"] == ["redis"]
    assert "127.0.0.1" in inside["checks"]["redis"]
    assert "hunter2" not in str(inside)
    ready = client.get("/readyz", REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert ready.json() == {"status": "not ready", "failed": ["redis"]}


def test_readyz_shows_outsiders_no_checks_when_ready(client, embedded):
    response = client.get("/readyz", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def unreachable(database: dict, tmp_path) -> dict:
    """The same database settings, pointing where no database answers (a real refusal)."""
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # SQLite cannot create a file in a directory that does not exist.
        return {**database, "NAME": str(tmp_path / "missing" / "windsor.sqlite3")}
    with socket.socket() as s:  # a loopback port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return {**database, "HOST": "127.0.0.1", "PORT": str(port)}


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")  # the probe's only
def test_readyz_checks_the_database_on_every_call(client, embedded, settings, tmp_path):
    assert client.get("/readyz").status_code == 200  # the migrations verdict is now known
    reachable = copy.deepcopy(settings.DATABASES)
    settings.DATABASES = {**reachable, "default": unreachable(reachable["default"], tmp_path)}

    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database", "migrations"]
    assert body["checks"]["database"].startswith("unreachable")

    settings.DATABASES = reachable
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")  # the probe's only
def test_the_migrations_verdict_is_forgotten_while_the_database_is_away(
    client, embedded, settings, tmp_path
):
    # A database back from an outage may be an older backup: its migrations are checked again.
    assert client.get("/readyz").status_code == 200
    reachable = copy.deepcopy(settings.DATABASES)
    settings.DATABASES = {**reachable, "default": unreachable(reachable["default"], tmp_path)}
    assert client.get("/readyz").status_code == 503
    settings.DATABASES = reachable
    recorded = MigrationRecorder.Migration.objects.get(app="ingest", name="0002_inbox_rejections")
    recorded.delete()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["failed"] == ["migrations"]
    finally:
        recorded.save()
