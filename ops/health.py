"""Readiness: can this process serve? The database answers, its migrations are applied, and the
ingest Redis answers when one is configured (the embedded default has none and needs none), as
does the Celery broker when it is another Redis."""

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from ingest import queue

_migrated = False


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"unreachable: {exc}".strip()
    return "ok"


def _migrations() -> str:
    global _migrated
    if _migrated:  # once applied they stay applied; loading the graph costs tens of ms
        return "ok"
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return f"unknown: {exc}".strip()
    if plan:
        return f"{len(plan)} not applied (run manage.py migrate)"
    _migrated = True
    return "ok"


def _ping(client: redis.Redis) -> str:
    try:
        client.ping()
    except Exception as exc:  # any failure to answer means not ready
        return f"unreachable: {exc}"
    return "ok"


def _redis() -> str:
    if not settings.INGEST_REDIS_URL:
        return "not configured"
    return _ping(queue.redis_client())


def _broker() -> str | None:
    """The Celery broker, checked apart only when it is not the ingest Redis."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis") or url == settings.INGEST_REDIS_URL:
        return None
    timeout = settings.INGEST_REDIS_TIMEOUT
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return _ping(client)
    finally:
        client.close()


def readiness() -> dict[str, str]:
    """Each check's result: "ok", "not configured", or what is wrong."""
    database = _database()
    checks = {
        "database": database,
        "migrations": _migrations() if database == "ok" else "unknown: no database",
        "redis": _redis(),
    }
    broker = _broker()
    if broker is not None:
        checks["broker"] = broker
    return checks


def failures(checks: dict[str, str]) -> list[str]:
    """The names of the checks that failed."""
    return sorted(name for name, result in checks.items() if result not in {"ok", "not configured"})
