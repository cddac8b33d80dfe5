"""Install one lock file of requirements/ (base, serve or dev) into the running interpreter.

Each lock is the whole set of pinned packages, with their hashes, that one kind of command needs;
pip checks every download against them (--require-hashes). Skips the work when that lock's
contents have not changed since it was last installed here (a stamp in the venv per lock).
"""

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUPS = ("base", "serve", "dev")
# pip warns for every package that one of a machine's configured extra indexes does not hold;
# the install is right all the same, and the lines drown out what matters.
NOISE = "is ignored: it is neither a file nor a directory"


def main() -> None:
    group = sys.argv[1] if len(sys.argv) > 1 else "base"
    if group not in GROUPS:
        raise SystemExit(f"usage: install_deps.py [{'|'.join(GROUPS)}]")
    lock = ROOT / "requirements" / f"{group}.txt"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    stamp = Path(sys.prefix) / f".windsor-deps-{group}-{digest}"
    if stamp.exists():
        return
    print(f"Installing requirements/{group}.txt (pinned, hashes checked)…", flush=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "--requirement",
            str(lock),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    sys.stderr.write("".join(line for line in result.stderr.splitlines(True) if NOISE not in line))
    if result.returncode:
        raise SystemExit(result.returncode)
    # The locks agree on every version they share (`make lock`), so installing one leaves the
    # others' stamps true; only this lock's older stamps (and the pre-lock ones) go.
    for old in Path(sys.prefix).glob(".windsor-deps-*"):
        name = old.name.removeprefix(".windsor-deps-")
        if name.startswith(f"{group}-") or "-" not in name:
            old.unlink()
    stamp.touch()


if __name__ == "__main__":
    main()
