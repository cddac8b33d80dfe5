"""CPU accounting for the benches, from Linux's /proc (what the benches and CI run on).

The endpoint bench reads gunicorn's CPU per request; the e2e bench reads, around a drain, how
much of the machine one worker already keeps busy (itself and PostgreSQL), which bounds what more
workers can add on the same cores.

Reading /proc is itself CPU on the machine being measured, so the machine's, a process tree's and
a server's figures are read twice per measurement (before and after), never polled. A process
that exits in between is not lost: the kernel adds a child's CPU to its parent's "children"
times when the parent reaps it, so a server's figure (`server_times`) counts its closed backends
through its postmaster. Only which of them served one database needs a poll
(`DatabaseBackends`): a few small files per poll, the server's children and nothing else.
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
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


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass(frozen=True)
class ServerTimes:
    """A reading of every PostgreSQL server on the machine (`server_times`)."""

    # CPU seconds of the servers so far, their exited backends included.
    total: float
    # Each live backend's own CPU seconds, by (pid, start time): a pid the kernel reuses for a
    # new backend between two readings is another key, not a backend that went back in time.
    backends: dict[tuple[int, int], float]


def _postmasters(command: str) -> list[int]:
    """The processes named `command` whose parent is not: each server's first process."""
    names = {pid: (name, parent) for pid, name, parent, _ in _processes()}
    return [
        pid
        for pid, (name, parent) in names.items()
        if name == command and names.get(parent, ("", 0))[0] != command
    ]


def _times(pid: int) -> tuple[float, float] | None:
    """(own, reaped children's) CPU seconds of process `pid`, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # state, ppid, ..., utime, stime, cutime, cstime (12th-15th), ..., starttime (20th).
    return (int(fields[11]) + int(fields[12])) / TICKS, (int(fields[13]) + int(fields[14])) / TICKS


def server_times(command: str = "postgres") -> ServerTimes:
    """CPU seconds of every server whose processes are named `command`: each postmaster's own,
    its reaped children's (backends that closed, counted when the postmaster waited for them),
    and its live children's.

    A backend that closes while its siblings are read would be in neither figure (gone from
    the children, not yet in the postmaster's), and a busy server's backends come and go all the
    time (here, other benches' and test runs'): the children are read again until the
    postmaster reaped nothing meanwhile (an exited child not yet reaped is still readable)."""
    total = 0.0
    backends = {}
    for postmaster in _postmasters(command):
        for _ in range(20):
            before = _times(postmaster)
            children = [read for pid in _children(postmaster) if (read := _own_seconds(pid))]
            after = _times(postmaster)
            if before is None or after is None or before[1] == after[1]:
                break
        if after is None:
            continue
        own, reaped = after
        total += own + reaped
        for key, seconds in children:
            total += seconds
            backends[key] = seconds
    return ServerTimes(total=total, backends=backends)


def backend_database(pid: int) -> str | None:
    """The database a PostgreSQL backend serves, from the title it sets ("postgres: [cluster:]
    user database host(port) activity"); None for a process that is gone or serves none."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()
    except (OSError, UnicodeDecodeError):
        return None
    words = title.split()
    for n in range(2, len(words) - 1):
        if _CLIENT.match(words[n + 1]):
            return words[n]
    return None


_CLIENT = re.compile(r"\[local\]$|.*\(\d+\)$")  # a client's address: "[local]", "host(port)"


def _children(pid: int) -> list[int]:
    """The child pids of process `pid` (its main thread's: a postmaster has only that one)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: the whole of /proc, once
        return [child for child, _, parent, _ in _processes() if parent == pid]


def _own_seconds(pid: int) -> tuple[tuple[int, int], float] | None:
    """((pid, start time), own CPU seconds) of process `pid`, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (pid, int(fields[19])), (int(fields[11]) + int(fields[12])) / TICKS


class DatabaseBackends:
    """The CPU seconds of the backends that serve `database`, those closed since included (their
    last reading): backends come and go during a drain (a worker reconnects between tasks), and
    which database a closed one served is known only from having seen it live. `poll()` reads
    each postmaster's list of children and their stat files, and a new backend's title once."""

    def __init__(self, database: str, command: str = "postgres") -> None:
        self.database = database
        self.seconds: dict[tuple[int, int], float] = {}  # by (pid, start time)
        self._others: set[tuple[int, int]] = set()
        self._postmasters = _postmasters(command)
        self.poll()

    def poll(self) -> dict[tuple[int, int], float]:
        """Read the live backends now; returns a copy of every reading so far."""
        for postmaster in self._postmasters:
            for pid in _children(postmaster):
                read = _own_seconds(pid)
                if read is None or read[0] in self._others:
                    continue
                key, seconds = read
                if key not in self.seconds:
                    database = backend_database(pid)
                    if database is None:
                        continue  # not titled yet (or a server process): next poll
                    if database != self.database:
                        self._others.add(key)
                        continue
                self.seconds[key] = seconds
        return dict(self.seconds)
