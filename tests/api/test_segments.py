"""Segments on the Read API: `/api/v1/people/?segment=` and `?filter=`, `/api/v1/segments/` with
counts. A key reads as its maker: the workspace's team segments and the maker's own private ones,
nothing of another workspace; a filter refused is a 400 naming the part refused, before any
query of the data."""

import json
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import team
from accounts.models import Membership
from api.services import api_key_create, api_key_revoke
from people.models import Person
from segments.models import Segment
from tests.csv_export import rows_of
from tests.http import bearer

pytestmark = pytest.mark.django_db

PEOPLE = "/api/v1/people/"
SEGMENTS = "/api/v1/segments/"
PRO = {"op": "and", "conditions": [
    {"field": "trait", "key": "plan", "operator": "equals", "value": "Pro"},
]}  # fmt: skip
EVERYONE = {"op": "and", "conditions": []}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:500]
    return {row["id"] for row in response.json()["results"]}


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    return body


def segment(workspace, *, name="Pro", filter=PRO, visibility="team", by=None) -> Segment:
    return Segment.objects.create(
        workspace=workspace, name=name, filter=filter, visibility=visibility, created_by=by
    )


@pytest.fixture
def member(workspace, django_user_model) -> Membership:
    user = django_user_model.objects.create_user(
        username="member@example.com", email="member@example.com", password="x" * 12
    )
    return Membership.objects.create(user=user, workspace=workspace, role="admin")


@pytest.fixture
def pro_people(people) -> dict[str, Person]:
    """Three people: on Pro (told in two spellings), on Free, and without a plan."""
    return {
        "ada": people.person(name="Ada", email="ada@acme.io", traits={"plan": "pro"}),
        "bob": people.person(name="Bob", email="bob@acme.io", traits={"plan": "PRO"}),
        "cy": people.person(name="Cy", email="cy@else.io", traits={"plan": "free"}),
        "dee": people.person(name="Dee", email="dee@else.io"),
    }


def made(response) -> list[str]:
    """The names of the listed segments members made (every workspace also has the built-ins)."""
    assert response.status_code == 200, response.content[:500]
    return [row["name"] for row in response.json()["results"] if row["builtin"] is None]


def pks(*people: Person) -> set[int]:
    return {p.pk for p in people}


# --- /api/v1/people/?filter= and ?segment= -----------------------------------------------------


def test_a_filter_selects_the_people_it_matches(api, pro_people):
    response = api.get(PEOPLE, {"filter": json.dumps(PRO)})
    assert ids(response) == pks(pro_people["ada"], pro_people["bob"])
    assert ids(api.get(PEOPLE, {"filter": json.dumps(EVERYONE)})) == pks(*pro_people.values())


def test_a_filter_combines_with_search_and_the_other_filters(api, pro_people):
    both = api.get(PEOPLE, {"filter": json.dumps(PRO), "q": "bob"})
    assert ids(both) == pks(pro_people["bob"])
    assert ids(api.get(PEOPLE, {"filter": json.dumps(PRO), "q": "cy"})) == set()


def test_a_segment_selects_its_people_and_combines_with_a_filter(api, workspace, pro_people):
    pro = segment(workspace)
    assert ids(api.get(PEOPLE, {"segment": pro.pk})) == pks(pro_people["ada"], pro_people["bob"])
    acme = {"op": "and", "conditions": [
        {"field": "email_domain", "operator": "equals", "value": "acme.io"},
    ]}  # fmt: skip
    everyone_at_acme = segment(workspace, name="Acme", filter=acme)
    both = api.get(PEOPLE, {"segment": everyone_at_acme.pk, "filter": json.dumps(PRO)})
    assert ids(both) == pks(pro_people["ada"], pro_people["bob"])
    no_one = {"op": "and", "conditions": [
        {"field": "email_domain", "operator": "equals", "value": "else.io"},
    ]}  # fmt: skip
    assert ids(api.get(PEOPLE, {"segment": pro.pk, "filter": json.dumps(no_one)})) == set()


