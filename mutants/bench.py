"""Mutants in bench/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant

MUTANTS: list[Mutant] = [
    # --- The benchmark harness ------------------------------------------------------------------
    mutant(
        "bench-e2e-leaves-processes",
        "`make bench e2e` stops the gunicorn and Celery processes it started",
        "bench/e2e.py",
        "    def close(self) -> None:\n        self.processes.stop_all()\n",
        "    def close(self) -> None:\n        pass\n",
        "tests/bench/test_bench_e2e.py::test_the_e2e_bench_reports_every_figure_and_stops_its_processes",
    ),
    mutant(
        "bench-e2e-ignores-ctrl-c",
        "an interrupted `make bench e2e` ends soon, also when started with SIGINT ignored (CI)",
        "bench/e2e.py",
        "for sig in (signal.SIGINT, signal.SIGTERM)}",
        "for sig in (signal.SIGTERM,)}",
        "tests/bench/test_bench_e2e.py::"
        "test_an_interrupted_e2e_bench_ends_in_bounded_time_and_stops_its_processes",
    ),
    mutant(
        "bench-e2e-on-test-database",
        "`make bench e2e` refuses to run on a test database",
        "bench/e2e.py",
        'if name.startswith("test_"):',
        "if False:",
        "tests/bench/test_bench_e2e.py::test_the_e2e_bench_refuses_a_test_database",
    ),
    mutant(
        "bench-e2e-drained-early",
        "a drain the e2e bench calls over (from Redis) is already all in PostgreSQL, exactly",
        "bench/e2e.py",
        "if first is not None and (done >= count or left == 0):",
        "if first is not None:",
        "tests/bench/test_bench_e2e.py::test_the_e2e_bench_reports_every_figure_and_stops_its_processes",
    ),
    mutant(
        "bench-cpu-closed-backends-lost",
        "PostgreSQL's CPU in the e2e bench counts backends that closed between its two readings",
        "bench/cpu.py",
        "        total += own + reaped\n",
        "        total += own\n",
        "tests/bench/test_bench_cpu.py::"
        "test_a_server_figure_counts_a_backend_that_closed_between_the_readings",
    ),
    mutant(
        "bench-cpu-closed-backend-forgotten",
        "the e2e bench's database share keeps a closed backend's CPU and counts no other database",
        "bench/cpu.py",
        'every reading so far."""\n',
        'every reading so far."""\n        self.seconds = {}\n',
        "tests/bench/test_bench_cpu.py::"
        "test_a_databases_backends_are_counted_apart_and_kept_once_closed",
    ),
    mutant(
        "bench-cpu-other-database-counted",
        "the e2e bench's database share keeps a closed backend's CPU and counts no other database",
        "bench/cpu.py",
        "if database != self.database:",
        "if False:",
        "tests/bench/test_bench_cpu.py::"
        "test_a_databases_backends_are_counted_apart_and_kept_once_closed",
    ),
    mutant(
        "bench-analyze-every-table",
        "the e2e bench's ANALYZE stand-in analyzes the tables autovacuum's rule says are due, only",
        "bench/e2e.py",
        "for (table,) in cursor.fetchall():",
        "for table in self.tables:",
        "tests/bench/test_bench_cpu.py::"
        "test_the_analyze_stand_in_analyzes_the_tables_autovacuum_would_and_no_other",
    ),
]
