"""`--write`: a section's lines appended to bench/results/<date>-<section>.txt under a heading."""

from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def results_append(section: str, argv: list[str], lines: list[str]) -> str:
    """Append the lines with the command and the time; returns the file's path in the repo."""
    now = datetime.now(UTC)
    # Options that name another checkout keep only its folder's name: the file is committed.
    argv = [_folder_name_only(a) for a in argv]
    path = ROOT / "bench" / "results" / f"{now:%Y-%m-%d}-{section}.txt"
    with path.open("a") as f:
        f.write(f'# make bench BENCH_ARGS="{" ".join(argv)}" at {now:%H:%M} UTC\n')
        f.writelines(f"{line}\n" for line in lines)
        f.write("\n")
    return str(path.relative_to(ROOT))


def _folder_name_only(arg: str) -> str:
    name, sep, value = arg.partition("=")
    if sep and value.startswith("/"):
        return f"{name}=../{Path(value).name}"
    return arg
