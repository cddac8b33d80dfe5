import re

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Membership, Workspace
from accounts.services import workspace_create
from core.paging import Cursor
from ingest.store import batch_process
from people import selectors
from people.models import Identity, Person
from people.selectors import PeopleFilters
from tests.factories import stored_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_workspace(db, django_user_model) -> Workspace:
    stranger = django_user_model.objects.create_user(username="stranger@example.com", password="x")
    return workspace_create(name="Elsewhere", owner=stranger)


LIST = reverse("people:list")
# An Engage sync: a boolean trait is an audience only when one sent it (people/identity.py).
SYNC = {"personas": {"computation_class": "audience"}}


def detail(person: Person) -> str:
    return reverse("people:detail", args=[person.pk])


def listed_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-person-id="(\d+)"', response.content.decode())]


# --- The list ---------------------------------------------------------------------------------


def test_people_are_listed_by_last_seen_newest_first(owner_client, people):
    old = people.person(name="Old Timer", minutes_ago=300)
    new = people.person(name="New Comer", minutes_ago=1)
    middle = people.person(name="Middle Ground", minutes_ago=60)

    response = owner_client.get(LIST)

    assert response.status_code == 200
    assert listed_ids(response) == [new.pk, middle.pk, old.pk]


def test_list_shows_email_phone_group_audiences_and_event_count(owner_client, people):
    group = people.group(group_id="g-1", name="Initech")
    person = people.person(
        name="Peter Gibbons",
        email="peter@initech.com",
        phone="+1 555 0100",
        group=group,
        audiences={"power_users": True, "churned": False},
    )
    people.event(person)

    html = owner_client.get(LIST).content.decode()

    row = html[html.index(f'data-person-id="{person.pk}"') :]
    row = row[: row.index("</tr>")]
    for text in ("Peter Gibbons", "peter@initech.com", "+1 555 0100", "Initech", "power_users"):
        assert text in row
    assert "churned" not in row
    assert '<td class="num">1</td>' in row


def test_people_merged_into_someone_else_are_not_listed(owner_client, people):
    survivor = people.person(name="Survivor")
    merged = people.person(name="Merged Away")
    Person.objects.filter(pk=merged.pk).update(merged_into=survivor)

    assert listed_ids(owner_client.get(LIST)) == [survivor.pk]


def test_people_of_another_workspace_are_not_listed(owner_client, people, other_workspace):
    mine = people.person(email="mine@example.com")
    Person.objects.create(workspace=other_workspace, email="theirs@example.com")

    response = owner_client.get(LIST, {"q": "theirs"})
    assert listed_ids(response) == []
    assert listed_ids(owner_client.get(LIST)) == [mine.pk]


@pytest.mark.parametrize(
    "query",
    ["ada@", "ADA@ANALYTICAL", "Ada Love", "ada lovelace", "usr_ada", "USR_A", "anon-ada"],
)
def test_search_matches_a_prefix_of_email_name_or_any_id(owner_client, people, query):
    ada = people.person(
        name="Ada Lovelace",
        email="ada@analytical.engine",
        user_id="usr_ada_1815",
        anonymous_id="anon-ada-77",
    )
    people.person(name="Charles Babbage", email="charles@difference.engine", user_id="usr_cb")

    assert listed_ids(owner_client.get(LIST, {"q": query})) == [ada.pk]


@pytest.mark.parametrize("limit", [1000, 1])
def test_broad_searches_walk_the_list_and_find_the_same_people(
    owner_client, people, monkeypatch, limit
):
    # Past SEARCH_SORT_LIMIT matches the search walks the last-seen index instead of sorting.
    monkeypatch.setattr(selectors, "SEARCH_SORT_LIMIT", limit)
    by_email = people.person(email="sam@example.com", minutes_ago=3)
    by_name = people.person(name="Samantha Carter", minutes_ago=1)
    by_id = people.person(user_id="SAM-42", email="other@example.com", minutes_ago=2)
    people.person(name="Daniel Jackson", email="daniel@example.com")

    ids = listed_ids(owner_client.get(LIST, {"q": "Sam"}))

    assert ids == [by_name.pk, by_id.pk, by_email.pk]


def test_search_is_a_prefix_not_a_substring(owner_client, people):
    people.person(name="Ada Lovelace", email="ada@analytical.engine")

    assert listed_ids(owner_client.get(LIST, {"q": "ovelace"})) == []
    assert listed_ids(owner_client.get(LIST, {"q": "analytical"})) == []


