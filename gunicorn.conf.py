"""gunicorn's settings: it reads this file from the directory it starts in (the repository root),
so the Procfile, the tests and the benchmarks all get the same logging. Flags on the command line
override it.

HOST and PORT: where to listen (honcho sets PORT; HOST defaults to every interface).
WEB_CONCURRENCY: worker processes (2).

The logger redacts source, invitation and password-reset tokens from logged paths (the
request line and the Referer alike): see core/log_filters.py.
gunicorn's default access line also logs the Basic auth user, which for senders is their token.

django-prometheus counts requests in each worker process. PROMETHEUS_MULTIPROC_DIR makes them
one set: each process writes its values there and /metrics sums them. Each gunicorn master gets a
directory of its own (two servers on one machine must not share or wipe each other's), made when
it starts and removed when it exits; a worker that exits is marked dead so its gauges are dropped.
"""

import os
import shutil
from pathlib import Path

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
logger_class = "core.log_filters.RedactingGunicornLogger"
access_log_format = '%(h)s %(l)s - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

_var = Path(os.environ.get("WINDSOR_VAR_DIR", Path(__file__).resolve().parent / "var"))
metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", str(_var / "prometheus-web" / str(os.getpid()))
)

# gunicornc's control socket, one per master (gunicorn's default, ~/.gunicorn/gunicorn.ctl, is one
# per user: a second server took the first's over). --control-socket or --no-control-socket on
# the command line override it.
control_socket = str(_var / "gunicorn" / f"{os.getpid()}.ctl")


def on_starting(server: object) -> None:
    shutil.rmtree(metrics_dir, ignore_errors=True)
    Path(metrics_dir).mkdir(parents=True)


def on_exit(server: object) -> None:
    shutil.rmtree(metrics_dir, ignore_errors=True)


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
