"""A deletion racing a worker batch that carries the same ids, on PostgreSQL: they take turns
under the workspace lock, so neither fails, no row is orphaned and no person is half deleted."""

import threading

import pytest
from django.db import connection

from accounts.models import Membership
from feed.models import Event
from ingest.store import batch_process
from people.deletion import person_delete
from people.models import Identity, Person
from tests.factories import stored_message

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROUNDS = 8


def consistent(workspace) -> None:
    """No orphan and no half-deleted person: every row hangs together."""
    people = Person.objects.for_workspace(workspace)
    # A current person always holds an id; a merged one points at a person that exists.
    assert not people.current().filter(identities__isnull=True).exists()
    assert not people.filter(merged_into__isnull=False, merged_into__workspace__isnull=True)
    for person in people.current():
        events = Event.objects.for_person(person).count()
        assert person.event_count == events, (person.pk, person.event_count, events)
    # Every event belongs to an identity (the messages here all carry a usable id).
    assert not Event.objects.for_workspace(workspace).filter(identity__isnull=True).exists()


def test_a_delete_racing_a_batch_with_the_same_ids_leaves_no_orphans(workspace, owner):
    actor_id = Membership.objects.get(user=owner, workspace=workspace).pk
    for n in range(ROUNDS):
        batch_process(
            [
                stored_message(
                    workspace, "identify", user_id="ada", anonymous_id=f"anon-{n}", minute=n
                ),
                stored_message(workspace, "track", user_id="ada", event="Before", minute=n),
            ]
        )
        person = Identity.objects.get(workspace=workspace, value="ada").person
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def delete(person_id: int = person.pk) -> None:
            try:
                actor = Membership.objects.select_related("user", "workspace").get(pk=actor_id)
                target = Person.objects.get(pk=person_id)
                barrier.wait()
                person_delete(workspace=actor.workspace, person=target, actor=actor)
                outcomes.append("deleted")
            except Exception as error:  # reported in the assertion, not lost in a thread
                outcomes.append(repr(error))
            finally:
                connection.close()

        def store(n: int = n) -> None:
            try:
                barrier.wait()
                # The same user id, the round's anonymous id and a new one linked to it.
                batch_process(
                    [
                        stored_message(workspace, "track", user_id="ada", event="During", minute=n),
                        stored_message(
                            workspace,
                            "identify",
                            user_id="ada",
                            anonymous_id=f"anon-new-{n}",
                            traits={"email": "ada@x.io"},
                            minute=n,
                        ),
                        stored_message(workspace, "page", anonymous_id=f"anon-{n}", minute=n),
                    ]
                )
                outcomes.append("stored")
            except Exception as error:
                outcomes.append(repr(error))
            finally:
                connection.close()

        threads = [threading.Thread(target=delete), threading.Thread(target=store)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["deleted", "stored"], outcomes
        consistent(workspace)
        left = Identity.objects.filter(workspace=workspace, value="ada").first()
        if left is not None:
            # The batch came second: a fresh person with only what the batch carried.
            assert left.person.event_count <= 3
            assert left.person.pk != person.pk
        # Start the next round from nobody.
        for p in Person.objects.for_workspace(workspace).current():
            person_delete(
                workspace=workspace,
                person=p,
                actor=Membership.objects.get(pk=actor_id),
            )
        assert not Event.objects.for_workspace(workspace).exists()
