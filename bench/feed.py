"""Feed at scale: the real /feed/ view at 10M events next to the same view at 10k events.

Two workspaces of their own ("bench-feed-<n>"), seeded once with PostgreSQL COPY and kept for
the next run (`--reseed` seeds again, `--drop` removes them): a realistic mix of ~40% page views
(hidden), product and e-commerce tracks, screens, identifies, groups and aliases, from persons
with user and anonymous identities, over a year, with a few percent delivered late. Each view is
requested through Django's test Client, logged in as a member, several times; the median counts.

Options: --scale N (events of the big workspace, default 10,000,000; --feed-scale wins over
--scale), --small N (default 10,000), --repeat N (default 7), --reseed, --drop.
"""

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, Q
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Workspace
from accounts.services import source_create
from bench.rollups import rollups_fill
from core.paging import Cursor
from feed.models import Event
from feed.selectors import FeedFilters, feed_events, feed_watermark
from people.models import Identity, Person

PREFIX = "bench-feed-"
SEEDING = " (seeding)"
SPAN = timedelta(days=365)
EVENTS_PER_PERSON = 100
CHUNK = 50_000
# Above this many rows, drop the secondary indexes, COPY, and build them again: one sorted build
# is many times faster than maintaining ten B-trees row by row on a 2-core machine.
REBUILD_INDEXES_ABOVE = 1_000_000

PAGES = [
    ("Home", "/"),
    ("Pricing", "/pricing"),
    ("Docs", "/docs"),
    ("Blog", "/blog"),
    ("Sign up", "/signup"),
    ("Changelog", "/changelog"),
    ("Careers", "/careers"),
    ("Integrations", "/integrations"),
]
PRODUCTS = [(f"sku-{i:03d}", f"Product {i}", round(5 + i * 3.25, 2)) for i in range(40)]
SCREENS = ["Home", "Settings", "Cart", "Product", "Search", "Profile"]
# (kind, weight): together they give ~40% page views, the rest spread like a product's stream.
MIX = [
    ("page", 40.0),
    ("Product Viewed", 12.0),
    ("Button Clicked", 10.0),
    ("Signed In", 8.0),
    ("screen", 8.0),
    ("Product Added", 6.0),
    ("Feature Used", 5.0),
    ("identify", 4.0),
    ("Checkout Started", 3.0),
    ("Order Completed", 2.0),
    ("Subscription Renewed", 1.0),
    ("group", 0.7),
    ("alias", 0.3),
]
LIBRARY = '"context":{"library":{"name":"analytics-python","version":"2.4.0"}}'


@dataclass(frozen=True)
class Variant:
    """One pre-rendered kind of event; rows pick one and add their own ids and times."""

    type: str
    name: str
    properties: str
    raw_tail: str


@dataclass(frozen=True)
class Seeded:
    workspace: Workspace
    user: object
    size: int
    start: datetime


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench feed", add_help=False)
    parser.add_argument("--scale", type=int, default=10_000_000)
    parser.add_argument("--feed-scale", type=int)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--drop", action="store_true")
    options, _ = parser.parse_known_args(argv)
    if options.feed_scale:
        options.scale = options.feed_scale
    return options


def _log(text: str) -> None:
    print(f"  [feed] {text}", file=sys.stderr, flush=True)


