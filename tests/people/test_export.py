"""The People CSV export: what the list's filters select, every column, streamed in batches."""

import json

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from people import export
from people.models import Person
from tests.csv_export import csv_rows, rows_of

pytestmark = pytest.mark.django_db

EXPORT = reverse("people:export")


def test_export_has_a_column_per_reserved_trait_and_the_other_traits_as_json(owner_client, people):
    group = people.group(group_id="g-1", name="Initech")
    ada = people.person(
        name="Ada Lovelace",
        email="ada@analytical.engine",
        phone="+44 1815",
        avatar="https://example.com/ada.png",
        traits={"plan": "pro", "address": {"city": "London"}},
        audiences={"beta": True, "churned": False},
        group=group,
        event_count=3,
    )

    response = owner_client.get(EXPORT)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="people.csv"'
    [row] = rows_of(response)
    assert row["id"] == str(ada.pk)
    assert (row["name"], row["email"], row["phone"], row["avatar"]) == (
        "Ada Lovelace",
        "ada@analytical.engine",
        "'+44 1815",  # defused: a spreadsheet would read +44 1815 as a formula
        "https://example.com/ada.png",
    )
    assert (row["group_id"], row["group_name"], row["audiences"]) == ("g-1", "Initech", "beta")
    assert row["event_count"] == "3"
    assert json.loads(row["traits"])["address"] == {"city": "London"}
    assert json.loads(row["traits"])["plan"] == "pro"


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_cells_a_spreadsheet_would_run_as_formulas_get_a_leading_apostrophe(
    owner_client, people, cell
):
    people.person(name=cell, email="ok@example.com")

    [row] = rows_of(owner_client.get(EXPORT))

    assert row["name"] == "'" + cell
    assert row["email"] == "ok@example.com"


def test_export_selects_what_the_filters_select_in_the_list_order(owner_client, people):
    beta = people.person(name="Grace Hopper", audiences={"beta": True}, minutes_ago=5)
    people.person(name="Grace Other", email="go@example.com", minutes_ago=1)
    people.person(name="Alan Turing", audiences={"beta": True})
    newest_grace = people.person(name="Grace Newest", minutes_ago=0)

    def ids(**params) -> list[int]:
        return [int(r["id"]) for r in rows_of(owner_client.get(EXPORT, params))]

    assert ids(q="hopper") == [beta.pk]
    assert ids(q="grace", missing_email="1") == [newest_grace.pk, beta.pk]
    assert ids(q="grace", audience="beta") == [beta.pk]


def test_export_never_includes_another_workspace(owner_client, people, stranger_workspace):
    mine = people.person(name="Mine")
    Person.objects.create(workspace=stranger_workspace, name="Theirs", email="theirs@example.com")
    Person.objects.create(workspace=stranger_workspace, name="Mine too")

    assert [r["id"] for r in rows_of(owner_client.get(EXPORT))] == [str(mine.pk)]
    assert rows_of(owner_client.get(EXPORT, {"q": "theirs"})) == []


def test_export_streams_in_bounded_batches(
    owner_client, people, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(export, "EXPORT_BATCH_SIZE", 7)
    made = [people.person(name=f"P{i}", minutes_ago=i) for i in range(30)]

    response = owner_client.get(EXPORT)
    assert isinstance(response, StreamingHttpResponse)
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"id,")  # the header leaves before any row is read
    # 30 people in batches of 7: five reads, each a LIMIT 8 (one to know whether more follow).
    with django_assert_max_num_queries(5) as reads:
        body = list(chunks)
    assert len(body) == 5
    assert all("LIMIT 8" in q["sql"] for q in reads.captured_queries)
    rows = csv_rows(body)
    assert [int(r[0]) for r in rows] == [p.pk for p in made]


def test_export_link_carries_the_current_filters(owner_client, people):
    people.person(name="Someone")

    html = owner_client.get(reverse("people:list"), {"q": "some", "audience": "beta"}).content
    assert b'href="/people/export.csv?q=some&amp;audience=beta"' in html


def test_export_needs_a_login(client):
    response = client.get(EXPORT)
    assert response.status_code == 302


