"""No query value makes a 500: every URL name, every query parameter it reads, hostile values.

The parameters each URL reads are listed in READS (tests/url_names.py); a test records what the
views actually read (request.GET, seen through a recording QueryDict) on every URL name of the
URLconf and fails when a view reads one that is not listed, so a new parameter, or a new URL that
reads one, is walked here too. The values are the ones that made 500s (issue 23): a superscript
or Arabic-Indic digit (str.isdigit() says yes, int() or the database says no), a NUL (PostgreSQL
text cannot hold one), a number past a bigint, instants past year 1 or 9999 once moved to UTC,
and huge strings.

Run on both databases: the NUL reached PostgreSQL only.
"""

from collections.abc import Iterator
from functools import cached_property

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from tests.url_names import BASE, READS, url_for, url_names
from tests.world import World, world_build

pytestmark = pytest.mark.django_db

ARABIC_ONE = "\u0661"  # ARABIC-INDIC DIGIT ONE: isdigit() and int() read it as 1
HOSTILE = [
    "²",  # SUPERSCRIPT TWO: isdigit() is true, int() raises
    ARABIC_ONE,
    "1²",
    "\x00",
    "ada\x00",
    "-1",
    "9" * 40,
    "0001-01-01T00:00:00+01:00",  # year 0 in UTC
    "9999-12-31T23:59:59-01:00",  # year 10000 in UTC
    "1.²",
    "n." + ARABIC_ONE,
    " ",
    "x" * 20_000,
]

READ: set[str] = set()


class RecordingQueryDict(QueryDict):
    """A request's GET that notes every key a view asks for."""

    def __getitem__(self, key: str) -> str:
        READ.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        READ.add(str(key))
        return super().__contains__(key)

    def getlist(self, key: str, default: list | None = None) -> list:
        READ.add(key)
        return super().getlist(key, default)


@pytest.fixture
def recording(monkeypatch) -> Iterator[set[str]]:
    def get(request: WSGIRequest) -> QueryDict:
        return RecordingQueryDict(request.environ.get("QUERY_STRING", ""))

    recorded = cached_property(get)
    recorded.__set_name__(WSGIRequest, "GET")
    monkeypatch.setattr(WSGIRequest, "GET", recorded)
    READ.clear()
    yield READ
    READ.clear()


@pytest.fixture
def world(workspace, issued) -> World:
    return world_build(workspace, issued)


def args_of(world: World) -> dict[str, object]:
    return {"person_id": world.person.pk, "event_id": world.event.pk, "group_id": world.group.pk}


