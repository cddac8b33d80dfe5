"""People pages at 1M people next to the same pages at 1k: the goal is that size barely matters.

Seeds one workspace per size with PostgreSQL COPY (people, identities, groups, and 20 events for
one person in a hundred), then times the real views through Django's test Client, logged in as a
member of that workspace: the median of several runs after a warm-up. Seeded workspaces are kept
and reused by the next run (`--people-reseed` seeds again, `--people-clean` deletes them after).
`--people-sizes=1000,100000` changes the sizes (the first one is the baseline).

Then a person with many ids (`--people-ids=3000,6000`, one event per id, in a small workspace of
their own, seeded with COPY as a person from before the id bound of people/id_limit.py would be):
their page, timeline and API events at n and 2n ids, where a timeline statement with one branch
per id once cost quadratic time (3,000 ids 2.7 s, 6,000 ids 13-19 s). `--people-ids-only` runs
only this part.
"""

import json
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client

from accounts.models import Membership, Workspace
from api.services import api_key_create
from bench.rollups import rollups_fill
from people.models import Group, Identity, Person

SIZES = (1_000, 1_000_000)
REPETITIONS = 15
GROUPS = 1_000
# Two people in three belong to a group: one in three spread over all the groups, one in three
# over the first groups only, 200 people apart, so that at every size the first group's page is
# full (50 members) and the group list too: the group rows compare scale, not page size (at 1k
# people group 0 has ~67 members; at 1M both spreads cover the 1,000 groups, ~667 members each).
PEOPLE_PER_DENSE_GROUP = 200
FULL_PAGE = 50
EVENTS_EVERY = 100  # one person in a hundred has a timeline
EVENTS_PER_PERSON = 20
# One heavy customer in every workspace, spread over two identities: their timeline must not
# cost more than anyone else's.
HEAVY_EVENTS = 100_000
HEAVY_EMAIL = "heavy@example.com"
FIRST = "ada alan barbara claude dennis edsger frances grace hedy ivan joan ken linus margaret"
LAST = "lovelace turing liskov shannon ritchie dijkstra allen hopper lamarr sutherland clarke"
FIRST_NAMES = [n.title() for n in FIRST.split()]
LAST_NAMES = [n.title() for n in LAST.split()]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def run(argv: list[str]) -> list[str]:
    if connection.vendor != "postgresql":
        return ["skipped: needs PostgreSQL (set DATABASE_URL)"]
    call_command("migrate", verbosity=0)
    if "--people-ids-only" in argv:
        return many_ids(argv)
    sizes = _sizes(argv)
    lines: list[str] = []
    clients: dict[int, tuple[Client, dict[str, str]]] = {}
    for size in sizes:
        workspace, seeded_in = _workspace(size, reseed="--people-reseed" in argv)
        lines.append(
            f"{size:>9,} people: "
            + (f"seeded in {seeded_in:.1f} s" if seeded_in else "reused the seeded workspace")
        )
        clients[size] = _pages(workspace, size)
    base, big = sizes[0], sizes[-1]
    lines.append(
        f"{f'page (median of {REPETITIONS})':<44}{_label(base):>10}{_label(big):>10}  ratio"
    )
    for page in clients[base][1]:
        # Sizes take turns within each repetition, so load from elsewhere hits both alike.
        times: dict[int, list[float]] = {size: [] for size in sizes}
        for size in sizes:
            _get(clients[size][0], clients[size][1][page])  # warm-up
        for _ in range(REPETITIONS):
            for size in sizes:
                client, urls = clients[size]
                start = time.perf_counter()
                _get(client, urls[page])
                times[size].append(time.perf_counter() - start)
        a, b = (statistics.median(times[s]) * 1000 for s in (base, big))
        lines.append(f"{page:<44}{a:>8.1f}ms{b:>8.1f}ms  {b / a:>5.2f}")
    lines += many_ids(argv)
    if "--people-clean" in argv:
        for size in sizes:
            _delete(Workspace.objects.get(name=_workspace_name(size)))
        lines.append("deleted the seeded workspaces")
    return lines


# --- A person with many ids -------------------------------------------------------------------

MANY_IDS = (3_000, 6_000)
MANY_IDS_REPETITIONS = 5
MANY_IDS_WORKSPACE = "Bench many ids"


