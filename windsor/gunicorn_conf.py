"""gunicorn settings of the Procfile's web process (`make serve`); the environment decides.

HOST and PORT: where to listen (honcho sets PORT; HOST defaults to every interface).
WEB_CONCURRENCY: worker processes (2).

django-prometheus counts requests in each worker process. PROMETHEUS_MULTIPROC_DIR makes them
one set: each process writes its values there and /metrics sums them. The directory is emptied
when gunicorn starts, and a worker that exits is marked dead so its gauges are dropped.
"""

import os
import shutil
from pathlib import Path

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
# gunicorn's default line logs the Basic auth user, which for senders is their source token.
access_log_format = '%(h)s %(l)s - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

_var = Path(os.environ.get("WINDSOR_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var / "prometheus-web"))


def on_starting(server: object) -> None:
    shutil.rmtree(metrics_dir, ignore_errors=True)
    Path(metrics_dir).mkdir(parents=True)


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