@pytest.mark.parametrize("query", ["lovelace", "LOVE", "hopper", "Grace Hop", "van"])
@pytest.mark.parametrize("limit", [1000, 1])
def test_search_finds_a_person_by_the_start_of_any_word_of_their_name(
    owner_client, people, monkeypatch, query, limit
):
    # Both plans: few matches (a UNION of index scans) and many (walking the last-seen index).
    monkeypatch.setattr(selectors, "SEARCH_SORT_LIMIT", limit)
    ada = people.person(name="Ada Lovelace", email="ada@analytical.engine", minutes_ago=2)
    grace = people.person(name="Grace Brewster Hopper", email="grace@navy.mil", minutes_ago=1)
    vincent = people.person(name="Vincent van Gogh", email="vincent@arles.fr", minutes_ago=3)
    people.person(name="Charles Babbage", email="charles@difference.engine")
    expected = {"lovelace": [ada], "LOVE": [ada], "hopper": [grace], "Grace Hop": [grace]}

    found = listed_ids(owner_client.get(LIST, {"q": query}))

    assert found == [p.pk for p in expected.get(query, [vincent])]


@pytest.mark.parametrize(
    "query, names",
    [
        # Words after punctuation: the walking plan's cheap test looks inside the whole name.
        ("luc", ["Jean-Luc Picard", "Luc Besson"]),
        ("brien", ["Miles O'Brien", "Brienne Tarth"]),
        # PostgreSQL's parser splits "a½b" into a then b (Python keeps one word): names need not
        # contain it whole, so the cheap test must not ask for it.
        ("a½b", ["Axel Bob", "Anna Bell"]),
    ],
)
@pytest.mark.parametrize("limit", [1000, 1])
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite matches words after spaces")
def test_both_search_plans_find_the_same_words(
    owner_client, people, monkeypatch, query, names, limit
):
    # Two matches each: a limit of 1 sends the search down its walking plan.
    monkeypatch.setattr(selectors, "SEARCH_SORT_LIMIT", limit)
    found = [people.person(name=name, minutes_ago=i) for i, name in enumerate(names)]
    people.person(name="Charles Babbage", email="charles@difference.engine")

    assert listed_ids(owner_client.get(LIST, {"q": query})) == [p.pk for p in found]


def test_word_search_is_scoped_to_the_workspace(owner_client, people, other_workspace):
    Person.objects.create(workspace=other_workspace, name="Ada Lovelace")
    mine = people.person(name="Augusta Ada King")

    assert listed_ids(owner_client.get(LIST, {"q": "lovelace"})) == []
    assert listed_ids(owner_client.get(LIST, {"q": "king"})) == [mine.pk]


def test_short_queries_match_the_start_of_the_name_only(owner_client, people):
    # Two letters would match a word of nearly everyone; the name's start answers them.
    people.person(name="Ada Lovelace")

    assert listed_ids(owner_client.get(LIST, {"q": "lo"})) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's word index")
def test_word_search_uses_the_name_words_index(workspace):
    from django.db.models.functions import Lower

    Person.objects.bulk_create(
        Person(workspace=workspace, name=f"First{i} Last{i}") for i in range(3000)
    )
    people = Person.objects.for_workspace(workspace).current()
    words = selectors._name_words_match("last12")
    query = people.annotate(name_lower=Lower("name")).filter(words).values("pk")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_person")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "person_name_words" in plan, plan


@pytest.mark.parametrize("query", ["%", "_", "\\"])
def test_search_treats_like_wildcards_as_plain_characters(owner_client, people, query):
    people.person(name="Ada Lovelace", email="ada@analytical.engine")
    odd = {name: people.person(name=name) for name in ("%pct", "_under", "\\back")}

    expected = next(p.pk for name, p in odd.items() if name.startswith(query))
    assert listed_ids(owner_client.get(LIST, {"q": query})) == [expected]


def test_group_filter_keeps_only_members(owner_client, people):
    initech = people.group(group_id="initech", name="Initech")
    member = people.person(name="In Group", group=initech)
    people.person(name="No Group")

    assert listed_ids(owner_client.get(LIST, {"group": initech.pk})) == [member.pk]


