"""`make bench`: run the benchmark sections and print their numbers as ratios.

Each section is a module in bench/ with `run(args) -> list[str]` (lines to print). Sections need
PostgreSQL (DATABASE_URL) and, for ingest, Redis (CELERY_BROKER_URL); each measures its baseline
in the same run. `make bench BENCH_ARGS="people feed"` runs only those sections.
"""

import importlib
import os
import sys

SECTIONS = [
    "ingest",
    "worker",
    "people",
    "feed",
    "api",
    "export",
    "charts",
    "segments",
    "e2e",
    "endpoint",
    "profile",
]
# Run only when named: the whole pipeline (e2e) takes minutes, the profile is a diagnosis.
OPT_IN = {"e2e", "endpoint", "profile"}


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "windsor.settings")
    import django

    django.setup()
    wanted = [a for a in argv if not a.startswith("-")] or [s for s in SECTIONS if s not in OPT_IN]
    for name in wanted:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError:
            print(f"[{name}] not written yet")
            continue
        print(f"== {name} ==", flush=True)
        for line in module.run(argv):
            print(f"  {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
