"""Readiness: can this process serve? The database answers, its migrations are applied, and the
ingest Redis answers when one is configured (the embedded default has none and needs none), as
does the Celery broker when it is another Redis.

The database is asked on every call, on a connection of its own made from the settings with
short timeouts: a probe must not wait minutes on a database host that drops packets, and must not
reuse a connection the process opened while the database still answered. Only the migrations
verdict is kept, and only while the database answers: one back from an outage may be a restored
backup, its migrations are checked again.
"""

import copy
from typing import Any

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import ConnectionHandler

from ingest import queue

# libpq waits whole seconds and at least 2 for a connection.
DATABASE_TIMEOUT_SECONDS = 2

_migrated = False


def _probe_settings() -> dict[str, Any]:
    database = copy.deepcopy(settings.DATABASES["default"])
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.sqlite3":
        options["timeout"] = DATABASE_TIMEOUT_SECONDS
    else:
        options.pop("pool", None)  # one connection, closed after the check
        options["connect_timeout"] = DATABASE_TIMEOUT_SECONDS
        limit = f"-c statement_timeout={DATABASE_TIMEOUT_SECONDS * 1000}"
        options["options"] = f"{options.get('options', '')} {limit}".strip()
    database["CONN_MAX_AGE"] = 0
    database["CONN_HEALTH_CHECKS"] = False
    return database


def _database() -> str:
    global _migrated
    # A handler of its own: the process's connections stay as they are.
    probe = ConnectionHandler({DEFAULT_DB_ALIAS: _probe_settings()})[DEFAULT_DB_ALIAS]
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        _migrated = False
        return f"unreachable: {exc}".strip()
    finally:
        probe.close()
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