def test_audience_filter_keeps_only_members_whose_value_is_true(owner_client, people):
    vip = people.person(name="Vip", audiences={"big_spenders": True})
    people.person(name="Left", audiences={"big_spenders": False})
    people.person(name="Never")

    assert listed_ids(owner_client.get(LIST, {"audience": "big_spenders"})) == [vip.pk]


@pytest.mark.parametrize("name", ["order__completed", "exact", "a b", "x'y"])
def test_audience_names_are_keys_not_lookups(owner_client, people, name):
    member = people.person(name="Member", audiences={name: True})
    people.person(name="Other", audiences={"order": {"completed": True}})

    assert listed_ids(owner_client.get(LIST, {"audience": name})) == [member.pk]


def test_missing_email_filter_keeps_people_without_email(owner_client, people):
    people.person(name="Has Email", email="has@example.com")
    none = people.person(name="No Email")
    blank = people.person(name="Blank Email", email="")

    ids = listed_ids(owner_client.get(LIST, {"missing_email": "1"}))
    assert sorted(ids) == sorted([none.pk, blank.pk])


def test_filters_combine_with_search(owner_client, people):
    initech = people.group(group_id="initech", name="Initech")
    match = people.person(name="Sam Lumbergh", group=initech)
    people.person(name="Sam Other")
    people.person(name="Bill Lumbergh", group=initech)

    assert listed_ids(owner_client.get(LIST, {"q": "sam", "group": initech.pk})) == [match.pk]


