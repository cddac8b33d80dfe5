"""Another workspace's key reads nothing of Acme's, on every endpoint, whatever id it names."""

import pytest
from django.test import Client

from tests.api.conftest import bearer

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
