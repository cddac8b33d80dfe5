"""The People search over `Person.search_text`: accents, email domains, phone digits and the
workspace's chosen text traits (people/search_text.py), kept by the worker and rebuilt when an
admin changes the traits."""

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Membership, Workspace
from accounts.services import workspace_create
from ingest.store import batch_process
from people import selectors
from people.models import Person
from people.search_text import (
    SEARCH_TRAITS_MAX,
    TEXT_MAX_LENGTH,
    search_text_of,
    search_traits_forget,
    search_words,
    workspace_search_text_rebuild,
)
from tests.factories import person_of, stored_message

pytestmark = pytest.mark.django_db

SETTINGS = reverse("people:search_settings")


@pytest.fixture(autouse=True)
def _fresh_keys():
    # Each process keeps a workspace's keys a minute (people/search_text.py): start afresh.
    search_traits_forget()
    yield
    search_traits_forget()


def identify(workspace: Workspace, user_id: str, minute: int = 0, **traits) -> dict:
    return stored_message(workspace, "identify", user_id=user_id, traits=traits, minute=minute)


def found(workspace: Workspace, q: str) -> set[str]:
    """The user ids of the people the search finds, by the selector the People page calls."""
    people = Person.objects.for_workspace(workspace).current()
    matches = selectors.people_search(people, workspace=workspace, q=q)
    return {value for p in matches for value in p.identities.values_list("value", flat=True)}


@pytest.fixture
def team(workspace: Workspace) -> Workspace:
    batch_process(
        [
            identify(workspace, "karen", name="Karen Spärck Jones", email="karen@acme.io"),
            identify(workspace, "soren", name="Søren Kierkegaard", email="soren@acme.io"),
            identify(workspace, "ada", name="Ada Lovelace", email="ada@analytical.engine"),
            identify(workspace, "grace", name="Grace Hopper", email="grace@acme.io.example"),
            identify(
                workspace, "linus", name="Linus", phone="+1 (555) 010-2030", title="CTO", bio="CTO"
            ),
            identify(workspace, "ken", name="Ken", title="Engineer", company="Bell Labs"),
        ]
    )
    return workspace


def test_workspaces_start_with_the_default_search_traits(workspace):
    assert workspace.search_traits == ["title", "company", "role", "plan"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("sparck", {"karen"}),
        ("SPARCK jones", {"karen"}),
        ("Spärck", {"karen"}),
        ("soren", {"soren"}),
        ("SØREN", {"soren"}),
        ("acme.io", {"karen", "soren", "grace"}),
        ("@acme.io", {"karen", "soren", "grace"}),
        ("karen@acme", {"karen"}),
        ("analytical.engine", {"ada"}),
        ("CTO", {"linus"}),
        ("bell labs", {"ken"}),
        ("5550102030", {"linus"}),
        ("15550102030", {"linus"}),
        ("555-010", {"linus"}),
        ("(555) 010 2030", {"linus"}),
        # Existing behaviour kept: prefixes of email, name and ids.
        ("karen@", {"karen"}),
        ("lovel", {"ada"}),
        ("gra", {"grace"}),
        # Words in a row, not anywhere: "acme" then "io" then "example" only for Grace.
        ("acme.io.example", {"grace"}),
        ("io.acme", set()),
        ("parck", set()),
    ],
)
@pytest.mark.parametrize("limit", [1000, 1])
def test_search_finds_accents_domains_phones_and_chosen_traits(
    team, monkeypatch, query, expected, limit
):
    # Both plans: few matches (a UNION of index scans) and many (walking the last-seen index).
    monkeypatch.setattr(selectors, "SEARCH_SORT_LIMIT", limit)
    assert found(team, query) == expected


def test_a_trait_is_found_only_while_it_is_chosen(team):
    assert found(team, "engineer") == {"ken"}
    # bio is not chosen: its CTO is not searched (Linus is found by his title).
    batch_process([identify(team, "bob", name="Bob", bio="CTO")])
    assert found(team, "cto") == {"linus"}

    changed = workspace_search_text_rebuild_with(team, ["bio"])

    assert changed
    assert found(team, "cto") == {"linus", "bob"}
    assert found(team, "engineer") == set()
    # The worker reads the new keys as it recomputes people.
    batch_process([identify(team, "eve", minute=5, name="Eve", bio="Chief Engineer", title="CTO")])
    assert found(team, "chief") == {"eve"}
    assert "cto" not in person_of(team, "eve").search_text.split()


def workspace_search_text_rebuild_with(workspace: Workspace, keys: list[str]) -> int:
    Workspace.objects.filter(pk=workspace.pk).update(search_traits=keys)
    search_traits_forget(workspace.pk)
    return workspace_search_text_rebuild(workspace.pk, batch=2)


def test_only_text_values_of_chosen_traits_are_indexed():
    text = search_text_of(
        name=None,
        email=None,
        phone=None,
        traits={"title": {"nested": "CTO"}, "plan": 3, "role": ["admin"], "company": "Acme"},
        keys=["title", "plan", "role", "company"],
    )
    assert text == "acme"