def test_the_filtered_list_pages_by_cursor_without_losing_or_repeating_anyone(
    api, people, workspace
):
    made = {people.person(name=f"P{i}", traits={"plan": "pro"}, minutes_ago=i).pk for i in range(7)}
    people.person(name="Free", traits={"plan": "free"})
    seen: list[int] = []
    url = f"{PEOPLE}?limit=3&segment={segment(workspace).pk}"
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == made


def test_a_private_segment_is_its_makers_only(api, workspace, owner, member, pro_people):
    mine = segment(workspace, name="Mine", visibility="private", by=owner)
    theirs = segment(workspace, name="Theirs", visibility="private", by=member.user)
    assert ids(api.get(PEOPLE, {"segment": mine.pk})) == pks(pro_people["ada"], pro_people["bob"])
    error(api.get(PEOPLE, {"segment": theirs.pk}), 404, "not_found")
    error(api.get(f"{SEGMENTS}{theirs.pk}/"), 404, "not_found")
    their_key = api_key_create(workspace=workspace, name="Member's", created_by=member.user)
    reader = Client(**bearer(their_key.secret))
    assert ids(reader.get(PEOPLE, {"segment": theirs.pk})) == ids(
        api.get(PEOPLE, {"segment": mine.pk})
    )
    error(reader.get(PEOPLE, {"segment": mine.pk}), 404, "not_found")


def test_a_filter_naming_a_private_segment_of_another_member_is_refused(
    api, workspace, member, pro_people
):
    theirs = segment(workspace, name="Theirs", visibility="private", by=member.user)
    naming = {"op": "and", "conditions": [
        {"field": "segment", "operator": "in", "value": theirs.pk},
    ]}  # fmt: skip
    response = api.get(PEOPLE, {"filter": json.dumps(naming)})
    assert response.status_code in {400, 404}, response.content
    assert ids(api.get(PEOPLE)) == pks(*pro_people.values())  # the list itself still answers


def test_an_operators_key_reads_team_segments_only(workspace, owner, pro_people):
    team_segment = segment(workspace, name="Team")
    private = segment(workspace, name="Private", visibility="private", by=owner)
    reader = Client(
        **bearer(api_key_create(workspace=workspace, name="Ops", created_by=None).secret)
    )
    assert ids(reader.get(PEOPLE, {"segment": team_segment.pk})) == pks(
        pro_people["ada"], pro_people["bob"]
    )
    error(reader.get(PEOPLE, {"segment": private.pk}), 404, "not_found")
    assert made(reader.get(SEGMENTS)) == ["Team"]


def test_another_workspaces_segment_is_not_found(api, other, pro_people):
    theirs = segment(other, name="Theirs")
    error(api.get(PEOPLE, {"segment": theirs.pk}), 404, "not_found")
    error(api.get(f"{SEGMENTS}{theirs.pk}/"), 404, "not_found")
    error(api.get(PEOPLE, {"segment": 987654321}), 404, "not_found")
    assert made(api.get(SEGMENTS)) == []


def test_the_other_workspaces_key_reads_none_of_ours(other_key, workspace, pro_people):
    ours = segment(workspace)
    reader = Client(**bearer(other_key.secret))
    error(reader.get(PEOPLE, {"segment": ours.pk}), 404, "not_found")
    assert ids(reader.get(PEOPLE, {"filter": json.dumps(EVERYONE)})) == set()


# --- Hostile filters ----------------------------------------------------------------------------


def deep(levels: int) -> dict:
    node: dict = {"op": "and", "conditions": []}
    for _ in range(levels):
        node = {"op": "or", "conditions": [node]}
    return node


