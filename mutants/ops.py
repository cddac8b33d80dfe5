"""Mutants in ops/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant

MUTANTS: list[Mutant] = [
    # --- ops (issue 23): /metrics labels, /readyz, error pages, Store again, gunicorn ----------
    mutant(
        "metrics-method-label-unbounded",
        "a request's made-up HTTP method adds no series to /metrics",
        "ops/middleware.py",
        '            labels["method"] = self._method(request)\n',
        "            pass\n",
        "tests/ops/test_metrics.py::test_requests_with_made_up_methods_add_no_series_to_the_metrics",
    ),
    mutant(
        "readyz-details-for-everyone",
        "/readyz tells who may not read /metrics which check failed and nothing more",
        "ops/views.py",
        "    if metrics_allowed(request):\n",
        "    if True:\n",
        "tests/ops/test_health.py",
    ),
    Mutant(
        name="readyz-database-connection-reused",
        promise="/readyz asks the configured database on every call, on a connection of its own",
        path="ops/health.py",
        edits=(
            (
                "    probe = ConnectionHandler({DEFAULT_DB_ALIAS: _probe_settings()})"
                "[DEFAULT_DB_ALIAS]\n",
                "    probe = connection\n",
            ),
            ("        probe.close()\n", "        pass\n"),
        ),
        tests=("tests/ops/test_health.py",),
    ),
    mutant(
        "readyz-migrations-verdict-outlives-outage",
        "/readyz checks the migrations again once the database answers after an outage",
        "ops/health.py",
        '        _migrated = False\n        return f"unreachable',
        '        return f"unreachable',
        "tests/ops/test_health.py",
    ),
    mutant(
        "gunicorn-control-socket-per-user",
        "two gunicorns side by side each keep a control socket of their own",
        "gunicorn.conf.py",
        'control_socket = str(_var / "gunicorn" / f"{os.getpid()}.ctl")\n',
        "",
        "tests/ops/test_gunicorn.py",
    ),
]
