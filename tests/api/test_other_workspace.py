"""Another workspace's key reads nothing of Acme's, on every endpoint, whatever id it names."""

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from feed.models import Event
from people.models import Group, Identity, Person
from segments.filters import EVERYONE, filter_dump
from segments.models import Segment
from tests.http import bearer
from tests.url_names import url_patterns

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(other_key) -> Client:
    return Client(**bearer(other_key.secret))


def test_every_list_is_empty_for_another_workspaces_key(theirs, acme):
    for url in (
        "/api/v1/people/",
        "/api/v1/events/?hidden=1",
        "/api/v1/groups/",
        f"/api/v1/people/?group={acme.group_id}",
        "/api/v1/people/?q=ada",
        "/api/v1/people/?audience=vip_customers",
        "/api/v1/events/?name=Signed%20Up",
    ):
        response = theirs.get(url)
        assert response.status_code == 200, url
        assert response.json() == {"next": None, "previous": None, "results": []}, url


def test_every_detail_is_a_404_for_another_workspaces_key(theirs, acme):
    for url in (
        f"/api/v1/people/{acme.ada_id}/",
        f"/api/v1/people/{acme.merged_id}/",
        f"/api/v1/people/{acme.ada_id}/events/?hidden=1",
        f"/api/v1/people/{acme.merged_id}/events/",
        f"/api/v1/groups/{acme.group_id}/",
    ):
        response = theirs.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"


def test_a_cursor_from_acme_reads_nothing_of_acme_with_another_key(api, theirs, send):
    for i in range(4):
        send("track", user_id="ada", event=f"E{i}")
    following = api.get("/api/v1/events/?limit=2").json()["next"]
    assert theirs.get(following).json()["results"] == []


# --- Cursors: page 2 of every paginated endpoint, and another workspace's cursor --------------

ROUNDS = 6  # with limit=2, three pages either side


@dataclass
class Crowd:
    mine: dict[str, set[int]]  # endpoint -> Acme's row ids
    person: int  # Acme's person with ROUNDS events
    their_person: int


def rows_of(model, workspace) -> set[int]:
    return set(model.objects.filter(workspace=workspace).values_list("pk", flat=True))


@pytest.fixture
def crowd(send, workspace, other) -> Crowd:
    """Both workspaces' people, groups and events, stored turn about (each row is created a
    moment after the other workspace's last), Acme's last: every page of one workspace's lists
    lies between rows of the other, either way."""
    for i in range(ROUNDS):
        turns = ((workspace, "mine"), (other, "theirs"))
        for into, mark in turns[::-1] if i % 2 else turns:
            send("identify", into=into, user_id=f"{mark}-{i}", traits={"name": f"{mark} {i}"})
            send("group", into=into, user_id=f"{mark}-{i}", group_id=f"{mark}-g{i}")
            send("track", into=into, user_id=f"{mark}-0", event=f"{mark} E{i}")
            Segment.objects.create(
                workspace=into, name=f"{mark} S{i}", visibility="team", filter=filter_dump(EVERYONE)
            )
    return Crowd(
        mine={
            "api:people": rows_of(Person, workspace),
            "api:groups": rows_of(Group, workspace),
            "api:segments": rows_of(Segment, workspace),
            "api:events": rows_of(Event, workspace),
            "api:person-events": set(
                Event.objects.filter(identity__value="mine-0", workspace=workspace).values_list(
                    "pk", flat=True
                )
            ),
        },
        person=Identity.objects.get(workspace=workspace, value="mine-0").person_id,
        their_person=Identity.objects.get(workspace=other, value="theirs-0").person_id,
    )


def first_page(name: str, person: int) -> str:
    args = [person] if name == "api:person-events" else []
    return f"{reverse(name, args=args)}?limit=2&hidden=1"


def walk(client: Client, url: str, direction: str = "next") -> tuple[list[int], str]:
    """Every row id from `url` on, following `next` (or `previous`); and the last page's URL."""
    seen: list[int] = []
    while True:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        if body[direction] is None:
            return seen, url
        url = body[direction]


# The paginated endpoints' cases; a new one fails test_every_paginated_endpoint_has_a_case.
PAGINATED = ("api:people", "api:events", "api:person-events", "api:groups", "api:segments")


@pytest.mark.parametrize("name", PAGINATED)
def test_every_page_of_a_list_holds_only_its_workspaces_rows(name, api, crowd):
    forward, last = walk(api, first_page(name, crowd.person))
    assert len(forward) == len(set(forward)) == len(crowd.mine[name]) > 2
    assert set(forward) == crowd.mine[name]
    backward, _ = walk(api, last, "previous")
    assert set(backward) == crowd.mine[name]


@pytest.mark.parametrize("name", PAGINATED)
def test_another_workspaces_cursor_reads_only_the_callers_rows(name, api, theirs, crowd):
    mine = reverse(name, args=person_args(name, crowd))
    first = theirs.get(first_page(name, crowd.their_person)).json()
    second = theirs.get(first["next"]).json()
    # Their cursors (the way on, and the way back), on the caller's own list: for a person's
    # events, the caller's own person.
    forward, _ = walk(api, f"{mine}?{urlsplit(first['next']).query}")
    assert forward and set(forward) <= crowd.mine[name]
    backward, _ = walk(api, f"{mine}?{urlsplit(second['previous']).query}", "previous")
    assert backward and set(backward) <= crowd.mine[name]


def person_args(name: str, crowd: Crowd) -> list[int]:
    return [crowd.person] if name == "api:person-events" else []


def test_every_paginated_endpoint_has_a_case():
    paginated = {
        name
        for name, pattern, _ in url_patterns()
        if getattr(getattr(pattern.callback, "view_class", None), "pagination_class", None)
    }
    assert paginated == set(PAGINATED), "add the endpoint to PAGINATED in this file"
