"""Two workspaces' data for the isolation tests: Acme's, the viewer's, and Elsewhere's, all of it
named `...Secret`, stored through the worker's own service."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from accounts.models import Membership, Workspace
from accounts.services import IssuedToken, source_create, workspace_create
from feed.models import Event
from ingest.store import batch_process
from people.models import Group, Identity, Person
from tests.factories import stored_message


@dataclass
class World:
    workspace: Workspace  # Acme, the viewer's
    other: Workspace  # Elsewhere
    stranger: object  # Elsewhere's owner
    person: Person  # Acme's
    group: Group  # Acme's
    event: Event  # Acme's
    their_person: Person
    their_merged: Person  # merged into their_person
    their_group: Group
    their_event: Event
    their_page_event: Event
    their_source: IssuedToken


def store(workspace: Workspace, source_id: int | None, type: str, **fields) -> dict:
    """One message stored now through the worker's service, from "user-1" unless told."""
    fields.setdefault("user_id", "user-1")
    msg = stored_message(workspace, type, source_id=source_id, live=True, **fields)
    batch_process([msg])
    return msg


def event_of(msg: dict) -> Event:
    return Event.objects.get(message_id=msg["message_id"])


def world_build(workspace: Workspace, issued: IssuedToken) -> World:
    """Acme's data and Elsewhere's; the every-URL tests (tests/url_names.py) use it too."""
    stranger = get_user_model().objects.create_user(
        username="stranger@elsewhere.example", password="x" * 12
    )
    other = workspace_create(name="Elsewhere", owner=stranger)
    their_source = source_create(workspace=other, name="TheirsSourceSecret", created_by=stranger)
    Membership.objects.filter(user=stranger).update(show_hidden_events=True)

    src = issued.source.pk
    store(workspace, src, "identify", user_id="mine-uid",
          traits={"name": "Mine Person", "email": "mine@acme.example"})  # fmt: skip
    store(workspace, src, "group", user_id="mine-uid", group_id="mine-g",
          traits={"name": "MineGroup"})  # fmt: skip
    mine = store(workspace, src, "track", user_id="mine-uid", event="MineEvent")

    theirs = their_source.source.pk
    their_traits = {"name": "TheirsNameSecret", "email": "theirs-secret@elsewhere.example"}
    store(other, theirs, "identify", user_id="theirs-uid", traits=their_traits)
    store(other, theirs, "group", user_id="theirs-uid", group_id="theirs-g",
          traits={"name": "TheirsGroupSecret"})  # fmt: skip
    store(other, theirs, "identify", user_id="theirs-old", traits={"name": "TheirsMergedSecret"})
    store(other, theirs, "alias", previous_id="theirs-old", user_id="theirs-uid")
    their_event = store(other, theirs, "track", user_id="theirs-uid", event="TheirsEventSecret")
    their_page = store(other, theirs, "page", user_id="theirs-uid", name="TheirsPageSecret")

    their_person = Identity.objects.get(workspace=other, value="theirs-uid").person
    their_merged = Person.objects.get(workspace=other, merged_into=their_person)
    return World(
        workspace=workspace,
        other=other,
        stranger=stranger,
        person=Identity.objects.get(workspace=workspace, value="mine-uid").person,
        group=Group.objects.get(workspace=workspace),
        event=event_of(mine),
        their_person=their_person,
        their_merged=their_merged,
        their_group=Group.objects.get(workspace=other),
        their_event=event_of(their_event),
        their_page_event=event_of(their_page),
        their_source=their_source,
    )
