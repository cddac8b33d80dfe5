"""Read API test data: a workspace with people, a group, audiences, a merge and events, stored
through the worker's own service, and a key to read it with."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import Workspace
from accounts.services import IssuedToken, workspace_create
from api.services import IssuedKey, api_key_create
from ingest.store import batch_process
from tests.api.clock import at
from tests.factories import stored_message
from tests.http import bearer


@pytest.fixture
def send(workspace: Workspace, issued: IssuedToken) -> Callable[..., dict]:
    def send_one(type: str, *, into: Workspace | None = None, **fields) -> dict:
        target = into or workspace
        source_id = issued.source.pk if target == workspace else None
        fields.setdefault("user_id", "user-1")
        msg = stored_message(target, type, source_id=source_id, live=True, **fields)
        batch_process([msg])
        return msg

    return send_one


@pytest.fixture
def key(workspace: Workspace, owner) -> IssuedKey:
    return api_key_create(workspace=workspace, name="Script", created_by=owner)


@pytest.fixture
def api(key: IssuedKey) -> Client:
    """A client sending the workspace's key, and no session."""
    return Client(**bearer(key.secret))


@pytest.fixture
def other(db) -> Workspace:
    user = get_user_model().objects.create_user(username="other@example.com", password="x" * 12)
    return workspace_create(name="Other", owner=user)


@pytest.fixture
def other_key(other: Workspace) -> IssuedKey:
    return api_key_create(workspace=other, name="Theirs", created_by=None)


@dataclass
class Acme:
    """Ada (grouped, in an audience, with a merged-in visitor), Grace (no email), events."""

    ada_id: int
    grace_id: int
    merged_id: int
    group_id: int


@pytest.fixture
def acme(send, workspace: Workspace) -> Acme:
    from people.models import Group, Identity, Person

    send("identify", user_id="ada", timestamp=at(0),
         traits={"name": "Ada Lovelace", "email": "ada@acme.example", "plan": "pro"})  # fmt: skip
    # An Engage audience sync (context.personas): a boolean trait is an audience only from one.
    send("identify", user_id="ada", timestamp=at(0), traits={"vip_customers": True},
         context={"personas": {"computation_class": "audience",
                               "computation_key": "vip_customers"}})  # fmt: skip
    send("identify", user_id="grace", traits={"name": "Grace Hopper"}, timestamp=at(1))
    send("group", user_id="ada", group_id="acme-co", traits={"name": "Acme Co"}, timestamp=at(2))
    send("identify", user_id="visitor", traits={"referrer": "ad"}, timestamp=at(3))
    send("track", user_id="visitor", event="Viewed Pricing", timestamp=at(4))
    send("alias", previous_id="visitor", user_id="ada", timestamp=at(5))
    send("track", user_id="ada", event="Signed Up", properties={"plan": "pro"}, timestamp=at(6))
    send("page", user_id="ada", name="Home", timestamp=at(7))
    send("track", user_id="grace", event="Signed Up", timestamp=at(8))
    ada = Identity.objects.get(workspace=workspace, value="ada").person
    return Acme(
        ada_id=ada.pk,
        grace_id=Identity.objects.get(workspace=workspace, value="grace").person_id,
        merged_id=Person.objects.get(workspace=workspace, merged_into=ada).pk,
        group_id=Group.objects.get(workspace=workspace).pk,
    )
