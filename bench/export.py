"""CSV exports at 1M people next to the same exports at 1k: the first rows arrive as fast, and the
memory held while streaming stays flat (keyset batches, StreamingHttpResponse).

Reuses (or seeds) the People section's workspaces (bench/people.py: people, identities, and 20
events for one person in a hundred, plus one heavy person's 100,000 events). For each export it
times the first chunk of rows (after the header) and the whole download through Django's test
Client, and how much the process's peak resident memory grew while the whole file streamed (the
smaller size runs first, so a growing export would show at the larger one). DEBUG is off during
the export: its query log would otherwise grow with the number of batches.
`--people-sizes=1000,100000` changes the sizes, as for the People section.
"""

import resource
import time

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from bench import people as people_bench

EXPORTS = {
    "People export (everyone)": "/people/export.csv",
    "People export, search 'lovelace'": "/people/export.csv?q=lovelace",
    "Feed export (every event, hidden too)": "/feed/export.csv?hidden=1",
}


def run(argv: list[str]) -> list[str]:
    if connection.vendor != "postgresql":
        return ["skipped: needs PostgreSQL (set DATABASE_URL)"]
    sizes = people_bench._sizes(argv)
    call_command("migrate", verbosity=0)
    clients: dict[int, Client] = {}
    lines: list[str] = []
    for size in sizes:
        workspace, seeded_in = people_bench._workspace(size, reseed=False)
        if seeded_in:
            lines.append(f"{size:>9,} people: seeded in {seeded_in:.1f} s")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(people_bench._member(workspace, size))
        clients[size] = client
    base, big = sizes[0], sizes[-1]
    label = people_bench._label
    lines.append(
        f"{'export':<40}{'size':>6}{'first rows':>12}{'whole file':>12}{'rows':>11}"
        f"{'peak RSS growth':>17}"
    )
    for name, url in EXPORTS.items():
        for size in (base, big):
            first, total, rows, peak = _export(clients[size], url)
            lines.append(
                f"{name:<40}{label(size):>6}{first * 1000:>10.0f}ms{total:>11.1f}s{rows:>11,}"
                f"{peak / 1024:>15.1f}MB"
            )
    return lines


def _export(client: Client, url: str) -> tuple[float, float, int, int]:
    """(seconds to the first chunk of rows, seconds to the end, rows, growth of the peak resident
    set in KiB)."""
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with override_settings(DEBUG=False):
        start = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        chunks = iter(response.streaming_content)
        header = next(chunks)
        first_chunk = next(chunks, b"")
        first = time.perf_counter() - start
        rows = first_chunk.count(b"\n") + header.count(b"\n") - 1
        for chunk in chunks:
            rows += chunk.count(b"\n")  # rows hold no newlines in this data
        total = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    return first, total, rows, grown
