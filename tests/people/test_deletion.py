"""Deleting a person (people/deletion.py): everything of theirs goes, nothing of anyone else's."""

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEntry, Membership, Workspace
from accounts.services import workspace_create
from accounts.team import NotAllowed
from feed.models import Event
from feed.rollups import events_counted, rollups_counted
from ingest.store import batch_process
from people.deletion import person_delete, suppression_lift
from people.models import Group, Identity, Person, Suppression
from tests.factories import person_of, stored_message

pytestmark = pytest.mark.django_db

Role = Membership.Role


def member(workspace: Workspace, email: str, role: str) -> Membership:
    user = get_user_model().objects.create_user(username=email, email=email, password="x" * 12)
    return Membership.objects.create(user=user, workspace=workspace, role=role)


@pytest.fixture
def owner_m(workspace, owner) -> Membership:
    return Membership.objects.get(user=owner, workspace=workspace)


def seed_ada(ws: Workspace) -> Person:
    """Ada: a user id, an anonymous id, a group, traits, events, and a person merged into her."""
    batch_process(
        [
            stored_message(ws, "page", anonymous_id="anon-ada", name="Home", minute=1),
            stored_message(
                ws,
                "identify",
                user_id="ada",
                anonymous_id="anon-ada",
                traits={"email": "ada@x.io", "name": "Ada Lovelace", "plan": "pro"},
                minute=2,
            ),
            stored_message(
                ws, "group", user_id="ada", group_id="acme", traits={"name": "Acme"}, minute=3
            ),
            stored_message(ws, "track", user_id="ada", event="Order Completed", minute=4),
            # An earlier identity of hers, merged in by an alias: its person row stays behind.
            stored_message(
                ws, "identify", user_id="ada-old", traits={"email": "old@x.io"}, minute=5
            ),
            stored_message(ws, "track", user_id="ada-old", event="Signed Up", minute=6),
        ]
    )
    batch_process([stored_message(ws, "alias", previous_id="ada-old", user_id="ada", minute=7)])
    batch_process(
        [
            stored_message(ws, "identify", user_id="bob", traits={"email": "bob@x.io"}, minute=8),
            stored_message(ws, "group", user_id="bob", group_id="acme", minute=9),
            stored_message(ws, "track", user_id="bob", event="Order Completed", minute=10),
        ]
    )
    return person_of(ws, "ada")


def test_delete_removes_the_person_their_ids_events_and_people_merged_into_them(workspace, owner_m):
    ada = seed_ada(workspace)
    merged = list(Person.objects.filter(merged_into=ada).values_list("pk", flat=True))
    assert merged, "the alias left a merged person row behind"
    bob = person_of(workspace, "bob")
    bob_events = set(Event.objects.for_person(bob).values_list("pk", flat=True))

    deleted = person_delete(workspace=workspace, person=ada, actor=owner_m)

    assert deleted.people == 1 + len(merged)
    assert sorted(deleted.ids) == [("anonymous", "anon-ada"), ("user", "ada"), ("user", "ada-old")]
    assert deleted.events == 7  # six calls and the alias
    assert not Person.objects.filter(pk__in=[ada.pk, *merged]).exists()
    assert not Identity.objects.filter(value__in=["ada", "anon-ada", "ada-old"]).exists()
    # Every remaining event belongs to bob; none is left on no identity.
    assert set(Event.objects.for_workspace(workspace).values_list("pk", flat=True)) == bob_events
    assert Person.objects.for_workspace(workspace).current().get() == bob
    # The company stays: bob is still in it.
    assert Group.objects.get(group_id="acme").people.get() == bob
    # The charts' counts shrink with the events (feed registers that with the deletion).
    assert rollups_counted(workspace) == events_counted(workspace)
    assert sum(rollups_counted(workspace)["workspace"].values()) == len(bob_events)


def test_a_new_message_with_a_deleted_id_starts_a_fresh_person(workspace, owner_m):
    ada = seed_ada(workspace)
    person_delete(workspace=workspace, person=ada, actor=owner_m)
    batch_process([stored_message(workspace, "track", user_id="ada", event="Came Back", minute=20)])
    fresh = person_of(workspace, "ada")
    assert fresh.pk != ada.pk
    assert (fresh.email, fresh.name, fresh.traits, fresh.group, fresh.event_count) == (
        None,
        None,
        {},
        None,
        1,
    )


