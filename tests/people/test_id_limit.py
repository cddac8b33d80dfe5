"""The bound on the ids one person gathers (people/id_limit.py): links past it are refused, the
messages are still stored once, and the refusal shows on the person and on the source."""

import pytest
from django.urls import reverse

from accounts.models import Membership, RejectedMessage
from feed.models import Event
from feed.selectors import timeline_page
from ingest.store import batch_process
from people.deletion import person_delete
from people.models import Identity, Person
from people.selectors import IDENTITIES_SHOWN
from tests.factories import ids_of, person_of, stored_message

pytestmark = pytest.mark.django_db
LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(settings) -> None:
    settings.WINDSOR_PERSON_IDS_MAX = LIMIT


@pytest.fixture
def send(workspace, issued):
    """`send(type, minute=..., **ids)`: one message from the source, stored by the worker."""

    def send_one(type: str, **fields) -> dict:
        msg = stored_message(workspace, type, source_id=issued.source.pk, **fields)
        batch_process([msg])
        return msg

    return send_one


def full_person(send, workspace) -> Person:
    """Ada with LIMIT ids: her user id and LIMIT - 1 anonymous ids, linked by soft links."""
    for i in range(LIMIT - 1):
        send("track", user_id="ada", anonymous_id=f"ada-device-{i}", event="Opened", minute=i)
    ada = person_of(workspace, "ada")
    assert len(ids_of(ada)) == LIMIT
    return ada


def test_a_soft_link_past_the_limit_is_refused_and_its_event_kept(send, workspace, issued):
    ada = full_person(send, workspace)

    sent = send("track", user_id="ada", anonymous_id="device-new", event="Clicked", minute=10)

    ada.refresh_from_db()
    assert len(ids_of(ada)) == LIMIT
    assert person_of(workspace, "device-new") != ada
    event = Event.objects.get(message_id=sent["message_id"])
    # The event belongs to the id it was sent with (the userId): on Ada's timeline, once.
    assert event.identity.person_id == ada.pk
    assert "device-new" in "; ".join(event.warnings)
    page = timeline_page(workspace, ada, show_hidden=True)
    assert [e.message_id for e in page.rows].count(sent["message_id"]) == 1
    assert ada.ids_unlinked == 1
    (logged,) = RejectedMessage.objects.filter(source=issued.source)
    assert '"device-new"' in logged.excerpt
    assert f"person #{ada.pk}" in logged.reason
    issued.source.refresh_from_db()
    assert issued.source.rejected_count == 0  # stored, not rejected


def test_the_same_refused_id_is_recorded_once_not_on_every_call(send, workspace, issued):
    ada = full_person(send, workspace)

    for minute in range(10, 15):
        send("track", user_id="ada", anonymous_id="device-new", event="Clicked", minute=minute)

    ada.refresh_from_db()
    assert ada.ids_unlinked == 1
    assert RejectedMessage.objects.filter(source=issued.source).count() == 1
    assert Event.objects.filter(workspace=workspace).count() == LIMIT - 1 + 5


def test_one_batch_cannot_take_a_person_past_the_limit(workspace, issued):
    batch_process(
        [
            stored_message(
                workspace,
                "track",
                source_id=issued.source.pk,
                user_id="ada",
                anonymous_id=f"device-{i}",
                event="Opened",
                minute=i,
            )
            for i in range(10)
        ]
    )

    ada = person_of(workspace, "ada")
    assert len(ids_of(ada)) == LIMIT
    assert ada.ids_unlinked == 10 - (LIMIT - 1)
    assert Event.objects.filter(workspace=workspace).count() == 10
    assert all(e.identity.person_id == ada.pk for e in Event.objects.filter(workspace=workspace))


def test_an_alias_into_a_full_person_is_refused_and_both_stay_apart(send, workspace):
    ada = full_person(send, workspace)
    send("identify", user_id="old-login", traits={"plan": "pro"}, minute=10)

    sent = send("alias", previous_id="old-login", user_id="ada", minute=11)

    ada.refresh_from_db()
    assert len(ids_of(ada)) == LIMIT
    assert ids_of(person_of(workspace, "old-login")) == {"old-login"}
    assert ada.ids_unlinked == 1
    alias = Event.objects.get(message_id=sent["message_id"])
    assert alias.identity.value == "ada"
    assert "previousId 'old-login' not linked" in "; ".join(alias.warnings)


def test_a_merge_of_two_people_past_the_limit_is_refused(send, workspace):
    send("track", user_id="ada", anonymous_id="ada-phone", event="Opened", minute=0)
    send("track", user_id="bob", anonymous_id="bob-phone", event="Opened", minute=1)

    send("alias", previous_id="bob", user_id="ada", minute=2)

    assert ids_of(person_of(workspace, "ada")) == {"ada", "ada-phone"}
    assert ids_of(person_of(workspace, "bob")) == {"bob", "bob-phone"}
    assert Identity.objects.filter(workspace=workspace, aliased=True).count() == 0


def test_links_within_the_limit_still_apply(send, workspace):
    send("track", user_id="ada", anonymous_id="ada-phone", event="Opened", minute=0)
    send("alias", previous_id="old-login", user_id="ada", minute=1)

    ada = person_of(workspace, "ada")
    assert ids_of(ada) == {"ada", "ada-phone", "old-login"}
    assert ada.ids_unlinked == 0


def test_the_person_page_says_the_limit_was_reached(send, owner_client, workspace):
    ada = full_person(send, workspace)
    html = owner_client.get(reverse("people:detail", args=[ada.pk])).content.decode()
    assert 'id="ids-limit"' not in html

    send("track", user_id="ada", anonymous_id="device-new", event="Clicked", minute=10)
    send("track", user_id="ada", anonymous_id="device-newer", event="Clicked", minute=11)

    html = owner_client.get(reverse("people:detail", args=[ada.pk])).content.decode()
    assert f"This person reached the limit of {LIMIT} ids; 2 later ids were not linked" in html


def test_erasing_the_person_erases_the_log_rows_naming_their_ids(send, workspace, issued, owner):
    ada = full_person(send, workspace)
    send("track", user_id="ada", anonymous_id="device-new", event="Clicked", minute=10)
    assert RejectedMessage.objects.filter(source=issued.source).exists()

    actor = Membership.objects.get(user=owner, workspace=workspace)
    person_delete(workspace=workspace, person=ada, actor=actor)

    assert not RejectedMessage.objects.filter(source=issued.source).exists()


def person_with_ids(workspace, n: int) -> Person:
    """A person holding `n` ids, written directly: people from before the limit can hold more."""
    person = Person.objects.create(workspace=workspace, name=f"Many {n}")
    Identity.objects.bulk_create(
        Identity(workspace=workspace, value=f"many-{n}-{i:05}", kind="anonymous", person=person)
        for i in range(n)
    )
    return person


def test_the_person_page_lists_a_bounded_number_of_ids(owner_client, workspace):
    """Its size (and the delete page's) does not grow with the ids: 6,000 ids made a 2 MB page
    that took 2 s to render."""
    sizes = {}
    for n in (200, 400):
        person = person_with_ids(workspace, n)
        pages = [
            owner_client.get(reverse(name, args=[person.pk])).content.decode()
            for name in ("people:detail", "people:delete")
        ]
        assert all(f"and {n - IDENTITIES_SHOWN} more ids" in html for html in pages)
        sizes[n] = [len(html) for html in pages]
    # Only the digits of the counts differ.
    assert all(abs(a - b) < 100 for a, b in zip(sizes[200], sizes[400], strict=True))
