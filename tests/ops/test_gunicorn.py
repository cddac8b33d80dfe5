"""gunicorn as `make serve` starts it (its settings from gunicorn.conf.py): two servers side by
side on one machine, run by one user, each serve and each keep a control socket of their own.

gunicorn 25+ opens a control socket (for `gunicornc`) at one path per user by default,
~/.gunicorn/gunicorn.ctl: a second server removed the first's and took its place, so `gunicornc`
commands meant for the first (reload, shutdown, worker counts) went to the second, and the
second's exit removed the socket both had used. The servers here run the embedded default
(SQLite in their own directory), which /healthz never touches: no PostgreSQL or Redis needed.
"""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from gunicorn.ctl.client import ControlClient

from tests.http import free_port
from windsor.settings import DEPLOYMENT_VARIABLES

STARTUP_SECONDS = 60


class Server:
    def __init__(self, root: Path, home: Path) -> None:
        self.port = free_port()
        self.log_path = root / "gunicorn.log"
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in DEPLOYMENT_VARIABLES
            and name not in {"PROMETHEUS_MULTIPROC_DIR", "XDG_RUNTIME_DIR", "GUNICORN_CMD_ARGS"}
        }
        env.update(
            HOME=str(home),  # one user's home for both, as on a machine running two servers
            WINDSOR_VAR_DIR=str(root / "var"),
            HOST="127.0.0.1",
            PORT=str(self.port),
            WEB_CONCURRENCY="1",
            PYTHONUNBUFFERED="1",
        )
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "windsor.wsgi"],
            cwd=settings.BASE_DIR,  # where gunicorn.conf.py is read from
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def healthz(self) -> int:
        url = f"http://127.0.0.1:{self.port}/healthz"
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status

    def wait_ready(self) -> str:
        """Until it serves and its control socket listens; returns the socket's path."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert self.proc.poll() is None, self.log_path.read_text()
            listening = re.search(r"Control socket listening at (\S+)", self.log_path.read_text())
            try:
                if listening and self.healthz() == 200:
                    return listening[1]
            except OSError:
                pass
            assert time.monotonic() < deadline, self.log_path.read_text()
            time.sleep(0.2)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        self.log.close()


@pytest.fixture
def two_servers(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    servers: list[Server] = []
    try:
        for name in ("first", "second"):
            (tmp_path / name).mkdir()
            servers.append(Server(tmp_path / name, home))
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_two_gunicorns_side_by_side_serve_with_a_control_socket_each(two_servers):
    first, second = two_servers
    first_socket = first.wait_ready()
    second_socket = second.wait_ready()  # started after the first had its socket

    assert first.healthz() == 200 and second.healthz() == 200
    assert first_socket != second_socket
    for server, path in ((first, first_socket), (second, second_socket)):
        with ControlClient(path, timeout=10) as client:
            assert client.send_command("show stats")["pid"] == server.proc.pid

    # The second one stopping leaves the first's socket in place.
    second.stop()
    with ControlClient(first_socket, timeout=10) as client:
        assert client.send_command("show stats")["pid"] == first.proc.pid
