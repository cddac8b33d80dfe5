"""Read API at scale: every endpoint at 1M people / 10M events next to 1k people / 10k events.

Reads the workspaces the `people` and `feed` sections seed: "Bench people <n>" for the people,
group and person endpoints (reused, or seeded again when their shape changed, as the people
section does; their groups are full pages at both sizes, so the group rows compare like for like),
"bench-feed-<n>" for the event endpoints (run the feed section first). Each run issues one API
key per workspace (revoked at the end) and requests each endpoint with it through Django's test
Client, the sizes taking turns; the median counts.
The throttle is off for the run. Options: those of the people and feed sections for the sizes
(--people-sizes=, --scale=, --small=), --api-repeat=N (default 9).
"""

import statistics
import time
from collections.abc import Callable

from django.db import connection
from django.test import Client, override_settings

from accounts.models import Workspace
from api.services import api_key_create, api_key_revoke
from bench import feed as feed_bench
from bench import people as people_bench
from core.paging import Cursor
from feed.models import Event
from people.models import Person


def run(argv: list[str]) -> list[str]:
    if connection.vendor != "postgresql":
        return ["skipped: needs PostgreSQL (set DATABASE_URL)"]
    repeat = _repeat(argv)
    people_sizes = people_bench._sizes(argv)
    options = feed_bench._options(argv)
    for size in (people_sizes[0], people_sizes[-1]):
        people_bench._workspace(size, reseed=False)
    pairs = [
        ("people", [people_bench._workspace_name(s) for s in (people_sizes[0], people_sizes[-1])]),
        ("events", [f"{feed_bench.PREFIX}{s}" for s in (options.small, options.scale)]),
    ]
    lines: list[str] = []
    with override_settings(API_RATE_LIMIT=""):
        for kind, names in pairs:
            workspaces = list(Workspace.objects.filter(name__in=names))
            if len(workspaces) != 2:
                lines.append(f"{kind}: {names} not seeded; run `make bench` people and feed first")
                continue
            workspaces.sort(key=lambda w: names.index(w.name))
            urls = [_people_urls(w) if kind == "people" else _event_urls(w) for w in workspaces]
            lines += _measure(kind, names, workspaces, urls, repeat)
    return lines


def _repeat(argv: list[str]) -> int:
    for arg in argv:
        if arg.startswith("--api-repeat="):
            return int(arg.split("=", 1)[1])
    return 9


def _people_urls(workspace: Workspace) -> dict[str, str]:
    people = Person.objects.for_workspace(workspace).current()
    count = people.count()
    deep = people.order_by("-last_seen", "-id").values_list("last_seen", "id")[count * 9 // 10]
    person = (
        people.filter(email__isnull=False).order_by("pk").values_list("pk", flat=True)[count // 2]
    )
    # The largest group: a full page of members at both sizes (bench/people.py seeds it so).
    group, _ = people_bench.largest_group(workspace)
    return {
        "people, first page": "/api/v1/people/",
        "people, next page at 90% (keyset)": "/api/v1/people/?after="
        + Cursor(moment=deep[0], id=deep[1]).encode(),
        "people, search 'user1' (broad)": "/api/v1/people/?q=user1",
        "people, search one email": f"/api/v1/people/?q={people.get(pk=person).email}",
        "people, audience 'beta'": "/api/v1/people/?audience=beta",
        "people, missing email": "/api/v1/people/?missing_email=1",
        "people, one group": f"/api/v1/people/?group={group}",
        "person": f"/api/v1/people/{person}/",
        "groups": "/api/v1/groups/",
        "group with members": f"/api/v1/groups/{group}/",
    }


def _event_urls(workspace: Workspace) -> dict[str, str]:
    first = Event.objects.for_workspace(workspace).order_by("timestamp", "id").first()
    last = Event.objects.for_workspace(workspace).order_by("-timestamp", "-id").first()
    span = last.timestamp - first.timestamp
    deep = Cursor(moment=first.timestamp + span / 10, id=2**62).encode()
    middle = _iso(first.timestamp + span / 2)
    person = last.identity.person_id
    return {
        "events, first page": "/api/v1/events/",
        "events, hidden shown": "/api/v1/events/?hidden=1",
        "events, next page at 90% (keyset)": f"/api/v1/events/?after={deep}",
        "events, name=Order Completed": "/api/v1/events/?name=Order%20Completed",
        "events, type=screen": "/api/v1/events/?type=screen",
        # Each reads one page from its end of the range, whatever the range holds.
        "events, since mid-year": f"/api/v1/events/?since={middle}",
        "events, until mid-year": f"/api/v1/events/?until={middle}",
        "person's events": f"/api/v1/people/{person}/events/?hidden=1",
    }


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _SqlTimer:
    def __init__(self) -> None:
        self.ms = 0.0
        self.count = 0

    def __call__(self, execute: Callable, sql: str, params, many: bool, context: dict):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - began) * 1000
            self.count += 1


def _get(client: Client, url: str) -> tuple[float, float, int, int]:
    """(total ms, SQL ms, queries, rows) of one request."""
    timer = _SqlTimer()
    began = time.perf_counter()
    with connection.execute_wrapper(timer):
        response = client.get(url)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:200]!r}")
    body = response.json()
    rows = len(body.get("results", body.get("members", [body])))
    return elapsed, timer.ms, timer.count, rows


def _measure(
    kind: str,
    names: list[str],
    workspaces: list[Workspace],
    urls: list[dict[str, str]],
    repeat: int,
) -> list[str]:
    issued = [api_key_create(workspace=w, name="bench", created_by=None) for w in workspaces]
    clients = [
        Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {i.secret}") for i in issued
    ]
    small, big = (n.rsplit(" ", 1)[-1].rsplit("-", 1)[-1] for n in names)
    lines = [
        f"{kind} endpoints, median of {repeat} (test Client, API key), {small} vs {big}:",
        f"  {'endpoint':<36} {small:>10} {big:>10}  ratio | SQL ratio | queries | rows",
    ]
    try:
        for label in urls[0]:
            pair = [u[label] for u in urls]
            for client, url in zip(clients, pair, strict=True):
                _get(client, url)  # warm-up (and the key's last-used stamp)
            totals: list[list[float]] = [[], []]
            sqls: list[list[float]] = [[], []]
            shape: list[tuple[int, int]] = [(0, 0), (0, 0)]
            for _ in range(repeat):
                for i, (client, url) in enumerate(zip(clients, pair, strict=True)):
                    total, sql, count, rows = _get(client, url)
                    totals[i].append(total)
                    sqls[i].append(sql)
                    shape[i] = (count, rows)
            a, b = (statistics.median(t) for t in totals)
            qa, qb = (statistics.median(q) for q in sqls)
            lines.append(
                f"  {label:<36} {a:8.1f}ms {b:8.1f}ms  x{b / a:4.2f} |   x{qb / qa:5.2f} |"
                f" {shape[0][0]}/{shape[1][0]}     | {shape[0][1]}/{shape[1][1]}"
            )
    finally:
        for i in issued:
            api_key_revoke(key=i.key)
    return lines