def test_keyset_pages_walk_everyone_once_in_both_directions(people):
    # Ties on last_seen and people never seen are where keyset pagination usually breaks.
    everyone = [people.person(name=f"P{i}", minutes_ago=i // 3) for i in range(10)]
    never = [people.person(name=f"N{i}") for i in range(2)]
    Person.objects.filter(pk__in=[p.pk for p in never]).update(last_seen=None)
    expected = [p.pk for p in sorted(never, key=lambda p: -p.pk)] + [
        p.pk for p in sorted(everyone, key=lambda p: (-p.last_seen.timestamp(), -p.pk))
    ]

    pages, after = [], None
    while True:
        page = selectors.people_page(
            workspace=people.workspace, filters=PeopleFilters(), after=after, size=5
        )
        pages.append(page)
        if not page.older:
            break
        after = Cursor.decode(page.older)
    assert [p.pk for page in pages for p in page.rows] == expected
    assert len(pages) == 3
    assert pages[0].newer is None

    back = selectors.people_page(
        workspace=people.workspace,
        filters=PeopleFilters(),
        before=Cursor.decode(pages[2].newer),
        size=5,
    )
    assert [p.pk for p in back.rows] == [p.pk for p in pages[1].rows]
    first = selectors.people_page(
        workspace=people.workspace,
        filters=PeopleFilters(),
        before=Cursor.decode(back.newer),
        size=5,
    )
    assert [p.pk for p in first.rows] == [p.pk for p in pages[0].rows]
    assert first.newer is None


def test_list_pages_have_older_and_newer_links_and_never_use_offset(
    owner_client, people, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(selectors, "PEOPLE_PAGE_SIZE", 2)
    everyone = [people.person(name=f"P{i}", minutes_ago=i) for i in range(5)]

    first = owner_client.get(LIST).content.decode()
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "Newer" not in first
    second = owner_client.get(LIST + older)
    assert listed_ids(second) == [everyone[2].pk, everyone[3].pk]
    assert "← Newer" in second.content.decode()

    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        owner_client.get(LIST + older)
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)


def test_a_broken_cursor_shows_the_first_page(owner_client, people):
    person = people.person(name="Anyone")

    assert listed_ids(owner_client.get(LIST, {"after": "garbage.x"})) == [person.pk]
    assert listed_ids(owner_client.get(LIST, {"before": "9" * 80})) == [person.pk]


@pytest.mark.parametrize(
    "params", [{}, {"q": "p"}, {"audience": "a"}, {"missing_email": "1", "after": "n.99999"}]
)
def test_list_runs_a_fixed_number_of_queries_whatever_the_page_size(
    owner_client, people, monkeypatch, django_assert_max_num_queries, params
):
    # A limit of 1 sends the search down its walking plan once people outnumber it.
    monkeypatch.setattr(selectors, "SEARCH_SORT_LIMIT", 1)
    group = people.group()
    people.person(name="Pat First", group=group, audiences={"a": True})
    with django_assert_max_num_queries(7) as few:
        owner_client.get(LIST, params)
    for i in range(60):
        people.person(name=f"P{i}", group=people.group(group_id=f"g{i}"), audiences={"a": True})
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(LIST, params)
    assert len(listed_ids(response)) == 50


def test_htmx_search_returns_only_the_results_fragment(owner_client, people):
    people.person(name="Ada Lovelace")

    response = owner_client.get(
        LIST,
        {"q": "ada", "group": "", "audience": ""},
        headers={"HX-Request": "true", "HX-Target": "people-results"},
    )

    html = response.content.decode()
    assert "Ada Lovelace" in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]
    assert response["HX-Push-Url"] == "/people/?q=ada"


def test_empty_workspace_explains_how_to_send_the_first_identify(owner_client, workspace):
    html = owner_client.get(LIST).content.decode()

    assert "No people yet" in html
    assert "curl -u 'YOUR_TOKEN:'" in html
    assert "http://testserver/v1/batch" in html
    assert f'href="{reverse("sources:list")}"' in html


def test_a_search_without_matches_is_not_the_empty_workspace(owner_client, people):
    people.person(name="Ada")

    html = owner_client.get(LIST, {"q": "zzz"}).content.decode()

    assert "No people yet" not in html
    assert "No one matches" in html


def test_people_pages_need_a_login(client, people):
    person = people.person(name="Ada")

    assert client.get(LIST).status_code == 302
    assert client.get(detail(person)).status_code == 302


# --- One person -------------------------------------------------------------------------------


def test_person_page_shows_who_they_are(owner_client, people):
    group = people.group(group_id="initech", name="Initech", plan="enterprise", seats=40)
    person = people.person(
        name="Peter Gibbons",
        email="peter@initech.com",
        phone="+1 555 0100",
        user_id="peter-1",
        anonymous_id="anon-peter",
        group=group,
        traits={"address": {"city": "Austin", "zip": "78701"}, "tags": ["tps", "reports"]},
        audiences={"power_users": True, "churned": False},
    )

    html = owner_client.get(detail(person)).content.decode()

    for text in (
        "Peter Gibbons",
        "peter@initech.com",
        "+1 555 0100",
        "Initech",
        "enterprise",
        "<dt>address.city</dt>",
        "Austin",
        "tps, reports",
        "power_users",
        "churned",
        "peter-1",
        "anon-peter",
        "msg-link-peter-1",
    ):
        assert text in html, text
    assert 'id="missing-email"' not in html


def test_person_without_email_is_marked(owner_client, people):
    person = people.person(name="No Mail", user_id="nm-1")

    html = owner_client.get(detail(person)).content.decode()

    assert 'id="missing-email"' in html


def test_identity_shows_which_kind_of_message_linked_it(owner_client, people):
    # The worker records the linking message's type on the identity; the card reads it there.
    batch_process(
        [
            stored_message(
                people.workspace, "track", user_id="u-1", anonymous_id="anon-1", event="Hi"
            ),
            stored_message(people.workspace, "alias", previous_id="old-1", user_id="u-1", minute=1),
        ]
    )
    person = Person.objects.get(identities__value="u-1")
    soft = Identity.objects.get(value="anon-1")
    alias = Identity.objects.get(value="old-1")

    html = owner_client.get(detail(person)).content.decode()

    assert f"by track message <code>{soft.linked_by_message_id}</code>" in html
    assert f"by alias message <code>{alias.linked_by_message_id}</code>" in html


def test_person_of_another_workspace_is_not_found(owner_client, people, other_workspace):
    # The owner is a member of a workspace (`people` makes it), so a 404 comes from the scope of
    # the lookup, not from the workspace decorator; their own person is found.
    mine = people.person(name="Mine")
    theirs = Person.objects.create(workspace=other_workspace, name="Theirs")

    assert owner_client.get(detail(mine)).status_code == 200
    assert owner_client.get(detail(theirs)).status_code == 404


def test_merged_person_redirects_to_the_survivor_across_a_chain(owner_client, people):
    first = people.person(name="First")
    second = people.person(name="Second")
    survivor = people.person(name="Survivor")
    Person.objects.filter(pk=first.pk).update(merged_into=second)
    Person.objects.filter(pk=second.pk).update(merged_into=survivor)

    response = owner_client.get(detail(first), {"hidden": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"{detail(survivor)}?hidden=1"


def test_survivor_lists_the_people_merged_into_it(owner_client, people):
    survivor = people.person(name="Survivor")
    merged = people.person(name="Merged", email="merged@example.com")
    Person.objects.filter(pk=merged.pk).update(merged_into=survivor, merged_at=people.now)

    html = owner_client.get(detail(survivor)).content.decode()

    assert "Merged in" in html
    assert f"Person #{merged.pk}" in html


def test_person_page_runs_a_fixed_number_of_queries(
    owner, owner_client, people, django_assert_max_num_queries
):
    Membership.objects.filter(user=owner).update(show_hidden_events=True)
    person = people.person(name="Ada", group=people.group(), anonymous_id="anon-ada")
    people.event(person)
    with django_assert_max_num_queries(12) as few:
        owner_client.get(detail(person))
    for i in range(40):
        people.event(person, name=f"Event {i}")
        people.event(person, type="page", name=f"Page {i}")
    for i in range(5):
        merged = people.person(name=f"Merged {i}")
        Person.objects.filter(pk=merged.pk).update(merged_into=person)
    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get(detail(person))


# --- Sender-controlled values -----------------------------------------------------------------

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_sender_values_are_escaped_everywhere(owner_client, people):
    group = people.group(group_id=XSS, name=XSS, note=XSS)
    person = people.person(
        name=XSS,
        email=f"{XSS}@example.com",
        phone=XSS,
        user_id=XSS,
        group=group,
        traits={XSS: XSS, "nested": {XSS: [XSS, {"deep": XSS}]}},
        audiences={XSS: True},
    )
    people.event(person, name=XSS, properties={XSS: XSS})

    timeline = reverse("feed:timeline", args=[person.pk])
    for url in (LIST, detail(person), timeline):
        html = owner_client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_group_menu_keeps_the_selected_group_beyond_its_limit(owner_client, people, monkeypatch):
    monkeypatch.setattr(selectors, "GROUP_CHOICES_LIMIT", 2)
    for name in ("Alpha", "Beta", "Gamma"):
        people.group(group_id=name.lower(), name=name)
    zeta = people.group(group_id="zeta", name="Zeta")

    html = owner_client.get(LIST, {"group": zeta.pk}).content.decode()

    assert f'<option value="{zeta.pk}" selected>Zeta</option>' in html
    assert ">Alpha</option>" in html
    assert ">Gamma</option>" not in html


def test_the_empty_state_curl_line_is_one_ingest_accepts(owner_client, client, token):
    import base64
    import html as html_lib

    page = html_lib.unescape(owner_client.get(LIST).content.decode())
    body = re.search(r"-d '(.*?)'</pre>", page, re.S).group(1)
    url = re.search(r"curl -u 'YOUR_TOKEN:' (\S+) ", page).group(1)
    auth = base64.b64encode(f"{token}:".encode()).decode()

    response = client.post(
        url.removeprefix("http://testserver"),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )

    assert response.status_code == 200, response.content
    assert response.json()["success"] is True


def test_audience_filter_offers_every_audience_of_the_workspace(
    owner_client, people, other_workspace
):
    # Sixty people on the first page of the list, the audience holders beyond it.
    batch_process(
        [
            stored_message(
                people.workspace,
                "identify",
                user_id="u-old",
                traits={"churn_risk": True},
                context=SYNC,
            ),
            stored_message(
                people.workspace,
                "identify",
                user_id="u-2",
                traits={"beta_testers": False},
                context=SYNC,
            ),
            stored_message(
                other_workspace,
                "identify",
                user_id="u-x",
                traits={"their_secret": True},
                context=SYNC,
            ),
        ]
    )
    for i in range(60):
        people.person(name=f"Recent {i}")

    html = owner_client.get(LIST).content.decode()

    datalist = html[html.index('<datalist id="audience-names">') :]
    datalist = datalist[: datalist.index("</datalist>")]
    assert re.findall(r'<option value="([^"]+)">', datalist) == ["beta_testers", "churn_risk"]
    assert selectors.audience_choices(other_workspace) == ["their_secret"]


def test_audience_choices_cost_one_query(people, django_assert_num_queries):
    vip = {"vip": True}
    batch_process(
        [stored_message(people.workspace, "identify", user_id="u", traits=vip, context=SYNC)]
    )
    with django_assert_num_queries(1):
        assert selectors.audience_choices(people.workspace) == ["vip"]