TRAIT = {"field": "trait", "key": "plan", "operator": "equals", "value": "x"}
HOSTILE = {
    "not JSON": "{op: and",
    "not an object": "[1, 2]",
    "a number": "12",
    "an unknown op": json.dumps({"op": "xor", "conditions": []}),
    "an unknown field": json.dumps({"op": "and", "conditions": [{"field": "password"}]}),
    "an unknown operator": json.dumps(
        {"op": "and", "conditions": [{**TRAIT, "operator": "regex"}]}
    ),
    "too deep": json.dumps(deep(10)),
    "too many conditions": json.dumps({"op": "and", "conditions": [TRAIT] * 51}),
    "too long a string": json.dumps({"op": "and", "conditions": [{**TRAIT, "value": "x" * 600}]}),
    "too large": json.dumps({"op": "and", "conditions": [TRAIT] * 40}) + " " * 17_000,
    "too long a list": json.dumps(
        {"op": "and", "conditions": [{**TRAIT, "operator": "in", "value": ["x"] * 101}]}
    ),
    "days past a year": json.dumps(
        {
            "op": "and",
            "conditions": [
                {
                    "field": "event",
                    "name": "Order Completed",
                    "operator": "at_least",
                    "value": 1,
                    "days": 5000,
                    "where": None,
                },
            ],
        }
    ),
    "nested a thousand deep": "[" * 1000 + "]" * 1000,
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_filter_is_a_400_naming_the_part_refused_and_reads_no_data(api, pro_people, case):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(PEOPLE, {"filter": HOSTILE[case]})
    body = error(response, 400, "invalid_parameter")
    assert body["message"].startswith("filter: ") and body["param"] == "filter"
    assert isinstance(body["path"], str)
    # The key's own checks only (its lookup, its maker's role): no segment, person or event.
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "people_person" not in tables and "segments_segment" not in tables, case
    assert len(queries) <= 3, [q["sql"] for q in queries.captured_queries]


def test_the_path_says_which_condition_was_refused(api):
    bad = {"op": "and", "conditions": [TRAIT, {**TRAIT, "operator": "regex"}]}
    body = error(api.get(PEOPLE, {"filter": json.dumps(bad)}), 400, "invalid_parameter")
    assert "conditions[1]" in body["path"]


def test_a_filter_with_a_nul_or_a_bad_segment_id_is_a_400(api):
    error(api.get(f"{PEOPLE}?filter={quote(chr(0))}"), 400, "invalid_parameter")
    for value in ("x", "-1", "9" * 40, "\u0661"):
        error(api.get(PEOPLE, {"segment": value}), 400, "invalid_parameter")


# --- /api/v1/segments/ -------------------------------------------------------------------------


def test_the_segments_list_shows_each_visible_segment_with_its_count(
    api, workspace, owner, member, pro_people
):
    segment(workspace, name="Team Pro", by=member.user)
    segment(workspace, name="My everyone", filter=EVERYONE, visibility="private", by=owner)
    segment(workspace, name="Their private", visibility="private", by=member.user)
    body = api.get(SEGMENTS).json()
    rows = {row["name"]: row for row in body["results"] if row["builtin"] is None}
    assert set(rows) == {"Team Pro", "My everyone"}
    assert {row["builtin"] for row in body["results"]} >= {"slipping_away", None}
    team_pro = rows["Team Pro"]
    assert team_pro["visibility"] == "team"
    assert team_pro["created_by"] == "member@example.com"
    assert team_pro["filter"] == PRO
    assert team_pro["count"] == {"n": 2, "exact": True}
    assert rows["My everyone"]["count"] == {"n": 4, "exact": True}
    assert team_pro["people_url"].endswith(f"/api/v1/people/?segment={team_pro['id']}")


def test_one_segment_with_its_count(api, workspace, pro_people):
    pro = segment(workspace, name="Pro", by=None)
    body = api.get(f"{SEGMENTS}{pro.pk}/").json()
    assert (body["id"], body["name"], body["created_by"]) == (pro.pk, "Pro", None)
    assert body["count"] == {"n": 2, "exact": True}


def test_the_segments_list_pages_by_cursor(api, workspace):
    for i in range(5):
        segment(workspace, name=f"S{i}", filter=EVERYONE)
    first = api.get(SEGMENTS, {"limit": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    names = [row["name"] for row in first["results"]]
    url = first["next"]
    while url:
        page = api.get(url).json()
        names += [row["name"] for row in page["results"]]
        url = page["next"]
    assert sorted(n for n in names if n.startswith("S") and n[1:].isdigit()) == [
        f"S{i}" for i in range(5)
    ]
    assert len(names) == len(set(names)) == Segment.objects.filter(workspace=workspace).count()


# --- Keys ----------------------------------------------------------------------------------------


def test_a_revoked_key_is_a_401_on_the_segments_endpoints(api, key, workspace):
    pro = segment(workspace)
    api_key_revoke(key=key.key)
    for url in (SEGMENTS, f"{SEGMENTS}{pro.pk}/", f"{PEOPLE}?segment={pro.pk}"):
        error(api.get(url), 401, "not_authenticated")


def test_a_removed_members_key_is_a_401_even_for_their_private_segments(
    workspace, owner, member, pro_people
):
    theirs = segment(workspace, name="Theirs", visibility="private", by=member.user)
    reader = Client(
        **bearer(api_key_create(workspace=workspace, name="M", created_by=member.user).secret)
    )
    assert reader.get(f"{SEGMENTS}{theirs.pk}/").status_code == 200
    team.member_remove(actor=Membership.objects.get(user=owner, workspace=workspace), target=member)
    for url in (SEGMENTS, f"{SEGMENTS}{theirs.pk}/", f"{PEOPLE}?segment={theirs.pk}"):
        error(reader.get(url), 401, "not_authenticated")


def test_the_signed_in_browser_reads_its_own_private_segments(
    owner_client, workspace, owner, member
):
    mine = segment(workspace, name="Mine", visibility="private", by=owner)
    theirs = segment(workspace, name="Theirs", visibility="private", by=member.user)
    assert owner_client.get(f"{SEGMENTS}{mine.pk}/").status_code == 200
    assert owner_client.get(f"{SEGMENTS}{theirs.pk}/").status_code == 404


# --- The same people everywhere ------------------------------------------------------------------


def test_the_api_the_csv_and_the_page_give_the_same_people_for_a_segment(
    api, owner_client, workspace, people
):
    for i in range(60):  # more than a page of the list and of the API
        people.person(
            name=f"P{i}",
            email=f"p{i}@{'acme.io' if i % 3 else 'else.io'}",
            traits={"plan": ("pro", "free", "Pro")[i % 4 % 3]},
            minutes_ago=i,
        )
    acme_pro = {"op": "and", "conditions": [
        PRO["conditions"][0], {"field": "email_domain", "operator": "equals", "value": "acme.io"},
    ]}  # fmt: skip
    saved = segment(workspace, name="Acme on Pro", filter=acme_pro)
    expected = {
        p.pk
        for p in Person.objects.filter(workspace=workspace)
        if str(p.traits.get("plan", "")).lower() == "pro" and p.email.endswith("@acme.io")
    }
    assert expected

    from_api: list[int] = []
    url = f"{PEOPLE}?segment={saved.pk}&limit=7"
    while url:
        body = api.get(url).json()
        from_api += [row["id"] for row in body["results"]]
        url = body["next"]
    from_csv = [
        int(r["id"]) for r in rows_of(owner_client.get("/people/export.csv", {"segment": saved.pk}))
    ]
    from_page: list[int] = []
    page = owner_client.get("/people/", {"segment": saved.pk})
    assert page.status_code == 200
    from_page = [p.pk for p in page.context["page"].rows]
    assert set(from_api) == set(from_csv) == expected
    assert len(from_api) == len(from_csv) == len(expected)
    # The page shows its first 50, in the list's order, as the API and the CSV do.
    assert from_page == from_api[: len(from_page)] == from_csv[: len(from_page)]
    assert set(from_page) == expected or len(from_page) == 50


def test_a_filter_combines_with_a_broad_search_too(api, pro_people, monkeypatch):
    # A search matching more than SEARCH_SORT_LIMIT people filters the list's walk instead.
    from people import selectors

    monkeypatch.setattr(selectors, "SEARCH_SORT_LIMIT", 1)
    assert ids(api.get(PEOPLE, {"q": "a", "filter": json.dumps(PRO)})) == pks(pro_people["ada"])
    everyone_with_b = api.get(PEOPLE, {"q": "b", "filter": json.dumps(EVERYONE)})
    assert ids(everyone_with_b) == pks(pro_people["bob"])
