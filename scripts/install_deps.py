"""Install the pinned dependencies listed in pyproject.toml into the running interpreter.

Skips the work when pyproject.toml has not changed since the last install (a stamp in the venv).
"""

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    dev = "--dev" in sys.argv[1:]
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    project = tomllib.loads(pyproject.decode())["project"]
    requirements = list(project["dependencies"])
    if dev:
        requirements += project["optional-dependencies"]["dev"]
    digest = hashlib.sha256(pyproject + (b"dev" if dev else b"")).hexdigest()[:16]
    stamp = Path(sys.prefix) / f".windsor-deps-{digest}"
    if stamp.exists():
        return
    print(f"Installing {len(requirements)} pinned packages…", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *requirements,
        ],
        check=True,
    )
    for old in Path(sys.prefix).glob(".windsor-deps-*"):
        old.unlink()
    stamp.touch()


if __name__ == "__main__":
    main()