def many_ids(argv: list[str]) -> list[str]:
    """One person's pages at n and 2n ids: the ratio says whether the cost grows with the ids
    (about 2 when linear, 4 when quadratic)."""
    sizes = MANY_IDS
    for arg in argv:
        if arg.startswith("--people-ids="):
            sizes = tuple(int(s) for s in arg.split("=", 1)[1].split(","))
    workspace, _ = Workspace.objects.get_or_create(name=MANY_IDS_WORKSPACE)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(_member(workspace, 0))
    secret = api_key_create(workspace=workspace, name="bench", created_by=None).secret
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {secret}")
    people = {n: _person_with_ids(workspace, n) for n in sizes}
    base, big = sizes[0], sizes[-1]
    lines = [
        f"{f'one person (median of {MANY_IDS_REPETITIONS})':<44}{base:>8,} ids{big:>6,} ids  ratio"
    ]
    for page, who, url in (
        ("Person page", client, "/people/{}/"),
        ("Person timeline", client, "/feed/people/{}/"),
        ("Person timeline with hidden events", client, "/feed/people/{}/?hidden=1"),
        ("API: the person's events", api, "/api/v1/people/{}/events/"),
    ):
        times: dict[int, list[float]] = {n: [] for n in sizes}
        for n in sizes:
            _get(who, url.format(people[n]))  # warm-up
        for _ in range(MANY_IDS_REPETITIONS):
            for n in sizes:
                start = time.perf_counter()
                _get(who, url.format(people[n]))
                times[n].append(time.perf_counter() - start)
        a, b = (statistics.median(times[n]) * 1000 for n in (base, big))
        lines.append(f"{page:<44}{a:>8.1f}ms{b:>8.1f}ms  {b / a:>5.2f}")
    return lines


