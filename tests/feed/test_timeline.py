"""A person's timeline: the feed's fragment that the person page (people:detail) loads."""

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Workspace
from accounts.services import workspace_create
from core.paging import Cursor
from feed import selectors
from feed.models import Event
from people.models import Identity, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_workspace(db, django_user_model) -> Workspace:
    stranger = django_user_model.objects.create_user(username="stranger@example.com", password="x")
    return workspace_create(name="Elsewhere", owner=stranger)


def detail(person: Person) -> str:
    return reverse("people:detail", args=[person.pk])


def timeline(person: Person) -> str:
    return reverse("feed:timeline", args=[person.pk])


def timeline_toggle(person: Person) -> str:
    return reverse("feed:timeline-hidden", args=[person.pk])


def test_person_page_loads_its_timeline_with_htmx(owner_client, people):
    person = people.person(name="Ada")
    people.event(person, name="Signed Up")

    html = owner_client.get(detail(person), {"hidden": "1"}).content.decode()

    assert f'hx-get="{timeline(person)}?hidden=1"' in html
    assert "Signed Up" not in html


def test_timeline_of_another_workspace_is_not_found(owner_client, people, other_workspace):
    theirs = Person.objects.create(workspace=other_workspace, name="Theirs")

    assert owner_client.get(timeline(people.person(name="Mine"))).status_code == 200
    assert owner_client.get(timeline(theirs)).status_code == 404


def test_timeline_is_newest_first_and_hides_page_events_by_default(owner_client, people):
    person = people.person(name="Ada")
    people.event(person, name="Signed Up", minutes_ago=30)
    people.event(person, type="page", name="Pricing", minutes_ago=20)
    people.event(person, name="Order Completed", minutes_ago=10)

    html = owner_client.get(timeline(person)).content.decode()

    assert html.index("Order Completed") < html.index("Signed Up")
    assert "Pricing" not in html
    assert "Show Hidden Events" in html


def toggle(person: Person) -> str:
    return reverse("people:hidden_toggle", args=[person.pk])


