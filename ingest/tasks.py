"""Thin Celery tasks: drain the ingest queue; retry while the database is unavailable."""

import redis
from celery import shared_task
from django.db import InterfaceError, OperationalError

from ingest.drain import drain


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError, redis.ConnectionError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=None,
    ignore_result=True,
)
def drain_ingest() -> int:
    stored, more = drain(wake_another=drain_ingest.delay)
    if more:
        # Out of time with work left: hand over to a fresh task rather than hold the worker.
        drain_ingest.delay()
    return stored
