"""The import direction of the apps (core <- accounts <- people <- feed <- ingest; api reads
accounts, people and feed, and nothing imports api; windsor/ is configuration on top), checked on
the source:
a module that imports against it fails here, naming the file."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    """Every module a file imports at any level (the top-level package name and the full one)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def offenders(app: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / app).rglob("*.py")
        for name in imports_of(path)
        if name.split(".")[0] in forbidden
    )


APPS = ("accounts", "people", "feed", "segments", "ingest", "ops", "api", "windsor")


def test_the_core_imports_no_app():
    assert offenders("core", APPS) == []


def test_windsor_holds_configuration_only():
    # Settings, root URLs, the WSGI/ASGI entry points and the Celery app; helpers live in core/.
    modules = {p.name for p in (ROOT / "windsor").glob("*.py")}
    assert modules == {"__init__.py", "settings.py", "urls.py", "wsgi.py", "asgi.py", "celery.py"}


def test_no_app_imports_the_configuration():
    # Apps read settings through django.conf; importing windsor.* would pull in the URLconf.
    apps = ("core", "accounts", "people", "feed", "ingest", "ops", "api")
    assert [o for app in apps for o in offenders(app, ("windsor",))] == []


def test_segments_import_nothing_of_ingest_or_the_api():
    # Segments read people and feed; ingest and the API sit above them.
    assert offenders("segments", ("ingest", "api")) == []


def test_nothing_below_segments_imports_them():
    apps = ("core", "accounts", "people", "feed", "ingest")
    assert [o for app in apps for o in offenders(app, ("segments",))] == []


def test_people_imports_nothing_of_feed_or_ingest():
    assert offenders("people", ("feed", "ingest")) == []


def test_feed_imports_nothing_of_ingest():
    assert offenders("feed", ("ingest",)) == []


def test_accounts_imports_no_app_above_it():
    assert offenders("accounts", ("people", "feed", "ingest")) == []


def test_the_ingest_view_loads_no_worker_code():
    # Waking a drainer (ingest/wake.py) imports the worker's modules only when it wakes one.
    worker = {"ingest.drain", "ingest.tasks", "ingest.store", "ingest.dead_letters"}
    found = imports_of(ROOT / "ingest" / "views.py")
    assert not found & worker


def test_nothing_imports_the_api():
    # The root URLconf mounts it by name (include("api.urls")), settings name its classes.
    apps = ("core", "accounts", "people", "feed", "segments", "ingest", "ops", "windsor")
    assert [o for app in apps for o in offenders(app, ("api",))] == []


def test_the_api_imports_no_ingest_code():
    assert offenders("api", ("ingest",)) == []


WORKER = {"ingest.drain", "ingest.tasks", "ingest.store"}


def test_the_ingest_admin_loads_no_worker_code():
    # "Store again" queues the messages (ingest/dead_letters.py); a worker stores them.
    assert not imports_of(ROOT / "ingest" / "admin.py") & WORKER


def test_people_and_feed_parse_no_timestamps():
    # They read core.messages.Message, whose datetimes the worker parsed once when decoding.
    for path in [*(ROOT / "people").rglob("*.py"), *(ROOT / "feed").rglob("*.py")]:
        assert "core.timestamps" not in imports_of(path), path
        assert "fromisoformat" not in path.read_text(), path


def test_no_test_module_imports_a_conftest_or_another_test_module():
    # Shared helpers live in helper modules (tests/factories.py, tests/http.py, ...): pytest loads
    # conftest.py and test_*.py itself, and importing them again as plain modules runs their code
    # twice and hides what a test depends on. Fixtures reach the tests by name.
    def is_test_module(dotted: str) -> bool:
        last = dotted.split(".")[-1]
        return last == "conftest" or last.startswith("test_")

    def is_module(dotted: str) -> bool:
        return (ROOT / Path(*dotted.split("."))).with_suffix(".py").exists()

    found = []
    for path in (ROOT / "tests").rglob("*.py"):
        package = path.relative_to(ROOT).parent.parts
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                parent = package[: len(package) - node.level + 1] if node.level else ()
                base = ".".join([*parent, *([node.module] if node.module else [])])
                # `from tests.x import conftest` names a module too.
                modules = [base, *(f"{base}.{a.name}" for a in node.names)]
                modules = [m for m in modules if m == base or is_module(m)]
            else:
                continue
            found += [f"{path.relative_to(ROOT)} imports {m}" for m in modules if is_test_module(m)]
    assert found == []