def _variants(rng: random.Random) -> list[list[Variant]]:
    """A few dozen variants per kind of MIX, pre-serialised (the COPY loop only concatenates)."""

    def dump(value: object) -> str:
        return json.dumps(value, separators=(",", ":"))

    kinds: list[list[Variant]] = []
    for kind, _weight in MIX:
        variants = []
        for i in range(24):
            product = PRODUCTS[rng.randrange(len(PRODUCTS))]
            if kind == "page":
                title, path = PAGES[i % len(PAGES)]
                props = {
                    "title": f"{title} - Acme",
                    "path": path,
                    "url": f"https://acme.example{path}",
                    "referrer": "https://www.google.com/" if i % 3 == 0 else "",
                }
                variants.append(Variant("page", title, dump(props), f'"name":{dump(title)}'))
            elif kind == "screen":
                name = SCREENS[i % len(SCREENS)]
                props = {"name": name, "build": 400 + i}
                variants.append(Variant("screen", name, dump(props), f'"name":{dump(name)}'))
            elif kind == "identify":
                traits = {"plan": ["free", "pro", "team"][i % 3], "logins": i * 3}
                if i % 2:
                    traits["name"] = f"Customer {i}"
                variants.append(Variant("identify", "", "{}", f'"traits":{dump(traits)}'))
            elif kind == "group":
                tail = f'"groupId":"org-{i}","traits":{{"name":"Org {i}","plan":"team"}}'
                variants.append(Variant("group", "", "{}", tail))
            elif kind == "alias":
                variants.append(Variant("alias", "", "{}", f'"previousId":"anon-{i}"'))
            else:
                props: dict = {"product_id": product[0], "name": product[1]}
                if kind in {"Order Completed", "Checkout Started"}:
                    props = {
                        "order_id": f"o-{i}",
                        "revenue": product[2] * (1 + i % 3),
                        "currency": "USD" if i % 4 else "EUR",
                        "products": [{"product_id": product[0], "price": product[2]}],
                    }
                elif kind in {"Button Clicked", "Feature Used", "Signed In"}:
                    props = {"button": ["primary", "secondary", "nav"][i % 3], "page": "/app"}
                elif kind == "Subscription Renewed":
                    props = {"plan": "pro", "value": 49, "currency": "USD"}
                name = dump(kind)
                variants.append(
                    Variant(
                        "track", kind, dump(props), f'"event":{name},"properties":{dump(props)}'
                    )
                )
        kinds.append(variants)
    return kinds


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _defaults(model: type[Model], given: list[str]) -> tuple[list[str], str]:
    """The other NOT NULL-safe columns of `model` with their defaults, so that fields added by
    later migrations do not break the COPY: (column names, their values as one COPY fragment)."""
    now = timezone.now()
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in given or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            # The model's default, "" for a NOT NULL text field without one, else NULL.
            value = field.get_default()
        columns.append(field.column)
        values.append(_copy_value(value))
    return columns, "\t".join(values)


