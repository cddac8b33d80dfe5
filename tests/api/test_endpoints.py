"""The Read API's endpoints: what each returns, its filters (the pages' own) and its cursors."""

from datetime import timedelta

import pytest
from django.test import Client

from api.services import api_key_create
from people.models import Person
from tests.api.clock import at
from tests.http import bearer

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_people_are_listed_most_recently_seen_first(api, acme):
    assert names(api.get("/api/v1/people/")) == ["Grace Hopper", "Ada Lovelace"]


def test_people_rows_carry_group_audiences_and_their_url(api, acme):
    ada = api.get("/api/v1/people/").json()["results"][1]
    assert ada["email"] == "ada@acme.example"
    assert ada["group"] == {"id": acme.group_id, "group_id": "acme-co", "name": "Acme Co"}
    assert ada["audiences"] == ["vip_customers"]
    assert ada["url"] == f"http://testserver/api/v1/people/{acme.ada_id}/"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "ada"}, ["Ada Lovelace"]),
        ({"q": "GRACE"}, ["Grace Hopper"]),
        ({"q": "ada@acme"}, ["Ada Lovelace"]),
        ({"q": "visitor"}, ["Ada Lovelace"]),  # a merged-in id finds the survivor
        ({"q": "nobody"}, []),
        ({"audience": "vip_customers"}, ["Ada Lovelace"]),
        ({"missing_email": "1"}, ["Grace Hopper"]),
    ],
)
def test_people_have_the_people_pages_search_and_filters(api, acme, query, expected):
    assert names(api.get("/api/v1/people/", query)) == expected


def test_people_filter_by_group(api, acme):
    assert names(api.get("/api/v1/people/", {"group": acme.group_id})) == ["Ada Lovelace"]


def test_a_group_that_is_not_an_id_is_a_400(api, acme):
    response = api.get("/api/v1/people/", {"group": "acme-co"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"


def test_people_pages_follow_next_and_previous_without_gaps(api, send, workspace):
    for i in range(7):
        send("identify", user_id=f"u{i}", traits={"name": f"P{i}"}, timestamp=at(i))
    first = api.get("/api/v1/people/", {"limit": 3}).json()
    assert [r["name"] for r in first["results"]] == ["P6", "P5", "P4"]
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    assert [r["name"] for r in second["results"]] == ["P3", "P2", "P1"]
    third = api.get(second["next"]).json()
    assert [r["name"] for r in third["results"]] == ["P0"] and third["next"] is None
    back = api.get(third["previous"]).json()
    assert [r["name"] for r in back["results"]] == ["P3", "P2", "P1"]


@pytest.mark.parametrize("query", [{"after": "garbage"}, {"before": "1.x"}, {"limit": "0"},
                                   {"limit": "201"}, {"limit": "ten"}])  # fmt: skip
def test_a_malformed_cursor_or_limit_is_a_400(api, acme, query):
    response = api.get("/api/v1/people/", query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"


def test_a_person_has_traits_audiences_group_and_identities(api, acme):
    body = api.get(f"/api/v1/people/{acme.ada_id}/").json()
    assert body["id"] == acme.ada_id
    assert body["name"] == "Ada Lovelace"
    assert body["traits"]["plan"] == "pro"
    assert body["audiences"] == ["vip_customers"]
    assert body["group"]["group_id"] == "acme-co"
    assert {i["value"] for i in body["identities"]} == {"ada", "visitor"}
    assert body["events_url"].endswith(f"/api/v1/people/{acme.ada_id}/events/")


def test_a_merged_id_answers_with_the_survivor(api, acme):
    response = api.get(f"/api/v1/people/{acme.merged_id}/")
    assert response.status_code == 200
    assert response.json()["id"] == acme.ada_id
    events = api.get(f"/api/v1/people/{acme.merged_id}/events/").json()["results"]
    assert {e["person_id"] for e in events} == {acme.ada_id}


def test_an_unknown_person_is_a_json_404(api, acme):
    response = api.get("/api/v1/people/999999/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such item in this workspace."}


def test_events_are_newest_first_and_hide_page_views_unless_asked(api, acme):
    visible = api.get("/api/v1/events/").json()["results"]
    assert [e["type"] for e in visible][:2] == ["track", "track"]
    assert "page" not in {e["type"] for e in visible}
    moments = [e["timestamp"] for e in visible]
    assert moments == sorted(moments, reverse=True)
    everything = api.get("/api/v1/events/", {"hidden": "1"}).json()["results"]
    assert [e["type"] for e in everything][1] == "page"
    assert len(everything) == len(visible) + 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "track"}, ["Signed Up", "Signed Up", "Viewed Pricing"]),
        ({"name": "Signed Up"}, ["Signed Up", "Signed Up"]),
        ({"type": "page"}, []),  # page views are hidden events: the Feed's rule
        ({"type": "page", "hidden": "1"}, ["Home"]),
        ({"type": "track", "since": at(5).isoformat(), "until": at(8).isoformat()}, ["Signed Up"]),
        ({"type": "track", "since": at(6).isoformat()}, ["Signed Up", "Signed Up"]),
        ({"type": "track", "until": "2000-01-01T00:00:00"}, []),
    ],
)
def test_events_have_the_feeds_filters_and_a_time_range(api, acme, query, expected):
    assert names(api.get("/api/v1/events/", query)) == expected


