"""Named breaks of Windsor's promises, each of which the test suite must catch.

The catalog is one module per app (mutants/accounts.py, mutants/ingest.py, ...), each a list
named MUTANTS. Each mutant is one deliberate break: a file, the exact code to replace, its
replacement, and the tests that guard the promise it breaks. For each, this runner copies the
repository (the files git knows, as they are on disk) to a temporary directory, applies that one
patch, and runs those tests there. A mutant the tests do not notice *survives*: the promise is
unguarded.

    .venv/bin/python -m mutants            # every mutant
    .venv/bin/python -m mutants --list     # names and promises
    .venv/bin/python -m mutants --only token-hash-from-prefix person-for-page-unscoped
    .venv/bin/python -m mutants --half today    # CI: a rotating half (day-of-year parity)

Exit status: 0 when every mutant is killed, 1 when one survives, 2 when the check itself cannot
run (a snippet not found exactly once, guard tests that fail without any patch, a pytest error).
A snippet that moved in a refactor must be updated in its app's module; it is never skipped.

Each run gets a database of its own (DATABASE_URL's name + `_mutant<n>`, so pytest-django makes
`test_<name>_mutant<n>`, which a Celery worker started by the tests uses too). The guards run on
the embedded ingest path and touch no Redis; a guard that starts a Celery worker flushes the
broker's Redis database, so keep `--jobs 1` (the default) if one is added.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mutants.catalog import ALL as MUTANTS
from mutants.catalog import Mutant

ROOT = Path(__file__).resolve().parent.parent


# --- Running ------------------------------------------------------------------------------------


class CheckError(Exception):
    """The check cannot run as asked: a loud failure, never a skipped mutant."""


def repository_files() -> list[str]:
    """Tracked and new (not ignored) files, as they are on disk now."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def patched(m: Mutant) -> str:
    """The mutant's file with its edits applied; CheckError unless each snippet occurs once."""
    path = ROOT / m.path
    if not path.is_file():
        raise CheckError(f"{m.name}: {m.path} does not exist; update the mutant")
    text = path.read_text()
    for old, new in m.edits:
        count = text.count(old)
        if count != 1:
            raise CheckError(
                f"{m.name}: the snippet occurs {count} times in {m.path} (expected exactly once); "
                f"update the mutant in mutants/{m.path.split('/')[0]}.py:\n{old}"
            )
        text = text.replace(old, new)
    return text


def database_url(suffix: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return ""  # the embedded default: each copy has its own SQLite under its var/
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path=f"/{name}_{suffix}"[:60]))


def run_tests(label: str, suffix: str, tests: tuple[str, ...], files: list[str], patch=None):
    """Copy the repository, apply `patch` (path, text), run `tests`; (returncode, output, s)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"windsor-{label}-") as tmp:
        for name in files:
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
        if patch is not None:
            Path(tmp, patch[0]).write_text(patch[1])
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        url = database_url(suffix)
        if url:
            env["DATABASE_URL"] = url
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
        command += ["--create-db", "--hypothesis-profile=mutants", *tests]
        result = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def first_failure(output: str) -> str:
    failed = [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return failed[0].split(" ", 1)[1].split(" - ")[0] if failed else "?"


def tail(output: str, lines: int = 25) -> str:
    return "\n".join("    " + line for line in output.strip().splitlines()[-lines:])


def chosen(args: argparse.Namespace) -> list[Mutant]:
    names = [m.name for m in MUTANTS]
    if len(set(names)) != len(names):
        raise CheckError("two mutants share a name")
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            raise CheckError(f"no mutant named {', '.join(sorted(unknown))}")
        return [m for m in MUTANTS if m.name in args.only]
    if args.half == "all":
        return list(MUTANTS)
    parity = dt.date.today().timetuple().tm_yday % 2 if args.half == "today" else int(args.half)
    return [m for i, m in enumerate(MUTANTS) if i % 2 == parity]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
    parser.add_argument(
        "--half",
        choices=["all", "today", "0", "1"],
        default="all",
        help="all mutants, or a half: 'today' alternates by day-of-year parity (for CI)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (at most 2)")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip running the guards without a patch"
    )
    args = parser.parse_args()
    try:
        selected = chosen(args)
        # Every snippet is checked before anything runs, the mutants not selected too.
        patches = {m.name: (m.path, patched(m)) for m in MUTANTS}
    except CheckError as error:
        print(f"mutants: {error}", file=sys.stderr)
        return 2
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:40} {m.promise}\n{'':40} {m.path}; guards: {' '.join(m.tests)}")
        return 0

    files = repository_files()
    started = time.monotonic()
    print(f"mutants: {len(selected)} of {len(MUTANTS)} mutants, {len(files)} files copied each")
    if not args.no_baseline:
        # The guards must pass without a patch; otherwise every mutant would look killed.
        guard_files = sorted({t for m in selected for t in m.tests if t.startswith("tests/")})
        code, output, seconds = run_tests("baseline", "mutant_base", tuple(guard_files), files)
        print(f"  baseline  {'passed' if code == 0 else 'FAILED'}  {seconds:5.0f} s")
        if code != 0:
            print(tail(output), file=sys.stderr)
            print(
                "mutants: the guard tests fail without any patch; fix them first", file=sys.stderr
            )
            return 2

    jobs = max(1, min(args.jobs, 2))
    databases: queue.Queue[str] = queue.Queue()
    for n in range(jobs):
        databases.put(f"mutant{n}")  # one test database per concurrent run

    def one(m: Mutant) -> tuple[Mutant, int, str, float]:
        database = databases.get()
        try:
            code, output, seconds = run_tests(m.name, database, m.tests, files, patches[m.name])
        finally:
            databases.put(database)
        return m, code, output, seconds

    survivors, errors = [], []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for m, code, output, seconds in pool.map(one, selected):
            if code == 1:
                verdict = "killed"
            elif code == 0:
                verdict = "SURVIVED"
                survivors.append(m)
            else:
                verdict = f"ERROR (pytest exit {code})"
                errors.append(m)
            print(f"  {verdict:9} {seconds:5.0f} s  {m.name}: {m.promise}", flush=True)
            if code == 1:
                print(f"{'':20} caught by {first_failure(output)}", flush=True)
            if code != 1:
                print(tail(output), file=sys.stderr)
    total = time.monotonic() - started
    killed = len(selected) - len(survivors) - len(errors)
    print(
        f"mutants: {killed} killed, {len(survivors)} survived, {len(errors)} errors"
        f" in {total:.0f} s"
    )
    for m in survivors:
        print(f"  survivor: {m.name} ({m.path}); guards: {' '.join(m.tests)}", file=sys.stderr)
    if errors:
        return 2
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