def _reserve_ids(model: type[Model], count: int) -> int:
    """The first of `count` fresh primary keys, taken from the table's sequence in one step."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, "
            "'id')) + %s) - %s",
            [table, table, count, count],
        )
        return cursor.fetchone()[0] + 1


def _copy(model: type[Model], columns: list[str], lines: Iterator[str]) -> None:
    extra, tail = _defaults(model, columns)
    names = ", ".join(connection.ops.quote_name(c) for c in columns + extra)
    suffix = f"\t{tail}\n" if extra else "\n"
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        # The rows are generated consistent (ids reserved above): skip the per-row foreign-key
        # triggers, which would otherwise queue one deferred check per row until the commit.
        _replication_role(cursor, "replica")
        try:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                batch: list[str] = []
                for line in lines:
                    batch.append(line + suffix)
                    if len(batch) >= CHUNK:
                        copy.write("".join(batch))
                        batch.clear()
                if batch:
                    copy.write("".join(batch))
        finally:
            _replication_role(cursor, "origin")


def _replication_role(cursor: CursorWrapper, role: str) -> None:
    # Needs a superuser; without one the COPY still works, checking every row's foreign keys.
    try:
        with transaction.atomic():
            cursor.execute(f"SET session_replication_role = {role}")
    except DatabaseError:
        pass


def _seed(size: int, rng: random.Random) -> Seeded:
    name = f"{PREFIX}{size}"
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=f"{name}@bench.example")
    workspace = Workspace.objects.create(name=name + SEEDING)
    Membership.objects.create(user=user, workspace=workspace, role=Membership.Role.OWNER)
    source = source_create(workspace=workspace, name="Bench").source
    now = timezone.now()
    start = now - SPAN - timedelta(minutes=1)
    persons = max(size // EVENTS_PER_PERSON, 10)
    _log(f"{size:,} events: {persons:,} persons")

    first_person = _reserve_ids(Person, persons)

    def person_lines() -> Iterator[str]:
        for i in range(persons):
            pk = first_person + i
            has_email = i % 10 != 0  # some people never sent an email: kept and marked
            email = f"customer{i}@example.com" if has_email else "\\N"
            person_name = f"Customer {i}" if i % 4 else "\\N"
            traits = json.dumps({"plan": ["free", "pro", "team"][i % 3]})
            seen = (start + SPAN * (i / persons)).isoformat()
            yield f"{pk}\t{workspace.pk}\t{email}\t{person_name}\t{traits}\tt\t{seen}\t{seen}"

    _copy(
        Person,
        [
            "id",
            "workspace_id",
            "email",
            "name",
            "traits",
            "is_identified",
            "first_seen",
            "last_seen",
        ],
        person_lines(),
    )

    # Every person has a user id; three in ten also an anonymous id from before they signed up.
    anonymous = persons * 3 // 10
    first_identity = _reserve_ids(Identity, persons + anonymous)

    def identity_lines() -> Iterator[str]:
        for i in range(persons):
            pk, person = first_identity + i, first_person + i
            yield f"{pk}\t{workspace.pk}\tu-{i}\tuser\t{person}"
        for j in range(anonymous):
            pk, person = first_identity + persons + j, first_person + (j * 7919) % persons
            yield f"{pk}\t{workspace.pk}\tanon-{j}\tanonymous\t{person}"

    _copy(Identity, ["id", "workspace_id", "value", "kind", "person_id"], identity_lines())

    kinds = _variants(rng)
    weights = [w for _, w in MIX]
    picks = rng.choices(range(len(MIX)), weights=weights, k=4096)
    identities = persons + anonymous
    step = SPAN / size
    user_ids = [f"u-{i}" for i in range(persons)] + [f"anon-{j}" for j in range(anonymous)]

    def event_lines() -> Iterator[str]:
        randrange, random_ = rng.randrange, rng.random
        for n in range(size):
            variant_list = kinds[picks[randrange(4096)]]
            variant = variant_list[randrange(len(variant_list))]
            ident = randrange(identities)
            received = start + step * n
            # Mostly delivered within seconds; 3% are late (an app flushing its queue hours later).
            lag = timedelta(hours=random_() * 48) if random_() < 0.03 else timedelta(seconds=1)
            ts = (received - lag).isoformat()
            message_id = f"b{size}-{n:010d}"
            raw = (
                f'{{"type":"{variant.type}","messageId":"{message_id}",'
                f'"userId":"{user_ids[ident]}","timestamp":"{ts}",{variant.raw_tail},{LIBRARY}}}'
            )
            hidden = "t" if variant.type == "page" else "f"
            yield (
                f"{workspace.pk}\t{source.pk}\t{first_identity + ident}\t{variant.type}\t"
                f"{variant.name}\t{variant.properties}\t{message_id}\t{ts}\t"
                f"{received.isoformat()}\t{hidden}\t{raw}"
            )
            if n and n % 1_000_000 == 0:
                _log(f"  {n:,} events copied")

    event_columns = [
        "workspace_id",
        "source_id",
        "identity_id",
        "type",
        "name",
        "properties",
        "message_id",
        "timestamp",
        "received_at",
        "hidden",
        "raw",
    ]
    began = time.perf_counter()
    with _indexes_rebuilt(size > REBUILD_INDEXES_ABOVE):
        _copy(Event, event_columns, event_lines())
        _log(f"COPY of {size:,} events: {time.perf_counter() - began:.0f} s")
    Workspace.objects.filter(pk=workspace.pk).update(name=name)
    workspace.name = name
    return Seeded(workspace=workspace, user=user, size=size, start=start)


class _indexes_rebuilt:
    """Drop the secondary indexes of the event table for a bulk COPY; rebuild them afterwards,
    from their own definitions, even when the COPY fails."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.definitions: list[tuple[str, str]] = []

    def __enter__(self) -> None:
        if not self.enabled:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.tablename = %s AND i.indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [Event._meta.db_table, Event._meta.db_table],
            )
            self.definitions = cursor.fetchall()
            for index, _ in self.definitions:
                cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(index)}")
        _log(f"dropped {len(self.definitions)} secondary indexes for the COPY")

    def __exit__(self, *exc: object) -> None:
        if not self.enabled:
            return
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            for _, definition in self.definitions:
                cursor.execute(definition)
        _log(f"rebuilt {len(self.definitions)} indexes: {time.perf_counter() - began:.0f} s")