def test_the_search_text_is_bounded_and_cut_between_words():
    keys = [f"t{i}" for i in range(20)]
    text = search_text_of(
        name="x" * 10_000,
        email=None,
        phone=None,
        traits={key: "word " * 200 for key in keys},
        keys=keys,
    )
    assert TEXT_MAX_LENGTH - len("word ") < len(text) <= TEXT_MAX_LENGTH
    # Each value at most VALUE_MAX_LENGTH characters; the last word whole.
    assert text.split()[0] == "x" * 500
    assert set(text.split()[1:]) == {"word"}


def test_normalising_strips_accents_and_folds_letters():
    assert search_words("Ærøskøbing Straße Łódź Ĳssel ﬁ") == [
        "aeroskobing",
        "strasse",
        "lodz",
        "ijssel",
        "fi",
    ]


@pytest.mark.parametrize("q", ["a" * 200, "é " * 100, "acme.io " * 25, ":* & | ! <-> ( )"])
def test_hostile_queries_are_answered(team, owner_client, q):
    response = owner_client.get(reverse("people:list"), {"q": q})
    assert response.status_code == 200
    found(team, q)


def test_a_query_past_the_limit_is_cut_to_it(team, owner_client, monkeypatch):
    # As before search_text: the page reads at most SEARCH_MAX_LENGTH characters of `q`
    # (core/params.py text_param), and the search text is asked for SEARCH_WORDS_MAX words.
    asked = []
    search = selectors.people_search
    monkeypatch.setattr(
        selectors, "people_search", lambda qs, **kw: asked.append(kw["q"]) or search(qs, **kw)
    )
    response = owner_client.get(reverse("people:list"), {"q": "sparck " * 3000})
    assert response.status_code == 200
    assert len(asked[0]) <= selectors.SEARCH_MAX_LENGTH
    assert len(selectors._query_terms(asked[0])) == selectors.SEARCH_WORDS_MAX


@pytest.mark.parametrize("q", ["acme.io", "sparck jones", "555-010", "cto"])
def test_the_search_costs_a_fixed_number_of_queries(team, q, django_assert_num_queries):
    # One to learn how many match, one for the page; the same for every kind of query.
    with django_assert_num_queries(2):
        selectors.people_page(workspace=team, filters=selectors.PeopleFilters(q=q))


def test_search_text_is_scoped_to_the_workspace(team, db):
    other = Workspace.objects.create(name="Other")
    batch_process([identify(other, "karen-2", name="Karen Spärck Jones", email="k@acme.io")])
    assert found(team, "sparck") == {"karen"}
    assert found(other, "sparck") == {"karen-2"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's word index")
def test_search_uses_the_search_words_index(workspace):
    Person.objects.bulk_create(
        Person(workspace=workspace, search_text=f"first{i} last{i} acme{i % 50} io")
        for i in range(3000)
    )
    people = Person.objects.for_workspace(workspace).current()
    query = people.filter(selectors._search_text_match("acme12.io")).values("pk")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_person")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "person_search_words" in plan, plan


# --- The settings page ------------------------------------------------------------------------


def test_admins_choose_the_traits_and_the_people_are_reindexed(
    team, owner_client, django_capture_on_commit_callbacks, monkeypatch
):
    from people import tasks

    queued = []
    monkeypatch.setattr(
        tasks.search_text_rebuild,
        "apply_async",
        lambda args, countdown: queued.append((args, countdown)),
    )
    assert "title" in owner_client.get(SETTINGS).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(SETTINGS, {"search_traits": "bio\n  title \nbio"})

    assert response.status_code == 302
    team.refresh_from_db()
    assert team.search_traits == ["bio", "title"]
    assert queued == [((team.pk,), 75.0)]
    # Saving the same keys again queues nothing.
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(SETTINGS, {"search_traits": "bio, title"})
    assert len(queued) == 1


def test_too_many_traits_are_refused_with_a_400(owner_client, workspace):
    keys = "\n".join(f"t{i}" for i in range(SEARCH_TRAITS_MAX + 1))
    response = owner_client.post(SETTINGS, {"search_traits": keys})
    assert response.status_code == 400
    assert f"At most {SEARCH_TRAITS_MAX}" in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.search_traits == ["title", "company", "role", "plan"]


def test_members_may_not_choose_the_traits(client, workspace, django_user_model):
    user = django_user_model.objects.create_user(username="m@example.com", password="x" * 12)
    Membership.objects.create(user=user, workspace=workspace, role=Membership.Role.MEMBER)
    client.force_login(user)
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, {"search_traits": "bio"}).status_code == 403


def test_the_rebuild_touches_only_its_workspace(team, django_user_model):
    owner = django_user_model.objects.create_user(username="o@example.com", password="x" * 12)
    other = workspace_create(name="Other", owner=owner)
    batch_process([identify(other, "ken-2", name="Ken", title="Engineer")])
    workspace_search_text_rebuild_with(team, [])
    assert found(other, "engineer") == {"ken-2"}
    assert found(team, "engineer") == set()
