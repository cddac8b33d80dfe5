"""requirements/*.txt, the lock files installs use, agree with pyproject.toml (`make lock`)."""

import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# One requirement of a lock: `name==version \` then its `--hash=sha256:...` lines.
LOCKED = re.compile(r"^([A-Za-z0-9._-]+)==(\S+?)((?: \\\n +--hash=sha256:[0-9a-f]{64})*)$", re.M)


def lock_pins(group: str) -> dict[str, str]:
    text = (ROOT / "requirements" / f"{group}.txt").read_text()
    requirements = [line for line in text.splitlines() if line[:1].isalnum()]
    pins = {}
    for match in LOCKED.finditer(text):
        assert match[3], f"{group}.txt: {match[1]} has no hash"
        pins[canonical(match[1])] = match[2]
    assert len(pins) == len(requirements) > 0
    return pins


def wanted(groups: list[str]) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in groups:
        lines += project["optional-dependencies"][extra]
    return {canonical(m[1]): m[2] for m in map(PIN.match, lines)}


@pytest.mark.parametrize(
    "group, extras", [("base", []), ("serve", ["serve"]), ("dev", ["serve", "dev"])]
)
def test_each_lock_pins_what_pyproject_asks_for_with_hashes(group, extras):
    pins = lock_pins(group)
    for name, version in wanted(extras).items():
        assert pins.get(name) == version, f"requirements/{group}.txt is stale: run make lock"


def test_the_locks_agree_on_every_version_they_share():
    dev = lock_pins("dev")
    for group in ("base", "serve"):
        pins = lock_pins(group)
        assert pins.items() <= dev.items(), f"{group}.txt differs from dev.txt: run make lock"


def test_running_needs_no_test_tools_and_no_honcho():
    base = lock_pins("base")
    assert "honcho" not in base and "pytest" not in base and "honcho" in lock_pins("serve")