def _drop(workspace_id: int) -> None:
    # Bulk SQL for the big tables: the ORM's cascade would load millions of rows into memory.
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (Event._meta.db_table, Identity._meta.db_table, Person._meta.db_table):
            cursor.execute(f"DELETE FROM {table} WHERE workspace_id = %s", [workspace_id])
        Workspace.objects.filter(pk=workspace_id).delete()


def _ensure(size: int, *, reseed: bool, rng: random.Random) -> tuple[Seeded, bool]:
    """The seeded workspace of this size, seeding it if absent; True when seeded now."""
    name = f"{PREFIX}{size}"
    for stale in Workspace.objects.filter(name__in=[name + SEEDING] + ([name] if reseed else [])):
        _log(f"dropping {stale.name}")
        _drop(stale.pk)
    workspace = Workspace.objects.filter(name=name).first()
    if workspace is None:
        seeded = _seed(size, rng)
        rollups_fill(seeded.workspace.pk)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return seeded, True
    user = Membership.objects.get(workspace=workspace).user
    first = Event.objects.for_workspace(workspace).order_by("timestamp", "id").first()
    start = first.timestamp if first else timezone.now() - SPAN
    return Seeded(workspace=workspace, user=user, size=size, start=start), False


@dataclass(frozen=True)
class View:
    label: str
    filters: FeedFilters
    # How far down an "Older" link starts, as a fraction of the workspace's year (None: top).
    depth: float | None = None
    poll: bool = False

    def url(self, seeded: Seeded, watermark: int) -> str:
        if self.poll:
            return "/feed/new/?" + self.filters.querystring(after=watermark)
        if self.depth is None:
            return "/feed/?" + self.filters.querystring()
        return "/feed/?" + self.filters.querystring(
            before=self.cursor(seeded).encode(), upto=watermark
        )

    def cursor(self, seeded: Seeded) -> Cursor | None:
        if self.depth is None:
            return None
        return Cursor(moment=seeded.start + SPAN * (1 - self.depth), id=2**62)


VISIBLE = FeedFilters(show_hidden=False)
ALL = FeedFilters(show_hidden=True)
ORDERS = FeedFilters(show_hidden=False, name="Order Completed")
SCREENS_ONLY = FeedFilters(show_hidden=False, type="screen")

VIEWS = [
    View("first page", VISIBLE),
    View("first page, hidden shown", ALL),
    View("Older at 90% depth", VISIBLE, depth=0.9),
    View("Older at 90%, hidden shown", ALL, depth=0.9),
    View("name=Order Completed (2%)", ORDERS),
    View("name=Order Completed, 70%", ORDERS, depth=0.7),
    View("type=screen, 90%", SCREENS_ONLY, depth=0.9),
    View("poll, nothing new", VISIBLE, poll=True),
]


def _client(seeded: Seeded) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(seeded.user)
    return client


class _SqlTimer:
    """Sums the time the view spends in the database (an execute wrapper on the connection)."""

    def __init__(self) -> None:
        self.ms = 0.0

    def __call__(
        self, execute: Callable, sql: str, params: object, many: bool, context: dict
    ) -> object:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - began) * 1000


def _get(client: Client, url: str) -> tuple[float, float, int]:
    """(total ms, ms in SQL, rows shown) for one request."""
    # "Older" and the poll are htmx requests in the browser; the first page is a full page.
    htmx = {"HTTP_HX_REQUEST": "true"} if "before=" in url or "/new/" in url else {}
    timer = _SqlTimer()
    began = time.perf_counter()
    with connection.execute_wrapper(timer):
        response = client.get(url, **htmx)
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, timer.ms, response.content.count(b'<li class="event')


@dataclass(frozen=True)
class Timing:
    ms: float
    sql_ms: float
    rows: int


