"""Waking a drainer: the one decision of how queued records get stored soon.

Called after records were queued (a request, "store again" of a dead letter) when the queue says
no drainer is pending. In the embedded default (CELERY_TASK_ALWAYS_EAGER: no worker) the records
are drained in this process; else a Celery task is sent. A failure to wake loses nothing: the
records are queued either way and beat's periodic drain picks them up.

The worker's code is imported only here and only when waking, so the web process's modules
(ingest/views.py) do not load it.
"""

import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def drainer_wake() -> None:
    """Have the queue drained soon; never raises."""
    from ingest import drain, tasks  # the worker's code, only needed when waking it

    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # The embedded default: no worker, so drain here; the queue already holds the data.
            drain.drain()
        else:
            tasks.drain_ingest.apply_async(retry=False)
    except Exception:
        logger.exception("ingest: could not wake a drainer")
