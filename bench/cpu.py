"""CPU accounting for the benches, from Linux's /proc (what the benches and CI run on).

The endpoint bench reads gunicorn's CPU per request; the e2e bench reads, around a drain, how
much of the machine one worker already keeps busy (itself and PostgreSQL), which bounds what more
workers can add on the same cores.
"""

import os
from collections.abc import Iterator
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot: busy is all but idle and iowait."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def _processes() -> Iterator[tuple[int, str, int, float]]:
    """(pid, command name, parent pid, user + system CPU seconds) of every live process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        # After the command: state, ppid, ..., utime and stime are the 12th and 13th.
        fields = tail.split()
        seconds = (int(fields[11]) + int(fields[12])) / TICKS
        yield int(entry.name), head.split("(", 1)[1], int(fields[1]), seconds


def tree_seconds(root: int) -> float:
    """CPU seconds of process `root` and its children (gunicorn's master and workers; a Celery
    worker and its embedded beat)."""
    return sum(s for pid, _, parent, s in _processes() if root in (pid, parent))


def command_times(command: str) -> dict[int, float]:
    """CPU seconds by pid of every live process whose command name is `command`."""
    return {pid: s for pid, name, _, s in _processes() if name == command}


def times_added(start: dict[int, float], end: dict[int, float]) -> float:
    """CPU seconds the processes in `end` used since `start` (those started since: all of
    theirs). Per process, so that one that exited in between (a closed connection's backend)
    does not subtract its past from the others: `end` should hold its last reading."""
    return sum(seconds - start.get(pid, 0.0) for pid, seconds in end.items())