def _person_with_ids(workspace: Workspace, n: int) -> int:
    """A person holding `n` anonymous ids with one event each, seeded once and reused."""
    name = f"Many ids {n}"
    found = Person.objects.for_workspace(workspace).filter(name=name).first()
    if found:
        return found.pk
    with transaction.atomic():
        person = Person.objects.create(
            workspace=workspace, name=name, first_seen=NOW, last_seen=NOW, event_count=n
        )
        with connection.cursor() as django_cursor:
            cursor = django_cursor.cursor
            start = _reserve_ids(cursor, "people_identity", n)
            with cursor.copy(
                "COPY people_identity (id, workspace_id, value, kind, person_id, trait_versions,"
                " first_seen, last_seen, event_count, linked_at, linked_by_message_id, linked_to,"
                " linked_by_type, aliased, created_at) FROM STDIN"
            ) as copy:
                for i in range(n):
                    copy.write_row(
                        (start + i, workspace.pk, f"many-{person.pk}-{i}", "anonymous", person.pk,
                         "{}", NOW, NOW, 1, NOW, f"many-{i}", "", "track", False, NOW)
                    )  # fmt: skip
            with cursor.copy(
                "COPY feed_event (workspace_id, identity_id, type, name, properties, context,"
                " message_id, timestamp, received_at, hidden, raw, warnings) FROM STDIN"
            ) as copy:
                for i in range(n):
                    moment = (NOW - timedelta(minutes=i)).isoformat()
                    kind = "page" if i % 3 == 0 else "track"
                    message_id = f"bench-many-{person.pk}-{i}"
                    raw = json.dumps({"type": kind, "messageId": message_id})
                    copy.write_row(
                        (workspace.pk, start + i, kind, "Clicked", "{}", "{}", message_id, moment,
                         moment, kind == "page", raw, "[]")
                    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_identity")
        cursor.execute("ANALYZE feed_event")
    return person.pk


def _sizes(argv: list[str]) -> tuple[int, ...]:
    for arg in argv:
        if arg.startswith("--people-sizes="):
            return tuple(int(s) for s in arg.split("=", 1)[1].split(","))
    return SIZES


def _label(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1_000}k"


# --- The pages timed --------------------------------------------------------------------------


def _pages(workspace: Workspace, size: int) -> tuple[Client, dict[str, str]]:
    """A client logged in to the workspace, and the pages to time by name."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(_member(workspace, size))
    people = Person.objects.for_workspace(workspace).current()
    # A person in the middle of the list with a timeline, found once, outside the timings.
    middle = size // 2 - (size // 2) % EVENTS_EVERY
    person = people.filter(email=_email(middle)).values_list("pk", flat=True).get()
    deep = people.order_by("-last_seen", "-id").values_list("last_seen", "id")[size // 2]
    deep_cursor = f"{_micros(deep[0])}.{deep[1]}"
    heavy = _heavy_person(workspace)
    return client, {
        "People page (first 50)": "/people/",
        "People page, Older from the middle (keyset)": f"/people/?after={deep_cursor}",
        # Searches chosen to show as many rows at both sizes: the page's cost is the same work.
        "Search, one email 'user<n>@' (1 match)": f"/people/?q=user{middle}@",
        "Search, email prefix 'user1' (broad)": "/people/?q=user1",
        "Search, first letter 'g' (broadest)": "/people/?q=g",
        "Search, user id 'usr_<n>' (1 match)": f"/people/?q=usr_{middle}",
        "Search, no match 'zzz'": "/people/?q=zzz",
        # A word inside the name (the name-words index): one person in eleven is a Lovelace.
        "Search, any word 'lovelace' (broad)": "/people/?q=lovelace",
        "Search, any word 'lamarr' (broad)": "/people/?q=lamarr",
        "Filter: audience 'beta'": "/people/?audience=beta",
        "Filter: missing email": "/people/?missing_email=1",
        f"Person page ({EVENTS_PER_PERSON} events)": f"/people/{person}/",
        "Person page with hidden events": f"/people/{person}/?hidden=1",
        f"Person page, {HEAVY_EVENTS:,} events": f"/people/{heavy}/",
        # The timeline is the feed's fragment the person page loads with htmx: the page's
        # figure above no longer includes it, so it is timed on its own.
        f"Person timeline ({EVENTS_PER_PERSON} events)": f"/feed/people/{person}/",
        "Person timeline with hidden events": f"/feed/people/{person}/?hidden=1",
        f"Person timeline, {HEAVY_EVENTS:,} events": f"/feed/people/{heavy}/",
    }


def _get(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")


def _micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# --- Seeding with COPY ------------------------------------------------------------------------


def _workspace_name(size: int) -> str:
    return f"Bench people {size}"


def _member(workspace: Workspace, size: int):
    user, _ = get_user_model().objects.get_or_create(username=f"bench-people-{size}@example.com")
    Membership.objects.get_or_create(
        user=user, workspace=workspace, defaults={"role": Membership.Role.OWNER}
    )
    # workspace_for_user picks the user's first membership: keep this user in this one only.
    return user


def _workspace(size: int, *, reseed: bool) -> tuple[Workspace, float | None]:
    existing = Workspace.objects.filter(name=_workspace_name(size)).first()
    seeded = Person.objects.for_workspace(existing).exclude(email=HEAVY_EMAIL) if existing else None
    if (
        existing
        and not reseed
        and seeded.count() == size
        and Group.objects.for_workspace(existing).count() == GROUPS
        and _largest_group(existing) >= min(FULL_PAGE, size * 2 // 3)
    ):
        return existing, None
    if existing:
        _delete(existing)
    start = time.perf_counter()
    with transaction.atomic():
        workspace = Workspace.objects.create(name=_workspace_name(size))
        with connection.cursor() as cursor:
            # The seed is consistent by construction: skip the per-row foreign key triggers,
            # which would queue millions of deferred checks for the commit (needs a superuser;
            # without one the seed is only slower).
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")
        _seed(workspace, size)
        rollups_fill(workspace.pk)
    with connection.cursor() as cursor:
        for table in ("people_person", "people_identity", "people_group", "feed_event"):
            cursor.execute(f"ANALYZE {table}")
    return workspace, time.perf_counter() - start


def _dense_groups(size: int) -> int:
    return max(1, min(GROUPS, size // PEOPLE_PER_DENSE_GROUP))


def largest_group(workspace: Workspace) -> tuple[int | None, int]:
    """(id, members) of the workspace's largest group (the group rows of the API section)."""
    largest = (
        Person.objects.for_workspace(workspace)
        .filter(group__isnull=False)
        .values("group_id")
        .annotate(n=Count("id"))
        .order_by("-n", "group_id")
        .values_list("group_id", "n")
        .first()
    )
    return largest or (None, 0)


def _largest_group(workspace: Workspace) -> int:
    return largest_group(workspace)[1]


def _reserve_ids(cursor, table: str, count: int) -> int:
    """The first of `count` consecutive ids taken from the table's sequence."""
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
        "nextval(pg_get_serial_sequence(%s, 'id')) + %s) - %s",
        [table, table, count - 1, count - 1],
    )
    return cursor.fetchone()[0]