# --- Chosen trait columns (?columns=) ------------------------------------------------------------


def test_columns_adds_one_column_per_chosen_trait_in_the_order_given(owner_client, people):
    people.person(
        name="Ada",
        traits={"plan": "Pro", "seats": 12, "beta": False, "address": {"city": "Zürich", "n": [1]},
                "tags": ["a", "b"], "note": None, "formula": "=1+1"},
    )  # fmt: skip
    people.person(name="Bob", traits={"plan": 7}, minutes_ago=5)  # a number where Ada has text

    response = owner_client.get(
        EXPORT, {"columns": "plan, seats,beta,address,tags,note,missing,formula"}
    )
    header = next(iter(csv_rows([b"".join(response.streaming_content)])))
    assert header[-8:] == ["plan", "seats", "beta", "address", "tags", "note", "missing", "formula"]
    ada, bob = rows_of(
        owner_client.get(EXPORT, {"columns": "plan,seats,beta,address,tags,note,missing,formula"})
    )
    assert (ada["plan"], ada["seats"], ada["beta"]) == ("Pro", "12", "false")
    assert ada["address"] == '{"city":"Zürich","n":[1]}'  # compact JSON, unicode kept
    assert ada["tags"] == '["a","b"]'
    assert ada["note"] == ada["missing"] == ""
    assert ada["formula"] == "'=1+1"  # defused like every cell
    assert (bob["plan"], bob["seats"]) == ("7", "")


def test_a_column_named_like_a_fixed_one_is_told_apart(owner_client, people):
    people.person(name="Ada", email="ada@example.com", traits={"id": "crm-1", "email": "x@y.z"})

    response = owner_client.get(EXPORT, {"columns": "id,email,id"})
    [row] = rows_of(response)
    assert (row["id"], row["trait:id"], row["trait:email"]) != ("", "", "")
    assert row["trait:id"] == "crm-1"
    assert row["trait:email"] == "x@y.z"


def test_without_columns_the_export_is_unchanged(owner_client, people):
    people.person(name="Ada", traits={"plan": "pro"})

    [row] = rows_of(owner_client.get(EXPORT, {"columns": " , "}))
    assert list(row) == export.PEOPLE_CSV_HEADER


def test_the_columns_are_the_pages_and_a_filter_or_segment_selects_as_the_page_does(
    owner_client, people, workspace
):
    from segments.models import Segment

    ada = people.person(name="Ada", email="ada@acme.io", traits={"plan": "Pro", "seats": 3})
    people.person(name="Bob", email="bob@else.io", traits={"plan": "free"}, minutes_ago=3)
    pro = {"op": "and", "conditions": [
        {"field": "trait", "key": "plan", "operator": "equals", "value": "pro"},
    ]}  # fmt: skip
    saved = Segment.objects.create(workspace=workspace, name="Pro", filter=pro, visibility="team")

    by_filter = rows_of(owner_client.get(EXPORT, {"filter": json.dumps(pro), "columns": "seats"}))
    by_segment = rows_of(owner_client.get(EXPORT, {"segment": saved.pk, "columns": "seats"}))
    assert [r["id"] for r in by_filter] == [r["id"] for r in by_segment] == [str(ada.pk)]
    assert by_segment[0]["seats"] == "3"
    page = owner_client.get("/people/", {"segment": saved.pk, "columns": "seats"})
    assert [p.pk for p in page.context["page"].rows] == [ada.pk]
    assert page.context["selection"].columns == ["seats"]


def test_a_refused_filter_or_anothers_segment_is_not_exported(
    owner_client, people, stranger_workspace
):
    from segments.models import Segment

    people.person(name="Ada")
    theirs = Segment.objects.create(
        workspace=stranger_workspace, name="Theirs", visibility="team",
        filter={"op": "and", "conditions": []},
    )  # fmt: skip
    assert owner_client.get(EXPORT, {"filter": "{nope"}).status_code == 400
    assert owner_client.get(EXPORT, {"filter": "[" * 5000}).status_code == 400
    assert owner_client.get(EXPORT, {"segment": theirs.pk}).status_code == 404
