import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "windsor.settings")

app = Celery("windsor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _ingest_redis_durability_check(**kwargs: object) -> None:
    # Queued messages live in Redis: say so at start when a Redis restart would lose them.
    from ingest.durability import worker_start_check

    worker_start_check()