def _email(i: int) -> str:
    return f"user{i}@example{i % 97}.com"


def _seed(workspace: Workspace, size: int) -> None:
    ws = workspace.pk
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        group_start = _reserve_ids(cursor, "people_group", GROUPS)
        person_start = _reserve_ids(cursor, "people_person", size)
        identity_count = size + size // 10
        identity_start = _reserve_ids(cursor, "people_identity", identity_count)
        now = NOW.isoformat()

        with cursor.copy(
            "COPY people_group (id, workspace_id, group_id, name, traits, trait_versions,"
            " created_at, updated_at) FROM STDIN"
        ) as copy:
            for g in range(GROUPS):
                name = f"Company {g}"
                traits = json.dumps({"name": name, "plan": ("free", "pro", "enterprise")[g % 3]})
                copy.write_row((group_start + g, ws, f"grp_{g}", name, traits, "{}", now, now))

        with cursor.copy(
            "COPY people_person (id, workspace_id, email, name, phone, avatar, traits, audiences,"
            " group_id, is_identified, first_seen, last_seen, event_count, created_at,"
            " updated_at) FROM STDIN"
        ) as copy:
            for row in _people_rows(ws, size, person_start, group_start):
                copy.write_row(row)

        with cursor.copy(
            "COPY people_identity (id, workspace_id, value, kind, person_id, trait_versions,"
            " first_seen, last_seen, event_count, linked_at, linked_by_message_id, linked_to,"
            " linked_by_type, aliased, created_at) FROM STDIN"
        ) as copy:
            next_id = identity_start
            for i in range(size):
                seen = _last_seen(i, size).isoformat()
                copy.write_row(
                    (next_id, ws, f"usr_{i}", "user", person_start + i, "{}", seen, seen,
                     _events_of(i), seen, f"msg-identify-{i}", "", "identify", False, now)
                )  # fmt: skip
                next_id += 1
                if i % 10 == 0:
                    copy.write_row(
                        (next_id, ws, f"anon-{i:08x}", "anonymous", person_start + i, "{}", seen,
                         seen, 0, seen, f"msg-identify-{i}", f"usr_{i}", "identify", False, now)
                    )  # fmt: skip
                    next_id += 1

        identity_of = _identity_ids(identity_start, size)

        with cursor.copy(
            "COPY feed_event (workspace_id, identity_id, type, name, properties, context,"
            " message_id, timestamp, received_at, hidden, raw, warnings) FROM STDIN"
        ) as copy:
            for i in range(0, size, EVENTS_EVERY):
                for row in _event_rows(ws, i, identity_of(i), _last_seen(i, size)):
                    copy.write_row(row)


def _events_of(i: int) -> int:
    return EVENTS_PER_PERSON if i % EVENTS_EVERY == 0 else 0


