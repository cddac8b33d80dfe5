"""Each endpoint runs a fixed number of queries, whatever the workspace holds: counted at several
sizes, with the key's lookup included (its "last used" stamp is already fresh)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models import ApiKey
from feed.models import Event
from ingest.store import batch_process
from people.models import Group, Identity, Person
from tests.api.clock import at
from tests.factories import stored_message

pytestmark = pytest.mark.django_db


def grow(workspace, source_id: int, size: int) -> None:
    """`size` people in one group, each with two ids and three events (a page view too)."""
    messages = []
    for i in range(size):
        uid = f"grow-{size}-{i}"
        messages += [
            stored_message(workspace, "identify", source_id=source_id, user_id=uid,
                           anonymous_id=f"anon-{uid}",
                           traits={"name": f"N{i}", "email": f"{uid}@x.example", "vip": i % 2 == 0},
                           timestamp=at(i)),
            stored_message(workspace, "group", source_id=source_id, user_id=uid,
                           group_id=f"g{i % 3}", traits={"name": f"G{i % 3}"}, timestamp=at(i)),
            stored_message(workspace, "track", source_id=source_id, user_id=uid, event="Clicked",
                           timestamp=at(i)),
            stored_message(workspace, "page", source_id=source_id, anonymous_id=f"anon-{uid}",
                           user_id=None, name="Home", timestamp=at(i)),
        ]  # fmt: skip
    batch_process(messages)


def urls(workspace) -> dict[str, str]:
    person = Identity.objects.filter(workspace=workspace, value__startswith="grow").last().person
    group = Group.objects.filter(workspace=workspace).first()
    return {
        "people": "/api/v1/people/?limit=200",
        "people search": "/api/v1/people/?q=n&limit=200",
        "people filtered": f"/api/v1/people/?group={group.pk}&audience=vip&missing_email=",
        "person": f"/api/v1/people/{person.pk}/",
        "person events": f"/api/v1/people/{person.pk}/events/?hidden=1&limit=200",
        "events": "/api/v1/events/?hidden=1&limit=200",
        "events filtered": f"/api/v1/events/?type=track&name=Clicked&since={at(0).isoformat()}",
        "groups": "/api/v1/groups/?limit=200",
        "group": f"/api/v1/groups/{group.pk}/",
    }


# endpoint -> queries: the key's lookup, then the endpoint's own reads.
EXPECTED = {
    "people": 2,
    "people search": 3,  # + how many match, which picks the plan (people_search)
    "people filtered": 2,
    "person": 3,  # + the person with their group, + their identities
    "person events": 4,  # + the person, + their identities, + the events of all of them
    "events": 2,
    "events filtered": 2,
    "groups": 2,
    "group": 3,  # + the group, + its members
}


@pytest.mark.parametrize("endpoint", EXPECTED)
def test_each_endpoint_runs_a_fixed_number_of_queries(
    api, key, workspace, issued, endpoint, django_assert_max_num_queries
):
    ApiKey.objects.filter(pk=key.key.pk).update(last_used_at=timezone.now())
    counts = []
    for size in (2, 10, 40):
        grow(workspace, issued.source.pk, size)
        url = urls(workspace)[endpoint]
        with django_assert_max_num_queries(EXPECTED[endpoint]) as queries:
            response = api.get(url)
        assert response.status_code == 200, response.content
        assert response.json().get("results", [None]) or endpoint == "people filtered"
        counts.append(len(queries.captured_queries))
    assert len(set(counts)) == 1, counts


def test_a_merged_id_costs_one_query_per_merge_followed(
    api, key, send, django_assert_max_num_queries, acme
):
    ApiKey.objects.filter(pk=key.key.pk).update(last_used_at=timezone.now())
    # + the merged person, + the chain's one step, + the survivor, + identities.
    with django_assert_max_num_queries(5):
        assert api.get(f"/api/v1/people/{acme.merged_id}/").json()["id"] == acme.ada_id


def test_the_browser_session_adds_only_its_own_lookups(
    owner_client, workspace, issued, django_assert_max_num_queries
):
    grow(workspace, issued.source.pk, 5)
    # + the session and the user, + the memberships (the current workspace).
    with django_assert_max_num_queries(EXPECTED["events"] - 1 + 3):
        assert owner_client.get("/api/v1/events/").status_code == 200


def person_with_ids(workspace, n: int) -> Person:
    """A person holding `n` ids with one event each (written directly: people from before the
    id bound of people/id_limit.py can hold thousands)."""
    person = Person.objects.create(workspace=workspace, name=f"Many {n}")
    identities = Identity.objects.bulk_create(
        Identity(workspace=workspace, value=f"many-{n}-{i}", kind="anonymous", person=person)
        for i in range(n)
    )
    Event.objects.bulk_create(
        Event(
            workspace=workspace, identity=identity, type="track", name="Clicked",
            message_id=f"many-{n}-{i}", timestamp=at(i), received_at=at(i), raw={},
        )
        for i, identity in enumerate(identities)
    )  # fmt: skip
    return person


def test_a_persons_events_cost_the_same_statements_for_twice_the_ids(api, key, workspace):
    """One statement for their events whatever their ids (a UNION ALL branch per id was planned
    in quadratic time), and their ids are read as ids, not as rows."""
    ApiKey.objects.filter(pk=key.key.pk).update(last_used_at=timezone.now())
    statements = {}
    for n in (200, 400):
        person = person_with_ids(workspace, n)
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"/api/v1/people/{person.pk}/events/?limit=10")
        rows = response.json()["results"]
        assert [row["user_id"] for row in rows] == [
            f"many-{n}-{i}" for i in range(n - 1, n - 11, -1)
        ]
        assert {row["person_id"] for row in rows} == {person.pk}
        # The ids travel as one array parameter (or an IN list on SQLite): written empty here.
        statements[n] = [
            re.sub(r"'\{[0-9,]*\}'|IN \([0-9, ]*\)", "{}", q["sql"])
            for q in queries.captured_queries
        ]
    assert len(statements[200]) == len(statements[400]) == EXPECTED["person events"]
    assert [len(sql) for sql in statements[200]] == [len(sql) for sql in statements[400]]
    # Their ids are read as ids: 6,000 of them as rows took 560 ms.
    (read,) = [sql for sql in statements[400] if 'FROM "people_identity" WHERE' in sql]
    assert re.match(r'SELECT "people_identity"."id"( AS "pk")? FROM "people_identity"', read), read
