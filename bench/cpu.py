"""CPU accounting for the benches, from Linux's /proc (what the benches and CI run on).

The e2e bench reads these around a drain to show how much of the machine one worker already
keeps busy (itself and PostgreSQL), which bounds what more workers can add on the same cores.
"""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot: busy is all but idle and iowait."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def command_seconds(command: str) -> float:
    """User + system CPU seconds of every live process whose command name is `command`."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.split("(", 1)[1] == command:
            fields = tail.split()
            total += int(fields[11]) + int(fields[12])
    return total / TICKS