def _last_seen(i: int, size: int) -> datetime:
    # Spread over 90 days and shuffled against the id order, as real traffic would be.
    return NOW - timedelta(seconds=(i * 7919) % size * (90 * 86_400 // size or 1))


def _identity_ids(start: int, size: int) -> Callable[[int], int]:
    # Person i's user id comes after i // 10 + (1 if i % 10 else 0) earlier anonymous ids.
    def identity_of(i: int) -> int:
        return start + i + (i + 9) // 10

    return identity_of


def _people_rows(ws: int, size: int, person_start: int, group_start: int) -> Iterator[tuple]:
    now = NOW.isoformat()
    dense = _dense_groups(size)
    for i in range(size):
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i // 7) % len(LAST_NAMES)]
        name = f"{first} {last}"
        # One in twenty has no email: the "missing email" filter has something to find.
        email = None if i % 20 == 7 else _email(i)
        audiences = {"beta": i % 7 == 0, "big_spenders": i % 31 == 0}
        traits = {"name": name, "plan": ("free", "pro")[i % 2], "logins": i % 50}
        if email:
            traits["email"] = email
        seen = _last_seen(i, size)
        yield (
            person_start + i, ws, email, name, f"+1 555 {i % 10_000:04d}", None,
            json.dumps(traits), json.dumps(audiences),
            _group_of(i, dense, group_start), True,
            (seen - timedelta(days=30)).isoformat(), seen.isoformat(), _events_of(i), now, now,
        )  # fmt: skip


def _group_of(i: int, dense: int, group_start: int) -> int | None:
    if i % 3 == 0:
        return None
    return group_start + (i % GROUPS if i % 3 == 1 else i % dense)


def _event_rows(ws: int, i: int, identity_id: int, last_seen: datetime) -> Iterator[tuple]:
    for n in range(EVENTS_PER_PERSON):
        kind = "page" if n % 3 == 0 else "track"
        name = "Pricing" if kind == "page" else ("Signed Up", "Order Completed", "Invited")[n % 3]
        moment = (last_seen - timedelta(hours=n)).isoformat()
        message_id = f"bench-{ws}-{i}-{n}"
        properties = {"plan": "pro", "revenue": n * 10} if kind == "track" else {"path": "/p"}
        raw = {
            "type": kind,
            "messageId": message_id,
            "userId": f"usr_{i}",
            "properties": properties,
        }
        yield (
            ws, identity_id, kind, name, json.dumps(properties), "{}", message_id, moment,
            moment, kind == "page", json.dumps(raw), "[]",
        )  # fmt: skip


def _heavy_person(workspace: Workspace) -> int:
    """The heavy customer's id, seeded on first use (also in workspaces seeded before it)."""
    found = Identity.objects.filter(workspace=workspace, value="usr_heavy").first()
    if found:
        return found.person_id
    with transaction.atomic():
        seen = NOW - timedelta(minutes=5)
        person = Person.objects.create(
            workspace=workspace, email=HEAVY_EMAIL, name="Heavy User",
            is_identified=True, first_seen=seen - timedelta(days=400), last_seen=seen,
            event_count=HEAVY_EVENTS,
        )  # fmt: skip
        identities = [
            Identity.objects.create(
                workspace=workspace,
                value=value,
                kind=kind,
                person=person,
                first_seen=person.first_seen,
                last_seen=seen,
            )
            for value, kind in (("usr_heavy", "user"), ("anon-heavy", "anonymous"))
        ]
        with (
            connection.cursor() as django_cursor,
            django_cursor.cursor.copy(
                "COPY feed_event (workspace_id, identity_id, type, name, properties, context,"
                " message_id, timestamp, received_at, hidden, raw, warnings) FROM STDIN"
            ) as copy,
        ):
            for n in range(HEAVY_EVENTS):
                moment = (seen - timedelta(minutes=5 * n)).isoformat()
                kind = "page" if n % 4 == 0 else "track"
                message_id = f"bench-heavy-{workspace.pk}-{n}"
                raw = json.dumps({"type": kind, "messageId": message_id})
                copy.write_row(
                    (workspace.pk, identities[n % 2].pk, kind, "Clicked", "{}", "{}", message_id,
                     moment, moment, kind == "page", raw, "[]")
                )  # fmt: skip
    with connection.cursor() as cursor:
        rollups_fill(workspace.pk)  # the heavy events join the seed's (same counts again)
        cursor.execute("ANALYZE feed_event")
    return person.pk


def _delete(workspace: Workspace) -> None:
    """Raw deletes: the ORM's cascade would load a million rows first."""
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("feed_event", "people_identity"):
            cursor.execute(f"DELETE FROM {table} WHERE workspace_id = %s", [workspace.pk])
        cursor.execute(
            "UPDATE people_person SET merged_into_id = NULL, group_id = NULL "
            "WHERE workspace_id = %s",
            [workspace.pk],
        )
        for table in ("people_person", "people_group"):
            cursor.execute(f"DELETE FROM {table} WHERE workspace_id = %s", [workspace.pk])
        workspace.delete()
