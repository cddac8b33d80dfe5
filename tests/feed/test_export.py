"""The Feed CSV export: the events the Feed's filters select, newest first, streamed in batches."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from feed import export
from tests.csv_export import csv_rows, rows_of
from tests.factories import PeopleFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("feed:export")


def test_export_lists_events_newest_first_with_who_and_properties(owner_client, people):
    ada = people.person(name="Ada Lovelace", email="ada@example.com", user_id="usr_ada")
    old = people.event(ada, name="Signed Up", minutes_ago=10)
    new = people.event(ada, name="Order Completed", properties={"total": 42}, minutes_ago=1)

    rows = rows_of(owner_client.get(EXPORT, {"hidden": "0"}))

    assert [r["id"] for r in rows] == [str(new.pk), str(old.pk)]
    row = rows[0]
    assert (row["type"], row["name"], row["id_value"], row["id_kind"]) == (
        "track",
        "Order Completed",
        "usr_ada",
        "user",
    )
    assert (row["person_id"], row["person_name"], row["person_email"]) == (
        str(ada.pk),
        "Ada Lovelace",
        "ada@example.com",
    )
    assert json.loads(row["properties"]) == {"total": 42}
    assert row["timestamp"] == new.timestamp.isoformat()


def test_export_follows_the_feed_filters(owner_client, people):
    ada = people.person(name="Ada")
    track = people.event(ada, name="Clicked", minutes_ago=3)
    people.event(ada, name="Viewed", minutes_ago=2)
    page = people.event(ada, type="page", name="Home", minutes_ago=1)

    def ids(**params) -> list[str]:
        return [r["id"] for r in rows_of(owner_client.get(EXPORT, params))]

    assert ids(hidden="0", name="Clicked") == [str(track.pk)]
    assert ids(hidden="0", type="page") == []  # page events are hidden events
    assert ids(hidden="1", type="page") == [str(page.pk)]
    assert len(ids(hidden="1")) == 3
    assert len(ids(hidden="0")) == 2


def test_export_never_includes_another_workspace(owner_client, people, stranger_workspace):
    mine = people.event(people.person(name="Mine"))
    theirs = PeopleFactory(workspace=stranger_workspace, now=timezone.now())
    theirs.event(theirs.person(name="Theirs"), name="Secret")

    rows = rows_of(owner_client.get(EXPORT, {"hidden": "1"}))
    assert [r["id"] for r in rows] == [str(mine.pk)]
    assert rows_of(owner_client.get(EXPORT, {"hidden": "1", "name": "Secret"})) == []


def test_export_defuses_formulas_in_sender_values(owner_client, people):
    people.event(people.person(name="=cmd|' /C calc'!A0"), name="@SUM(1)")

    [row] = rows_of(owner_client.get(EXPORT, {"hidden": "0"}))

    assert row["name"] == "'@SUM(1)"
    assert row["person_name"] == "'=cmd|' /C calc'!A0"


def test_export_streams_in_bounded_batches(
    owner_client, people, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(export, "EXPORT_BATCH_SIZE", 4)
    ada = people.person(name="Ada")
    made = [people.event(ada, minutes_ago=i) for i in range(10)]

    response = owner_client.get(EXPORT, {"hidden": "0"})
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"id,")
    # The watermark read, then three batch reads of at most 5 rows.
    with django_assert_max_num_queries(4) as reads:
        body = list(chunks)
    assert len(body) == 3
    assert sum("LIMIT 5" in q["sql"] for q in reads.captured_queries) == 3
    rows = csv_rows(body)
    assert [int(r[0]) for r in rows] == [e.pk for e in made]


def test_feed_has_an_export_link_with_its_filters(owner_client, people):
    people.event(people.person(name="Ada"), name="Clicked")

    html = owner_client.get(reverse("feed:list"), {"hidden": "0", "name": "Clicked"}).content
    assert b'href="/feed/export.csv?hidden=0&amp;name=Clicked"' in html