def test_show_hidden_events_reveals_pages_and_is_remembered(owner, owner_client, people):
    person = people.person(name="Ada")
    people.event(person, type="page", name="Pricing")
    membership = Membership.objects.get(user=owner)

    response = owner_client.post(toggle(person), {"show": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"{detail(person)}?hidden=1"
    membership.refresh_from_db()
    assert membership.show_hidden_events is True
    assert response["Location"] == f"{detail(person)}?hidden=1"
    assert "Pricing" in owner_client.get(timeline(person), {"hidden": "1"}).content.decode()
    # Remembered: the page without ?hidden= shows them too.
    assert "Pricing" in owner_client.get(timeline(person)).content.decode()

    owner_client.post(toggle(person), {"show": "0"})
    membership.refresh_from_db()
    assert membership.show_hidden_events is False
    assert "Pricing" not in owner_client.get(timeline(person)).content.decode()


def test_hidden_in_the_url_wins_over_the_remembered_choice_without_changing_it(
    owner, owner_client, people
):
    person = people.person(name="Ada")
    people.event(person, type="page", name="Pricing")

    assert "Pricing" in owner_client.get(timeline(person), {"hidden": "1"}).content.decode()
    assert not Membership.objects.get(user=owner).show_hidden_events


def test_htmx_toggle_swaps_the_timeline_and_pushes_the_url(owner_client, people):
    person = people.person(name="Ada")
    people.event(person, type="page", name="Pricing")

    response = owner_client.post(
        timeline_toggle(person), {"show": "1"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="timeline"')
    assert "Pricing" in html
    assert "Hide Hidden Events" in html
    assert response["HX-Push-Url"] == f"{detail(person)}?hidden=1"


def test_toggle_needs_a_post_and_a_person_of_the_workspace(
    owner, owner_client, people, other_workspace
):
    person = people.person(name="Ada")
    theirs = Person.objects.create(workspace=other_workspace, name="Theirs")

    for url in (toggle, timeline_toggle):
        assert owner_client.get(url(person), {"show": "1"}).status_code == 405
        assert owner_client.post(url(theirs), {"show": "1"}).status_code == 404
    assert not Membership.objects.get(user=owner).show_hidden_events


def test_the_feeds_hidden_events_choice_applies_to_timelines(owner, owner_client, people):
    person = people.person(name="Ada")
    people.event(person, type="page", name="Pricing")
    Membership.objects.filter(user=owner).update(show_hidden_events=True)

    assert "Pricing" in owner_client.get(timeline(person)).content.decode()


def test_timeline_includes_events_of_every_identity(owner_client, people):
    person = people.person(user_id="u-1", anonymous_id="a-1", name="Ada")
    people.event(person, name="As User")
    anonymous = person.identities.get(kind="anonymous")
    event = people.event(person, name="As Visitor")
    event.identity = anonymous
    event.save()

    html = owner_client.get(timeline(person)).content.decode()

    assert "As User" in html
    assert "As Visitor" in html


def test_timeline_pages_by_keyset(owner_client, people, monkeypatch):
    monkeypatch.setattr(selectors, "TIMELINE_PAGE_SIZE", 2)
    person = people.person(name="Ada")
    for i in range(5):
        people.event(person, name=f"Step {i}", minutes_ago=i)

    first = owner_client.get(timeline(person)).content.decode()
    assert "Step 0" in first and "Step 1" in first and "Step 2" not in first
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    # The link is the person page's address; htmx reads the same query from the fragment.
    assert older.startswith(detail(person) + "?")
    fragment = re.search(r'rel="next" href="[^"]+" hx-get="([^"]+)"', first).group(1)
    assert fragment.replace("&amp;", "&") == timeline(person) + older.removeprefix(detail(person))
    second = owner_client.get(timeline(person) + older.removeprefix(detail(person)))
    html = second.content.decode()
    assert "Step 2" in html and "Step 3" in html and "Step 1" not in html
    assert "<html" not in html


def test_timeline_pages_interleave_the_events_of_several_identities(people):
    person = people.person(user_id="u-1", anonymous_id="a-1", name="Ada")
    other = people.person(user_id="u-2", name="Someone Else")
    people.event(other, name="Not Ada", minutes_ago=5)
    identities = list(person.identities.order_by("id"))
    made = []
    for minute in range(9):
        event = people.event(person, name=f"Step {minute}", minutes_ago=minute)
        event.identity = identities[minute % 2]
        event.save()
        made.append(event.pk)

    pages, after = [], None
    while True:
        page = selectors.timeline_page(
            people.workspace, person, show_hidden=False, after=after, size=4
        )
        pages.append([e.pk for e in page.rows])
        if not page.older:
            break
        after = Cursor.decode(page.older)
    assert pages == [made[0:4], made[4:8], made[8:9]]

    back = selectors.timeline_page(
        people.workspace,
        person,
        show_hidden=False,
        before=Cursor.decode(page.newer),
        size=4,
    )
    assert [e.pk for e in back.rows] == made[4:8]


def test_rows_load_the_raw_message_only_when_expanded(owner_client, people):
    person = people.person(name="Ada")
    event = people.event(person, name="Order Completed", properties={"revenue": 42})

    html = owner_client.get(timeline(person)).content.decode()

    assert event.message_id not in html
    assert f'hx-get="{reverse("feed:event", args=[event.pk])}"' in html
    assert "revenue" in html  # the Feed's one-line summary
    raw = owner_client.get(reverse("feed:event", args=[event.pk]), headers={"HX-Request": "true"})
    assert f"&quot;messageId&quot;: &quot;{event.message_id}&quot;" in raw.content.decode()


def test_timeline_runs_a_fixed_number_of_queries(
    owner, owner_client, people, django_assert_max_num_queries
):
    Membership.objects.filter(user=owner).update(show_hidden_events=True)
    person = people.person(name="Ada", group=people.group(), anonymous_id="anon-ada")
    people.event(person)
    with django_assert_max_num_queries(10) as few:
        owner_client.get(timeline(person))
    for i in range(40):
        people.event(person, name=f"Event {i}")
        people.event(person, type="page", name=f"Page {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get(timeline(person))


# --- A person with many ids -------------------------------------------------------------------


def person_with_ids(people, n: int) -> Person:
    """A person holding `n` ids with one event each (rows written directly: the timeline reads
    whatever wrote them, and a person past the worker's bound can predate it)."""
    person = people.person(name=f"Many {n}")
    identities = Identity.objects.bulk_create(
        Identity(workspace=people.workspace, value=f"many-{n}-{i}", kind="anonymous", person=person)
        for i in range(n)
    )
    Event.objects.bulk_create(
        Event(
            workspace=people.workspace,
            identity=identity,
            type="track",
            name=f"Step {i}",
            message_id=f"many-{n}-{i}",
            timestamp=people.now - timedelta(minutes=i),
            received_at=people.now,
            raw={"type": "track"},
        )
        for i, identity in enumerate(identities)
    )
    return person


def timeline_cost(client, person: Person) -> tuple[float, int, int]:
    """(fastest of a few loads in seconds, queries, length of the longest statement, with its
    arrays of ids written empty: the ids are data, one parameter, not statement)."""
    times = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(timeline(person))
            times.append(time.perf_counter() - start)
        assert response.status_code == 200
    statements = [re.sub(r"'\{[0-9,]*\}'", "'{}'", q["sql"]) for q in queries.captured_queries]
    return min(times), len(statements), max(len(sql) for sql in statements)


def test_a_timeline_costs_the_same_database_work_for_twice_the_ids(owner_client, people):
    """The timeline's statement does not grow with the person's ids (one UNION branch per id
    planned in quadratic time: 6,000 ids took 17 s), nor does its count or its time."""
    costs = {n: timeline_cost(owner_client, person_with_ids(people, n)) for n in (200, 400, 800)}

    html = owner_client.get(timeline(Person.objects.get(name="Many 800"))).content.decode()
    assert "Step 0" in html and "Step 29" in html and "Step 30" not in html
    assert len({queries for _, queries, _ in costs.values()}) == 1
    if connection.vendor == "postgresql":
        # The ids travel as one array parameter: the same statement for 200 ids and 800.
        assert len({longest for _, _, longest in costs.values()}) == 1
    for n in (200, 400):
        assert costs[2 * n][0] < 3 * costs[n][0], costs