def body_of(response) -> bytes:
    """The whole body: a streamed export fails while it is read, after its 200 was sent."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_every_query_parameter_a_view_reads_is_walked(owner_client, world, recording):
    """Each URL name, signed in and signed out, with its base query: what it reads is in READS."""
    unlisted = {}
    for name in sorted(set(url_names())):
        url = url_for(name, args_of(world))
        for client in (owner_client, Client()):
            READ.clear()
            body_of(client.get(url, BASE.get(name, {})))
            extra = READ - set(READS.get(name, ())) - set(BASE.get(name, {}))
            if extra:
                unlisted[name] = sorted(extra)
    assert not unlisted, f"add these parameters to READS in tests/url_names.py: {unlisted}"


@pytest.mark.parametrize("name", sorted(READS))
def test_no_hostile_query_value_makes_a_server_error(name, owner_client, world):
    url = url_for(name, args_of(world))
    owner_client.raise_request_exception = False  # list every failure, not the first
    failures = []
    for param in READS[name]:
        for value in HOSTILE:
            query = {**BASE.get(name, {}), param: value}
            response = owner_client.get(url, query)
            try:
                body_of(response)
            except Exception as error:  # the finding is the exception itself
                failures.append((param, value[:12], f"mid-stream {type(error).__name__}"))
                continue
            if response.status_code >= 500:
                failures.append((param, value[:12], response.status_code))
            elif name.startswith("api:") and response.status_code == 400:
                error = response.json()
                assert error["code"] == "invalid_parameter" and param in error["message"], error
    assert not failures, failures


# --- What each kind of parameter answers ------------------------------------------------------


@pytest.mark.parametrize("param", ["limit", "after", "before"])
@pytest.mark.parametrize("value", ["²", ARABIC_ONE, "1²", "-1", "9" * 40, "0", "1_0", " 5"])
def test_the_api_refuses_a_number_that_is_not_ascii_digits(api_client, param, value):
    for url in ("api:people", "api:events", "api:groups"):
        response = api_client.get(reverse(url), {param: value})
        assert response.status_code == 400, (url, param, value)
        assert response.json()["code"] == "invalid_parameter"


@pytest.mark.parametrize("value", ["²", ARABIC_ONE, "1²", "-1", "9" * 40])
def test_a_group_that_is_not_an_id_is_refused(api_client, owner_client, value):
    assert api_client.get(reverse("api:people"), {"group": value}).status_code == 400
    assert owner_client.get(reverse("people:list"), {"group": value}).status_code == 400
    assert owner_client.get(reverse("people:export"), {"group": value}).status_code == 400


@pytest.mark.parametrize(
    "url,param",
    [
        ("api:people", "q"),
        ("api:people", "audience"),
        ("api:events", "name"),
        ("people:list", "q"),
        ("people:list", "audience"),
        ("feed:list", "name"),
    ],
)
def test_a_nul_in_free_text_is_a_400(api_client, owner_client, url, param):
    client = api_client if url.startswith("api:") else owner_client
    response = client.get(reverse(url), {"hidden": "0", param: "ada\x00"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "url,query",
    [
        ("people:export", {"q": "ada\x00"}),
        ("people:export", {"audience": "\x00"}),
        ("feed:export", {"hidden": "1", "name": "\x00"}),
    ],
)
def test_an_export_refuses_before_it_streams(owner_client, url, query):
    response = owner_client.get(reverse(url), query)
    assert response.status_code == 400
    assert not response.streaming


@pytest.mark.parametrize("param", ["since", "until"])
@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        ARABIC_ONE * 4 + "-01-01T00:00:00Z",
        "2026-11-23T12:00:00\x00",
    ],
)
def test_an_instant_out_of_range_or_not_ascii_is_a_400(api_client, param, value):
    response = api_client.get(reverse("api:events"), {param: value})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"


def test_the_ends_of_the_calendar_in_utc_are_still_instants(api_client):
    for value in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59Z", "0001-01-01T01:00:00+01:00"):
        assert api_client.get(reverse("api:events"), {"since": value}).status_code == 200, value


@pytest.mark.parametrize("value", ["²", ARABIC_ONE, "9" * 40])
def test_the_feed_poll_refuses_ids_that_are_not_ascii_digits(owner_client, value):
    for param in ("after", "since"):
        query = {"hidden": "0", "after": "0", "since": "0", param: value}
        assert owner_client.get(reverse("feed:new"), query).status_code == 400


@pytest.mark.parametrize("value", ["²", ARABIC_ONE, "1²"])
def test_a_mangled_watermark_or_cursor_on_a_page_still_shows_the_page(owner_client, value):
    # A page's navigation links keep their promise: a mangled one shows the first page.
    assert owner_client.get(reverse("feed:list"), {"hidden": "0", "upto": value}).status_code == 200
    for param in ("after", "before"):
        assert owner_client.get(reverse("people:list"), {param: f"1.{value}"}).status_code == 200


@pytest.fixture
def api_client(workspace) -> Client:
    from api.services import api_key_create

    issued = api_key_create(workspace=workspace, name="Params", created_by=None)
    return Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")


def test_an_audience_named_like_a_number_is_that_audience(owner_client, people):
    # SQLite read "1" as an array index (no one) and "-1" as a path it refuses (a 500).
    one = people.person(name="In One", audiences={"1": True, "-1": False})
    minus = people.person(name="In Minus One", audiences={"-1": True, "1": False})
    for audience, person in (("1", one), ("-1", minus)):
        html = owner_client.get(reverse("people:list"), {"audience": audience}).content.decode()
        assert person.name in html, audience
        assert (minus if person is one else one).name not in html, audience


def test_the_feeds_hidden_toggle_refuses_a_nul_in_its_name(owner_client):
    # The toggle's form posts the Feed's filters, read by the same parser as the URL's.
    response = owner_client.post(
        reverse("feed:hidden"), {"show": "1", "name": "a\x00"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
