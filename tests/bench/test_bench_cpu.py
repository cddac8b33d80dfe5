"""What the e2e bench's CPU figures and its ANALYZE stand-in rest on (bench/cpu.py, bench/e2e.py):
a server's figure still counts a backend that closed between the two readings, a database's
backends are told from another's and kept once closed, and the stand-in ANALYZEs the tables
autovacuum's rule says are due, and only those."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from bench.cpu import DatabaseBackends, process_seconds, server_times
from bench.e2e import AutovacuumStandIn

# A stand-in for a server: a parent that forks a child, lets it burn CPU and exit, and reaps it;
# both carry the name given, as a postmaster and its backends all carry "postgres".
FAKE_SERVER = r"""
import os, sys, time
name = sys.argv[1]
open("/proc/self/comm", "w").write(name)
r, w = os.pipe()
child = os.fork()
if child == 0:
    open("/proc/self/comm", "w").write(name)
    os.read(r, 1)
    until = time.process_time() + 0.4
    while time.process_time() < until:
        pass
    os._exit(0)
time.sleep(0.2)  # the child's name is set
print(child, flush=True)
sys.stdin.readline()
os.write(w, b"x")
os.waitpid(child, 0)
print("reaped", flush=True)
sys.stdin.readline()
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
def test_a_server_figure_counts_a_backend_that_closed_between_the_readings():
    name = f"fakepg{os.getpid() % 100000}"
    server = subprocess.Popen(
        [sys.executable, "-c", FAKE_SERVER, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        child = int(server.stdout.readline())
        start = server_times(name)
        assert child in {pid for pid, _ in start.backends}
        server.stdin.write("\n")
        server.stdin.flush()
        assert server.stdout.readline().strip() == "reaped"
        end = server_times(name)
    finally:
        server.kill()
        server.wait(timeout=10)
    assert child not in {pid for pid, _ in end.backends}
    # The child burned 0.4 s after the first reading, then exited: only its parent holds that.
    assert end.total - start.total >= 0.3


def _connect(dbname: str) -> psycopg.Connection:
    params = {**connection.get_connection_params(), "dbname": dbname, "autocommit": True}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params)


def _burn(conn: psycopg.Connection) -> None:
    conn.execute("SELECT count(*) FROM generate_series(1, 3000000)")


@pytest.mark.services
@pytest.mark.django_db
def test_a_databases_backends_are_counted_apart_and_kept_once_closed():
    database = connection.settings_dict["NAME"]
    ours, theirs = _connect(database), _connect("postgres")
    try:
        backends = DatabaseBackends(database)
        ours_pid, theirs_pid = ours.info.backend_pid, theirs.info.backend_pid
        _burn(ours)
        _burn(theirs)
        used = process_seconds(ours_pid)
        backends.poll()
    finally:
        ours.close()
        theirs.close()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{ours_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    seconds = backends.poll()
    assert {pid for pid, _ in seconds} >= {ours_pid}
    assert theirs_pid not in {pid for pid, _ in seconds}
    assert used > 0.05
    assert max(s for (pid, _), s in seconds.items() if pid == ours_pid) >= used


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_analyze_stand_in_analyzes_the_tables_autovacuum_would_and_no_other():
    writer = _connect(connection.settings_dict["NAME"])
    try:
        writer.execute("CREATE TABLE bench_due (n int)")
        writer.execute("CREATE TABLE bench_quiet (n int)")
        # autovacuum_analyze_threshold is 50 by default: 200 changes are due, 20 are not.
        writer.execute("INSERT INTO bench_due SELECT generate_series(1, 200)")
        writer.execute("INSERT INTO bench_quiet SELECT generate_series(1, 20)")
        writer.execute("SELECT pg_stat_force_next_flush()")
        writer.execute("SELECT 1")  # the flush happens when the backend goes idle
        stand_in = AutovacuumStandIn(60, tables=["bench_due", "bench_quiet"])
        deadline = time.monotonic() + 20
        while not stand_in.analyzed and time.monotonic() < deadline:
            time.sleep(0.05)
        stand_in.close()
        assert stand_in.analyzed == ["bench_due"]
        analyzed = writer.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('bench_due', 'bench_quiet')"
            " AND last_analyze IS NOT NULL"
        ).fetchall()
        assert analyzed == [("bench_due",)]
    finally:
        writer.execute("DROP TABLE IF EXISTS bench_due, bench_quiet")
        writer.close()
