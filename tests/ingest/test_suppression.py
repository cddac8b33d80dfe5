"""Suppressed ids (people/suppression.py): their messages are dropped, counted, never stored."""

import pytest

from accounts.models import Membership, Source
from feed.models import Event
from ingest.models import DeadLetter
from people.deletion import person_delete, suppression_lift
from people.models import Identity, Person, Suppression
from people.suppression import messages_unsuppressed
from tests.factories import typed_message
from tests.http import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_m(workspace, owner) -> Membership:
    return Membership.objects.get(user=owner, workspace=workspace)


def send(client, token: str, *messages: dict) -> None:
    response = post(client, "/v1/batch", {"batch": list(messages)}, token=token)
    assert response.status_code == 200, response.content


def identify(mid: str, user_id: str | None = None, anonymous_id: str | None = None) -> dict:
    return {
        "type": "identify",
        "messageId": mid,
        "userId": user_id,
        "anonymousId": anonymous_id,
        "traits": {"email": "ada@x.io"},
    }


@pytest.fixture
def suppressed_ada(client, issued, embedded, workspace, owner_m) -> None:
    send(client, issued.token, identify("m1", "ada", "anon-ada"))
    person = Identity.objects.get(value="ada").person
    person_delete(workspace=workspace, person=person, actor=owner_m, suppress=True)


def counts(issued) -> tuple[int, int, int]:
    source = Source.objects.get(pk=issued.source.pk)
    return source.accepted_count, source.rejected_count, source.suppressed_count


def test_messages_with_a_suppressed_id_are_dropped_and_counted(client, issued, suppressed_ada):
    send(
        client,
        issued.token,
        identify("m2", "ada"),
        {"type": "track", "anonymousId": "anon-ada", "event": "E", "messageId": "m3"},
        {"type": "alias", "previousId": "ada", "userId": "ada-new", "messageId": "m4"},
        identify("m5", "bob"),
    )
    assert list(Event.objects.values_list("message_id", flat=True)) == ["m5"]
    assert set(Identity.objects.values_list("value", flat=True)) == {"bob"}
    assert counts(issued) == (2, 0, 3)  # m1 earlier, m5 now; m2-m4 suppressed
    assert not DeadLetter.objects.exists()


def test_a_suppression_is_per_workspace(client, issued, suppressed_ada, owner):
    from accounts.services import source_create, workspace_create

    elsewhere = source_create(
        workspace=workspace_create(name="Elsewhere", owner=owner), name="S", created_by=owner
    )
    send(client, elsewhere.token, identify("m9", "ada"))
    assert Identity.objects.filter(value="ada", workspace=elsewhere.source.workspace).exists()


def test_a_lifted_suppression_lets_the_id_in_as_a_fresh_person(
    client, issued, suppressed_ada, workspace, owner_m
):
    for suppression in Suppression.objects.for_workspace(workspace):
        suppression_lift(workspace=workspace, suppression=suppression, actor=owner_m)
    send(client, issued.token, identify("m6", "ada"))
    person = Identity.objects.get(value="ada").person
    assert person.event_count == 1 and Person.objects.count() == 1


def test_the_check_is_one_query_per_batch(workspace, django_assert_num_queries):
    Suppression.objects.create(workspace=workspace, kind="user", value="gone")
    batch = [typed_message(workspace, "track", user_id=f"u{i}", event="E") for i in range(200)]
    with django_assert_num_queries(1):
        assert messages_unsuppressed(batch) == batch
