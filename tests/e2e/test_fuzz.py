"""Structure-aware fuzzing of the whole stack: mutated SDK requests in, every page out.

The recorded requests of real SDKs (tests/recorded.py) are mutated where senders actually go
wrong: a field of the wrong type, ids that are junk ("undefined", "null", "", numbers), values
nested deep, huge strings and integers (past 64 bits, past the largest float, at Python's
4,300-digit limit), unicode, NUL and lone surrogates, HTML, URLs urllib cannot split, fields
missing. Each example sends them to the real `/v1/*` endpoints (through Django's test client and
the whole middleware stack, then the Redis stream, a real Celery worker and PostgreSQL) between
known-good copies of recorded messages for the same users: one before, one after, and one more
after that in a worker batch of its own, which reads back whatever the mutants left on the
person. It waits for the worker to store them, then reads the pages that show what it stored.
Once Hypothesis is done, every page of the workspace is read (admin lists, status, CSV exports
and the API included).

It fails on any 5xx, any dead letter, any message answered 200 (and not in `rejected`) that was
not stored, and a known-good message that was refused or not stored. Found by it, and fixed:
big integers read back with orjson (a dead-lettered user after a 310-digit trait), the Feed on
an event whose only id is junk, an avatar of "https://[::1" (issue 23).

Bounded: a fixed number of examples and a time budget, after which the remaining examples return
at once, so it stays well under two minutes; no Hypothesis database is written (database=None).
"""

import copy
import gzip
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import Workspace
from feed.models import Event
from ingest.models import DeadLetter
from people.models import Group, Person
from tests.recorded import destination_path, fixture_names, recorded

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

EXAMPLES = 200
BUDGET_SECONDS = 45  # for the examples; the final sweep of every page comes after
WAIT_SECONDS = 30


def _good_requests() -> list[tuple[str, dict[str, str], list[dict[str, Any]], str]]:
    """(path, headers, messages, shape) of every recorded POST; shape is how its body holds them."""
    found = []
    for name in fixture_names():
        for request in recorded(name):
            if request.method != "POST":
                continue
            body = request.body
            shape = "list" if isinstance(body, list) else "batch" if "batch" in body else "single"
            headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
            found.append((destination_path(request), headers, request.messages(), shape))
    return found


GOOD = _good_requests()