@pytest.mark.parametrize("suppress", [False, True], ids=["delete", "delete-and-suppress"])
def test_the_audit_records_the_ids_and_never_the_persons_data(workspace, owner_m, suppress):
    ada = seed_ada(workspace)
    person_delete(workspace=workspace, person=ada, actor=owner_m, suppress=suppress)
    [entry] = AuditEntry.objects.for_workspace(workspace)
    Action = AuditEntry.Action
    assert entry.action == (Action.PERSON_SUPPRESSED if suppress else Action.PERSON_DELETED)
    assert entry.actor == owner_m.user
    assert "user:ada" in entry.target and "anonymous:anon-ada" in entry.target
    assert entry.detail["ids"] == ["anonymous:anon-ada", "user:ada", "user:ada-old"]
    # The product allows the person's ids (kind:value), their row number and counts: no more.
    allowed = {"person_id", "ids", "people", "events", "rejections", "dead_letters"}
    assert set(entry.detail) == allowed
    written = f"{entry.target} {entry.detail} {entry.actor_label}"
    for data in ("Ada Lovelace", "Lovelace", "ada@x.io", "old@x.io", "pro", "Acme", "acme"):
        assert data not in written


def test_suppress_lists_every_id_of_the_person(workspace, owner_m):
    ada = seed_ada(workspace)
    person_delete(workspace=workspace, person=ada, actor=owner_m, suppress=True)
    assert sorted(Suppression.objects.for_workspace(workspace).values_list("kind", "value")) == [
        ("anonymous", "anon-ada"),
        ("user", "ada"),
        ("user", "ada-old"),
    ]
    assert Suppression.objects.first().created_by == owner_m.user


def test_plain_delete_suppresses_nothing(workspace, owner_m):
    person_delete(workspace=workspace, person=seed_ada(workspace), actor=owner_m)
    assert not Suppression.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PERSON_DELETED).count() == 1


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_delete(workspace, role):
    ada = seed_ada(workspace)
    actor = member(workspace, f"another-{role}@example.com", role)
    person_delete(workspace=workspace, person=ada, actor=actor, suppress=True)
    assert not Person.objects.filter(pk=ada.pk).exists()


def test_a_member_cannot_delete(workspace):
    ada = seed_ada(workspace)
    actor = member(workspace, "member@example.com", Role.MEMBER)
    with pytest.raises(NotAllowed):
        person_delete(workspace=workspace, person=ada, actor=actor)
    assert Person.objects.filter(pk=ada.pk).exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.PERSON_DELETED).exists()


def test_a_person_of_another_workspace_is_not_deleted(workspace, owner_m, owner):
    elsewhere = workspace_create(name="Elsewhere", owner=owner)
    theirs = seed_ada(elsewhere)
    events = Event.objects.for_workspace(elsewhere).count()
    deleted = person_delete(workspace=workspace, person=theirs, actor=owner_m)
    assert deleted.people == 0
    assert Person.objects.filter(pk=theirs.pk).exists()
    assert Event.objects.for_workspace(elsewhere).count() == events
    # An owner here is nobody there.
    with pytest.raises(NotAllowed):
        person_delete(workspace=elsewhere, person=theirs, actor=owner_m)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_only_an_owner_lifts_a_suppression(workspace, owner_m, role):
    person_delete(workspace=workspace, person=seed_ada(workspace), actor=owner_m, suppress=True)
    suppression = Suppression.objects.get(value="ada")
    with pytest.raises(NotAllowed):
        suppression_lift(
            workspace=workspace,
            suppression=suppression,
            actor=member(workspace, f"{role}@example.com", role),
        )
    assert Suppression.objects.filter(pk=suppression.pk).exists()
    suppression_lift(workspace=workspace, suppression=suppression, actor=owner_m)
    assert not Suppression.objects.filter(pk=suppression.pk).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.SUPPRESSION_LIFTED)
    assert (entry.actor, entry.target) == (owner_m.user, "user:ada")


def seed_many(ws: Workspace, *, events: int) -> Person:
    batch_process(
        [stored_message(ws, "identify", user_id="big", anonymous_id="anon-big", minute=0)]
        + [
            stored_message(ws, "track", user_id="big", event="Tick", minute=i % 1000)
            for i in range(events)
        ]
    )
    batch_process([stored_message(ws, "identify", user_id="big-old", minute=1)])
    batch_process([stored_message(ws, "alias", previous_id="big-old", user_id="big", minute=2)])
    return person_of(ws, "big")


@pytest.mark.parametrize("events", [3, 300])
def test_deleting_costs_the_same_queries_whatever_the_events(
    workspace, owner_m, events, django_assert_max_num_queries
):
    big = seed_many(workspace, events=events)
    # The lock, 4 reads, 5 deletes and updates, the suppressions, the audit row, the actor and
    # the savepoint pair, feed's rollups (one grouped read, one update per table, and the
    # per-identity rows' cascade), and the sources' logs and ingest's dead letters holding their
    # ids (one DELETE each): 21 for 3 or 300 events (and 100k: see test_deletion_scale.py).
    with django_assert_max_num_queries(21):
        deleted = person_delete(workspace=workspace, person=big, actor=owner_m, suppress=True)
    assert deleted.events == events + 3
    assert not Event.objects.exists()