@pytest.mark.parametrize(
    "query", [{"type": "click"}, {"since": "yesterday"}, {"until": "2026-13-01"}, {"hidden": "yes"}]
)
def test_a_malformed_event_filter_is_a_400(api, acme, query):
    response = api.get("/api/v1/events/", query)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_parameter"


def test_event_rows_name_their_person_and_id(api, acme):
    grace = api.get("/api/v1/events/").json()["results"][0]
    assert (grace["person_id"], grace["user_id"], grace["name"]) == (
        acme.grace_id,
        "grace",
        "Signed Up",
    )


def test_a_persons_events_cover_all_their_identities_with_the_filters(api, acme):
    url = f"/api/v1/people/{acme.ada_id}/events/"
    assert names(api.get(url, {"type": "track"})) == ["Signed Up", "Viewed Pricing"]
    rows = api.get(url, {"hidden": "1"}).json()["results"]
    assert {r["user_id"] for r in rows} == {"ada", "visitor"}
    assert rows[0]["name"] == "Home" and rows[0]["hidden"] is True
    assert names(api.get(url, {"since": at(5).isoformat(), "type": "track"})) == ["Signed Up"]
    assert names(api.get(f"/api/v1/people/{acme.grace_id}/events/")) == ["Signed Up", ""]


def test_event_pages_follow_next_without_gaps(api, send):
    for i in range(5):
        send("track", user_id="ada", event=f"E{i}", timestamp=at(i))
    seen, url = [], "/api/v1/events/?type=track&limit=2"
    while url:
        body = api.get(url).json()
        seen += [e["name"] for e in body["results"]]
        url = body["next"]
    assert seen == ["E4", "E3", "E2", "E1", "E0"]
    person = Person.objects.get(name=None, merged_into=None).pk
    seen, url = [], f"/api/v1/people/{person}/events/?type=track&limit=2"
    while url:
        body = api.get(url).json()
        seen += [e["name"] for e in body["results"]]
        url = body["next"]
    assert seen == ["E4", "E3", "E2", "E1", "E0"]


def test_groups_list_and_a_group_with_its_members(api, acme, send):
    send("group", user_id="grace", group_id="navy", traits={"name": "Navy"}, timestamp=at(9))
    assert names(api.get("/api/v1/groups/")) == ["Navy", "Acme Co"]
    body = api.get(f"/api/v1/groups/{acme.group_id}/").json()
    assert body["traits"] == {"name": "Acme Co"}
    assert [m["name"] for m in body["members"]] == ["Ada Lovelace"]
    assert body["members_url"].endswith(f"/api/v1/people/?group={acme.group_id}")
    assert api.get("/api/v1/groups/999999/").status_code == 404


def test_the_signed_in_browser_reads_its_current_workspace(owner_client, acme):
    response = owner_client.get("/api/v1/people/")
    assert response.status_code == 200
    assert names(response) == ["Grace Hopper", "Ada Lovelace"]


def test_a_member_reads_through_the_session_too(client, workspace, acme):
    from django.contrib.auth import get_user_model

    from accounts.models import Membership

    user = get_user_model().objects.create_user(username="m@acme.example", password="x" * 12)
    Membership.objects.create(user=user, workspace=workspace, role="member")
    client.force_login(user)
    assert client.get("/api/v1/groups/").status_code == 200


def test_a_key_is_not_a_session_and_a_session_is_not_needed(acme, key):
    # No cookie at all: the key alone reads.
    assert Client(**bearer(key.secret)).get("/api/v1/people/").status_code == 200


def test_keys_read_only_their_own_workspace_even_with_a_session_of_another(
    owner_client, other_key, acme
):
    # The key decides the workspace, not the browser's session riding along.
    response = owner_client.get("/api/v1/people/", **bearer(other_key.secret))
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_last_used_is_stamped_at_most_once_a_minute(api, key, acme, django_assert_num_queries):
    from api.models import ApiKey

    assert ApiKey.objects.get(pk=key.key.pk).last_used_at is None
    api.get("/api/v1/groups/")
    first = ApiKey.objects.get(pk=key.key.pk).last_used_at
    assert first is not None
    # Within the minute: the key lookup and the page's own queries, no UPDATE.
    with django_assert_num_queries(2) as queries:
        api.get("/api/v1/groups/")
    assert not any("UPDATE" in q["sql"] for q in queries.captured_queries)
    ApiKey.objects.filter(pk=key.key.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/api/v1/groups/")
    assert ApiKey.objects.get(pk=key.key.pk).last_used_at > first


def test_a_new_key_reads_at_once(workspace, acme):
    issued = api_key_create(workspace=workspace, name="New", created_by=None)
    assert Client(**bearer(issued.secret)).get("/api/v1/groups/").status_code == 200


def test_the_session_reads_the_workspace_switched_to_in_the_header(
    owner_client, owner, acme, send, other
):
    from accounts.models import Membership

    Membership.objects.create(user=owner, workspace=other, role="member")
    send("identify", into=other, user_id="o", traits={"name": "Only In Other"})
    assert names(owner_client.get("/api/v1/people/")) == ["Grace Hopper", "Ada Lovelace"]
    owner_client.post("/workspaces/switch/", {"workspace": other.pk})
    assert names(owner_client.get("/api/v1/people/")) == ["Only In Other"]