JUNK_IDS = ["undefined", "null", "", " ", "0", "-1", "NaN", "[object Object]", "None", "nil"]
NUMBERS = [0, -1, 2**63 - 1, 1e308, -1e-308, 5e-324, 0.1, -0.0]
BIG_NUMBERS = [
    2**64,
    10 * 2**64,  # past 64 bits: a double keeps 17 of its 21 digits
    -(2**64) - 1,
    10**309 + 7,  # past the largest double
    10**4299 + 1,  # Python's longest int string
    "#5000-digits#",  # past Python's limit: written into the JSON text by `_encoded`
]
STRINGS = [
    "<script>alert(1)</script>",
    "'\"><img src=x onerror=alert(1)>",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\uff11\uff12\uff13",
    "²³",
    "\u202eevil",
    "😀" * 300,
    "x" * 40_000,
    "2026-13-45T99:99:99Z",
    "9999-12-31T23:59:59.999999Z",
    "0001-01-01T00:00:00Z",
    "-infinity",
    "1e400",
]
URLS = [
    "https://[::1",
    "http://[",
    "https://]::1[/",
    "https://a\u2100b/",
    "javascript:alert(1)",
    "https://example.com/a.png",
    "http://" + "a" * 3000,
]
# A class first, then one of its values: each class of trouble turns up in most runs of a few
# dozen examples, where a flat list would leave the rarer ones to chance.
HOSTILE = st.one_of(
    st.sampled_from(JUNK_IDS),
    st.sampled_from(NUMBERS),
    st.sampled_from(BIG_NUMBERS),
    st.sampled_from(STRINGS),
    st.sampled_from(URLS),
)
SCALARS = st.one_of(
    HOSTILE,
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.text(max_size=30),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Where senders put things: the ids, the call's names, its payloads and their well-known keys.
FIELDS = [
    ("userId",),
    ("anonymousId",),
    ("previousId",),
    ("groupId",),
    ("messageId",),
    ("type",),
    ("event",),
    ("name",),
    ("timestamp",),
    ("sentAt",),
    ("originalTimestamp",),
    ("traits",),
    ("properties",),
    ("context",),
    ("integrations",),
    ("traits", "avatar"),
    ("traits", "email"),
    ("traits", "name"),
    ("traits", "account"),
    ("traits", "order_completed_last_30days"),
    ("context", "traits"),
    ("context", "traits", "avatar"),
    ("context", "page", "url"),
    ("context", "personas"),
    ("properties", "revenue"),
    ("properties", "currency"),
    ("properties", "products"),
    ("properties", "url"),
    ("properties", "title"),
]
IDS = [("userId",), ("anonymousId",), ("previousId",), ("groupId",)]
# Where a person's traits come from: identify's traits, and context.traits on any call.
TRAITS = [("context", "traits"), ("traits",)]
# A sender's mistakes, one class each, so that every class turns up in a few dozen examples
# (Hypothesis draws `sampled_from` about evenly; a flat list of values would leave the rarer
# classes to chance). Traits and ids come first: the worker reads them back on every later
# message of the person (people/identity.py) and every page shows them.
KINDS = [
    "trait_number",  # a big integer in a trait
    "avatar",  # an avatar URL that is not one
    "nobody",  # `String(undefined)` for every id the SDK was given
    "id",  # one id junk, a number, huge, HTML...
    "trait",  # any hostile scalar in a trait or property
    "set",  # any JSON value anywhere
    "delete",
    "nest",
    "retype",
    "type",
]
TYPES = ["track", "identify", "page", "screen", "group", "alias", "user", "event", "TRACK", "x"]


def _set(message: dict, path: tuple[str, ...], value: Any) -> None:
    target = message
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value


def _get(message: dict, path: tuple[str, ...]) -> Any:
    target: Any = message
    for key in path:
        if not isinstance(target, dict):
            return None
        target = target.get(key)
    return target


@st.composite
def mutated(draw: st.DrawFn, messages: list[dict]) -> dict:
    """One of these recorded messages with one to three of a sender's mistakes."""
    message = copy.deepcopy(draw(st.sampled_from(messages)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(FIELDS))
        kind = draw(st.sampled_from(KINDS))
        if kind == "trait_number":
            key = draw(st.sampled_from(["account", "ltv", "n"]))
            _set(message, (*draw(st.sampled_from(TRAITS)), key), draw(st.sampled_from(BIG_NUMBERS)))
        elif kind == "avatar":
            _set(message, (*draw(st.sampled_from(TRAITS)), "avatar"), draw(st.sampled_from(URLS)))
        elif kind == "nobody":
            _set(message, ("userId",), draw(st.sampled_from(JUNK_IDS)))
            message.pop("anonymousId", None)
        elif kind == "id":
            _set(message, draw(st.sampled_from(IDS)), draw(HOSTILE))
        elif kind == "trait":
            where = draw(st.sampled_from([*TRAITS, ("properties",)]))
            container = _get(message, where)
            keys = sorted(container) if isinstance(container, dict) else []
            key = draw(st.sampled_from([*keys, "avatar", "email", "name", "account", "plan_x"]))
            _set(message, (*where, key), draw(HOSTILE))
        elif kind == "set":
            _set(message, path, draw(VALUES))
        elif kind == "delete":
            parent = _get(message, path[:-1]) if len(path) > 1 else message
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
        elif kind == "nest":
            value: Any = _get(message, path)
            for _ in range(draw(st.integers(1, 70))):
                value = draw(st.sampled_from([[value], {"k": value}]))
            _set(message, path, value)
        elif kind == "retype":
            value = _get(message, path)
            _set(
                message, path, draw(st.sampled_from([str(value), [value], {"v": value}, 1, 2**70]))
            )
        else:
            _set(message, ("type",), draw(st.sampled_from(TYPES)))
    # A `delete` would erase the known-good messages' users (and suppress their later ones).
    if isinstance(message.get("type"), str) and "delete" in message["type"].lower():
        message["type"] = "track"
    return message


@dataclass
class Sent:
    """What the examples sent, and what must be found stored."""

    good: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    requests: int = 0
    examples: int = 0


def _post(client, path: str, headers: dict[str, str], body: bytes, *, gzipped: bool):
    headers = dict(headers)
    if gzipped:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    else:
        headers.pop("Content-Encoding", None)
    return client.generic("POST", path, body, content_type="application/json", headers=headers)


# Python cannot even print an integer past 4,300 digits: it is put into the JSON text instead.
PAST_INT_LIMIT = "#5000-digits#"


def _encoded(value: Any) -> bytes:
    # The standard encoder: it writes integers of any length and lone surrogates as escapes.
    return json.dumps(value).replace(f'"{PAST_INT_LIMIT}"', "9" * 5000).encode()


def _good_copy(message: dict, tag: str) -> dict:
    return {**copy.deepcopy(message), "messageId": f"good-{tag}-{uuid.uuid4().hex}"}


def _wait_stored(workspace: Workspace, message_id: str) -> None:
    """Until the worker stored this message; a dead letter fails at once (no message may make
    one, and the one waited for may be in it)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if Event.objects.filter(workspace=workspace, message_id=message_id).exists():
            return
        letter = DeadLetter.objects.first()
        if letter is not None:
            pytest.fail(f"dead letter while waiting for {message_id}: {letter.error[-600:]}")
        time.sleep(0.05)
    pytest.fail(f"the worker did not store {message_id} in {WAIT_SECONDS}s")


def _read(client, path: str, headers: dict | None = None) -> None:
    response = client.get(path, headers=headers or {})
    assert response.status_code < 500, (path, headers, response.status_code)
    if response.streaming:  # the CSV exports: a 500 in the middle is a broken download
        b"".join(response.streaming_content)


HTMX = {"HX-Request": "true"}


def _read_event_pages(client, events: list[Event]) -> None:
    """The pages showing these events: each one's page and its person's (timeline included)."""
    for event in events:
        _read(client, f"/feed/{event.pk}/")
    for person_id in {e.identity.person_id for e in events if e.identity is not None}:
        _read(client, f"/people/{person_id}/")
        _read(client, f"/feed/people/{person_id}/", HTMX)  # the timeline, loaded by htmx
    _read(client, "/feed/?hidden=1", HTMX)


def _read_every_page(client, workspace: Workspace) -> int:
    """Every page of the workspace; the number read."""
    pages = [
        ("/people/", None),
        ("/people/", HTMX),
        ("/people/export.csv", None),
        ("/feed/?hidden=0", None),
        ("/feed/?hidden=1", None),
        ("/feed/export.csv", None),
        ("/sources/", None),
        ("/status/", None),
        ("/api/v1/people/", None),
        ("/api/v1/events/", None),
        ("/api/v1/groups/", None),
        ("/admin/ingest/deadletter/", None),
        ("/admin/people/person/", None),
        ("/admin/people/identity/", None),
        ("/admin/accounts/rejectedmessage/", None),
    ]
    for kind in ("track", "identify", "page", "screen", "group", "alias"):
        pages.append((f"/feed/?hidden=1&type={kind}", None))
    for person_id in Person.objects.filter(workspace=workspace).values_list("pk", flat=True):
        pages += [
            (f"/people/{person_id}/", None),
            (f"/feed/people/{person_id}/", HTMX),
            (f"/api/v1/people/{person_id}/", None),
            (f"/api/v1/people/{person_id}/events/", None),
        ]
    for event_id in Event.objects.filter(workspace=workspace).values_list("pk", flat=True):
        pages += [
            (f"/feed/{event_id}/", None),
            (f"/feed/{event_id}/raw.json", None),
        ]
    for group_id in Group.objects.filter(workspace=workspace).values_list("pk", flat=True):
        pages.append((f"/api/v1/groups/{group_id}/", None))
    for path, headers in pages:
        _read(client, path, headers)
    return len(pages)


def test_mutated_sdk_requests_never_break_ingest_the_worker_or_a_page(
    client, celery_worker, owner, issued, settings
):
    settings.INGEST_RATE_LIMIT_PER_SECOND = 0
    settings.API_RATE_LIMIT = "1000000/minute"
    owner.is_staff = owner.is_superuser = True  # the status page and the admin's lists too
    owner.save()
    client.force_login(owner)
    workspace = issued.source.workspace
    auth = {"Authorization": f"Bearer {issued.token}"}
    sent = Sent()
    started = time.monotonic()

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=st.sampled_from(GOOD), data=st.data())
    def example(request: tuple, data: st.DataObject) -> None:
        path, headers, messages, _ = request
        mutants = data.draw(st.lists(mutated(messages), min_size=1, max_size=3), label="mutants")
        endpoint = data.draw(st.sampled_from(["batch", "list", "single", "own", "mixed"]))
        gzipped = data.draw(st.booleans(), label="gzipped")
        # After every draw: Hypothesis wants each example to draw the same way when replayed.
        if time.monotonic() - started > BUDGET_SECONDS:
            return
        sent.examples += 1
        batch = []
        for n, message in enumerate(mutants):
            if isinstance(message.get("messageId"), str):  # else the mutation is the messageId
                message = {**message, "messageId": f"fz-{uuid.uuid4().hex}-{n}"}
            batch.append(message)
        # Known-good messages for the same users the mutants were cut from (the hook's own
        # `user`/`event` calls are good only on the hook).
        good = messages if not path.startswith("/hook/") else GOOD[0][2]
        before, after = _good_copy(good[0], "before"), _good_copy(good[-1], "after")
        response = _post(client, "/v1/batch", auth, _encoded({"batch": [before]}), gzipped=False)
        assert response.json() == {"success": True}, response.content
        sent.good.append(before["messageId"])

        if endpoint == "mixed":  # good messages in the same batch as the mutants
            batch = [_good_copy(good[0], "mixed"), *batch]
        if endpoint in {"batch", "mixed"}:
            target, body = "/v1/batch", {"batch": batch}
        elif endpoint == "list":
            target, body = "/v1/import", batch
        elif endpoint == "single" or (endpoint == "own" and path.startswith("/v1/")):
            target = "/v1/t" if endpoint == "single" else path
            if target == "/v1/batch":
                body = {"batch": batch}
            else:
                batch = batch[:1]
                body = batch[0]
        else:  # the hook
            target, body = path.replace("EXAMPLE_TOKEN", issued.token), {"batch": batch}
        send_headers = {**{k: v for k, v in headers.items() if k != "Authorization"}, **auth}
        response = _post(client, target, send_headers, _encoded(body), gzipped=gzipped)
        sent.requests += 4
        assert response.status_code < 500, (target, response.status_code, response.content[:500])
        accepted = []
        if response.status_code == 200:
            rejected = {r["index"] for r in response.json().get("rejected", [])}
            for index, message in enumerate(batch):
                message_id = message.get("messageId")
                if index not in rejected and isinstance(message_id, str):
                    accepted.append(message_id)
        elif endpoint == "mixed":
            # Only a whole-request refusal may take the good one with it: say why it was.
            code = response.json()["code"]
            assert code in {"malformed_json", "request_too_large"}, response.content[:500]
        sent.accepted += accepted
        sent.good += [m for m in accepted if m.startswith("good-")]

        # And good ones after, each waited for: the worker drains in order, so once one is
        # stored, so is all before it. The first may share a worker batch with the mutants; the
        # second comes in a batch of its own and reads back what they left on the person.
        again = _good_copy(good[0], "again")
        for later in (after, again):
            response = _post(client, "/v1/batch", auth, _encoded({"batch": [later]}), gzipped=True)
            assert response.json() == {"success": True}, response.content
            sent.good.append(later["messageId"])
            _wait_stored(workspace, later["messageId"])

        letters = list(DeadLetter.objects.values_list("error", flat=True)[:3])
        assert letters == [], letters
        ids = {before["messageId"], after["messageId"], again["messageId"], *accepted}
        events = list(
            Event.objects.filter(workspace=workspace, message_id__in=ids).select_related("identity")
        )
        assert {e.message_id for e in events} == ids, "answered 200 but not stored"
        _read_event_pages(client, events)

    example()
    elapsed = time.monotonic() - started

    stored = set(Event.objects.filter(workspace=workspace).values_list("message_id", flat=True))
    assert set(sent.good) - stored == set(), "known-good messages missing"
    assert set(sent.accepted) - stored == set(), "messages answered 200 but not stored"
    assert not DeadLetter.objects.exists()
    read = _read_every_page(client, workspace)
    print(
        f"fuzz: {sent.examples} examples, {sent.requests} requests, "
        f"{len(sent.accepted)} accepted messages tracked, "
        f"{len(stored)} events, {read} pages read at the end; examples took {elapsed:.0f}s, "
        f"all {time.monotonic() - started:.0f}s"
    )