def _measure(workspaces: list[Seeded], repeat: int) -> dict[str, list[Timing]]:
    """Per view, the median timing for each workspace. The workspaces' requests alternate, so
    that load from elsewhere on the machine falls on both sides of a ratio alike."""
    clients = [_client(seeded) for seeded in workspaces]
    watermarks = [feed_watermark(workspace=seeded.workspace) for seeded in workspaces]
    results: dict[str, list[Timing]] = {}
    for view in VIEWS:
        urls = [
            view.url(seeded, watermark)
            for seeded, watermark in zip(workspaces, watermarks, strict=True)
        ]
        rows = [_get(client, url)[2] for client, url in zip(clients, urls, strict=True)]
        totals: list[list[float]] = [[] for _ in workspaces]
        sqls: list[list[float]] = [[] for _ in workspaces]
        for _ in range(repeat):
            for i, (client, url) in enumerate(zip(clients, urls, strict=True)):
                total, sql, _rows = _get(client, url)
                totals[i].append(total)
                sqls[i].append(sql)
        results[view.label] = [
            Timing(statistics.median(t), statistics.median(q), r)
            for t, q, r in zip(totals, sqls, rows, strict=True)
        ]
    return results


def _plan(seeded: Seeded, view: View) -> str:
    """Which indexes a view's event query walks (to see the keyset at work)."""
    events = feed_events(workspace=seeded.workspace, filters=view.filters)
    cursor = view.cursor(seeded)
    if cursor is not None:
        events = events.filter(
            Q(timestamp__lte=cursor.moment) & (Q(timestamp__lt=cursor.moment) | Q(id__lt=cursor.id))
        )
    plan = json.loads(events.newest_first()[:51].explain(format="json"))
    names: list[str] = []

    def walk(node: dict) -> None:
        if "Index Name" in node and not node["Index Name"].startswith("people_"):
            names.append(f"{node['Node Type']} on {node['Index Name']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return ", ".join(names) or "no index"


def run(argv: list[str]) -> list[str]:
    if connection.vendor != "postgresql":
        return ["skipped: needs PostgreSQL (set DATABASE_URL)"]
    options = _options(argv)
    rng = random.Random(20261123)
    if options.drop:
        dropped = Workspace.objects.filter(name__startswith=PREFIX)
        for workspace in dropped:
            _drop(workspace.pk)
        with connection.cursor() as cursor:
            # Give the space of millions of deleted rows back (an exclusive lock: a bench DB).
            for model in (Event, Identity, Person):
                cursor.execute(f"VACUUM FULL ANALYZE {model._meta.db_table}")
        return [f"dropped {len(dropped)} bench workspaces"]

    lines: list[str] = []
    small, _ = _ensure(options.small, reseed=options.reseed, rng=rng)
    big_exists = Workspace.objects.filter(name=f"{PREFIX}{options.scale}").exists()
    if not big_exists or options.reseed:
        # The small workspace alone first, so the table's own growth is visible too.
        alone = _measure([small], options.repeat)
        total = Event.objects.count()
        lines.append(f"before seeding the big workspace ({total:,} events in the table):")
        lines += [
            f"  {label:<28} {t.ms:8.1f} ms (SQL {t.sql_ms:.1f} ms)" for label, [t] in alone.items()
        ]
    big, seeded_now = _ensure(options.scale, reseed=options.reseed, rng=rng)
    if seeded_now:
        lines.append(f"seeded {options.scale:,} events with COPY (see stderr for timings)")

    results = _measure([small, big], options.repeat)
    lines.append(
        f"median of {options.repeat} requests through the real view (test Client, logged in):"
    )
    lines.append(
        f"  {'view':<28} {options.small:>10,} {options.scale:>12,}  ratio"
        f"  | SQL {options.small:>8,} {options.scale:>12,}  ratio | rows"
    )
    for label, (a, b) in results.items():
        lines.append(
            f"  {label:<28} {a.ms:7.1f} ms {b.ms:9.1f} ms  x{b.ms / a.ms:4.2f}"
            f"  |   {a.sql_ms:7.2f} ms {b.sql_ms:9.2f} ms  x{b.sql_ms / a.sql_ms:4.2f}"
            f" | {a.rows}/{b.rows}"
        )
    for view in (VIEWS[0], VIEWS[2], VIEWS[5]):
        lines.append(f"plan at {options.scale:,}, {view.label}: {_plan(big, view)}")
    lines.append(_sizes())
    return lines


def _sizes() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), pg_size_pretty(pg_table_size(%s)), "
            "pg_size_pretty(pg_indexes_size(%s)) FROM feed_event",
            [Event._meta.db_table, Event._meta.db_table],
        )
        rows, table, indexes = cursor.fetchone()
    return f"event table: {rows:,} rows, {table} of rows, {indexes} of indexes"
