"""A second workspace's data is invisible: on every URL of the app, and to every selector that
takes a workspace.

The cases are built from the list of every URL name in the root URLconf and every function of the
selector modules that takes a workspace, so a new URL or selector without a case fails here with a
message saying to add one. URLs that serve no workspace's data are listed in EXEMPT with why.

Each case looks as a member of "Acme" at a world where "Elsewhere" has a person, a group, events
(a hidden page view too), a merged person and a source, all named `...Secret`, stored through the
worker's own service. Every case also checks that Acme's own data *is* shown, so that an empty or
broken page cannot pass for an isolated one.
"""

import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts import preferences, team
from accounts import selectors as accounts_selectors
from accounts.models import AuditEntry, Invitation, Membership, Source, Workspace
from accounts.services import source_for_token, workspace_create
from api import selectors as api_selectors
from api.models import ApiKey
from api.services import api_key_create, api_key_for_secret
from core.secrets import secret_digest
from feed import selectors as feed_selectors
from feed.models import Event
from feed.selectors import FeedFilters
from ingest.models import DeadLetter
from ingest.store import batch_process
from people import selectors as people_selectors
from people.models import Identity, Person, Suppression
from people.selectors import PeopleFilters
from segments.models import Segment
from tests.factories import stored_message
from tests.url_names import READS, url_names
from tests.world import World, world_build

pytestmark = pytest.mark.django_db

SECRET = "Secret"  # every name of Elsewhere's data holds it; nothing of Acme's does

# URL names (namespace:name; unnamed patterns by their route) that serve no workspace's data.
EXEMPT_NAMESPACES = {
    "admin": "Django admin: superusers only, across workspaces by design",
    "ingest": "token-authenticated ingest: the token picks the workspace (see "
    "tests/ingest/test_tokens.py and test_a_token_of_another_workspace_stores_into_that_...)",
}
EXEMPT = {
    "login": "the login form: no workspace yet",
    "logout": "ends the session: no workspace data",
    "signup": "creates a new workspace of one's own",
    "route:": "the root redirect to people:list",
    "route:admin/login/": "the admin's login form (throttled): no workspace yet",
    "password_reset": "Django's password reset form: no workspace yet",
    "password_reset_done": "says a reset mail may be on its way: no workspace data",
    "password_reset_confirm": "sets a password from a mailed link: no workspace data",
    "password_reset_complete": "says the password was set: no workspace data",
    "ops:healthz": "process liveness for load balancers: no data at all",
    "ops:readyz": "database and Redis readiness for orchestrators: no workspace data",
    "ops:metrics": "installation-wide figures for the operator's Prometheus, readable only from "
    "allowed networks or with the metrics token (tests/ops/test_metrics.py)",
    "api:schema": "the Read API's OpenAPI schema: the same document for everyone, no data",
    "api:docs": "Swagger UI's page for the schema: no data (its requests are the API's own)",
}


@pytest.fixture
def world(workspace, issued) -> World:
    return world_build(workspace, issued)


def html_of(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.content.decode()


def shows_mine_not_theirs(html: str, *mine: str) -> None:
    assert SECRET not in html, html[html.index(SECRET) - 300 : html.index(SECRET) + 100]
    for text in mine:
        assert text in html, text


HTMX = {"HTTP_HX_REQUEST": "true"}


# --- URL cases: (client logged in as Acme's owner, world) -> None ------------------------------


def case_people_list(client, world: World) -> None:
    html = html_of(client.get(reverse("people:list")))
    # The group menu (group_choices) and the rows.
    shows_mine_not_theirs(html, "Mine Person", "MineGroup")
    for query in ({"q": "theirs"}, {"group": world.their_group.pk}, {"q": "theirs-uid"}):
        shows_mine_not_theirs(html_of(client.get(reverse("people:list"), query)), "No one matches")
    html = html_of(client.get(reverse("people:list"), {"group": world.their_group.pk}))
    assert f'<option value="{world.their_group.pk}"' not in html
    html_of(client.get(reverse("people:list"), {"segment": their_segment(world).pk}), 404)
    # An empty workspace says it has no people yet, whatever other workspaces hold.
    newcomer = get_user_model().objects.create_user(username="new@else.example", password="x" * 12)
    workspace_create(name="Empty", owner=newcomer)
    client.force_login(newcomer)
    shows_mine_not_theirs(html_of(client.get(reverse("people:list"))), "No people yet")


def their_segment(world: World, visibility: str = "team") -> Segment:
    return Segment.objects.create(
        workspace=world.other, name=f"TheirsSegment{SECRET}", visibility=visibility,
        filter={"op": "and", "conditions": []}, created_by=world.stranger,
    )  # fmt: skip


def in_segment(segment: Segment) -> dict:
    return {"field": "segment", "operator": "in", "value": segment.pk}


def case_people_count(client, world: World) -> None:
    theirs = their_segment(world)
    html_of(client.get(reverse("people:count"), {"segment": theirs.pk}), 404)
    html = html_of(client.get(reverse("people:count")))
    assert "1 person" in html, html
    inside = json.dumps({"op": "and", "conditions": [in_segment(theirs)]})
    shows_mine_not_theirs(html_of(client.get(reverse("people:count"), {"filter": inside}), 400),
                          "no segment")  # fmt: skip


def case_people_builder_options(client, world: World) -> None:
    their_segment(world)
    batch_process([stored_message(world.other, "identify", live=True, user_id="theirs-uid",
                                  traits={"theirs_key_Secret": 1})])  # fmt: skip
    batch_process([stored_message(world.workspace, "identify", live=True, user_id="mine-uid",
                                  traits={"mine_key": 1})])  # fmt: skip
    shows_mine_not_theirs(html_of(client.get(reverse("people:builder_options"))),
                          "mine_key", "MineEvent", "New this week")  # fmt: skip


def case_people_segments(client, world: World) -> None:
    their_segment(world)
    shows_mine_not_theirs(html_of(client.get(reverse("people:segments"))), "Slipping away")


def case_people_segment_new(client, world: World) -> None:
    theirs = their_segment(world)
    inside = json.dumps({"op": "and", "conditions": [in_segment(theirs)]})
    url = reverse("people:segment_new")
    html_of(client.post(url, {"name": "Mine", "visibility": "team", "filter": inside}), 400)
    html_of(client.post(url, {"name": "Mine", "visibility": "team", "filter": ""}), 302)
    assert Segment.objects.get(name="Mine").workspace == world.workspace


def case_people_segment_edit(client, world: World) -> None:
    theirs = their_segment(world)
    url = reverse("people:segment_edit", args=[theirs.pk])
    html_of(client.get(url), 404)
    html_of(client.post(url, {"name": "Taken", "visibility": "team", "filter": ""}), 404)
    theirs.refresh_from_db()
    assert theirs.name.endswith(SECRET)


def case_people_segment_delete(client, world: World) -> None:
    theirs = their_segment(world)
    html_of(client.post(reverse("people:segment_delete", args=[theirs.pk])), 404)
    assert Segment.objects.filter(pk=theirs.pk).exists()


def case_people_detail(client, world: World) -> None:
    # The timeline is a fragment the page loads (feed:timeline, its own case).
    shows_mine_not_theirs(html_of(client.get(reverse("people:detail", args=[world.person.pk]))),
                          "Mine Person", "mine-uid")  # fmt: skip
    for person in (world.their_person, world.their_merged):
        html_of(client.get(reverse("people:detail", args=[person.pk])), 404)
        html_of(client.get(reverse("people:detail", args=[person.pk]), **HTMX), 404)


def case_people_hidden_toggle(client, world: World) -> None:
    url = reverse("people:hidden_toggle", args=[world.their_person.pk])
    html_of(client.post(url, {"show": "1"}), 404)
    html_of(client.post(url, {"show": "1"}, **HTMX), 404)
    assert not Membership.objects.get(workspace=world.workspace).show_hidden_events
    mine = reverse("people:hidden_toggle", args=[world.person.pk])
    html_of(client.post(mine, {"show": "1"}), 302)
    assert Membership.objects.get(workspace=world.workspace).show_hidden_events


def case_feed_timeline(client, world: World) -> None:
    for person in (world.their_person, world.their_merged):
        for query in ("?hidden=1", "?hidden=0", ""):
            html_of(client.get(reverse("feed:timeline", args=[person.pk]) + query), 404)
    for query in ({"hidden": "1"}, {"hidden": "0"}, {}):
        html = html_of(client.get(reverse("feed:timeline", args=[world.person.pk]), query))
        shows_mine_not_theirs(html, "MineEvent")


def case_feed_timeline_hidden(client, world: World) -> None:
    url = reverse("feed:timeline-hidden", args=[world.their_person.pk])
    html_of(client.post(url, {"show": "1"}, **HTMX), 404)
    assert not Membership.objects.get(workspace=world.workspace).show_hidden_events
    mine = reverse("feed:timeline-hidden", args=[world.person.pk])
    shows_mine_not_theirs(html_of(client.post(mine, {"show": "1"}, **HTMX)), "MineEvent")


def case_feed_list(client, world: World) -> None:
    for query in ("hidden=1", "hidden=0", "hidden=1&type=track", "hidden=1&type=page"):
        html = html_of(client.get(f"{reverse('feed:list')}?{query}"))
        assert SECRET not in html, query
    # Asked by name (the name is echoed in the filter box): no rows.
    html = html_of(client.get(f"{reverse('feed:list')}?hidden=1&name=TheirsEventSecret"))
    assert 'class="event-name"' not in html
    html = html_of(client.get(f"{reverse('feed:list')}?hidden=1"))
    # The rows and the name suggestions (feed_event_names).
    shows_mine_not_theirs(html, "MineEvent", '<option value="MineEvent">')
    html = html_of(client.get(f"{reverse('feed:list')}?hidden=1", **HTMX))
    shows_mine_not_theirs(html, "MineEvent")


def case_feed_new(client, world: World) -> None:
    html = html_of(client.get(f"{reverse('feed:new')}?hidden=1&after=0&since=0", **HTMX))
    shows_mine_not_theirs(html, "MineEvent")


def case_feed_hidden(client, world: World) -> None:
    html = html_of(client.post(reverse("feed:hidden"), {"show": "1"}, **HTMX))
    shows_mine_not_theirs(html, "MineEvent")
    # Only the viewer's own choice changed.
    assert Membership.objects.get(workspace=world.workspace).show_hidden_events
    client.post(reverse("feed:hidden"), {"show": "0"})
    assert Membership.objects.get(user=world.stranger).show_hidden_events


def case_feed_event(client, world: World) -> None:
    shows_mine_not_theirs(html_of(client.get(reverse("feed:event", args=[world.event.pk]))),
                          "MineEvent")  # fmt: skip
    for event in (world.their_event, world.their_page_event):
        html_of(client.get(reverse("feed:event", args=[event.pk])), 404)
        html_of(client.get(reverse("feed:event", args=[event.pk]), **HTMX), 404)


def case_feed_event_raw(client, world: World) -> None:
    mine = client.get(reverse("feed:event-raw", args=[world.event.pk]))
    assert mine.status_code == 200 and b"MineEvent" in mine.content
    for event in (world.their_event, world.their_page_event):
        html_of(client.get(reverse("feed:event-raw", args=[event.pk])), 404)


def case_people_export(client, world: World) -> None:
    for query in ({}, {"q": "theirs"}, {"q": "TheirsNameSecret"}, {"group": world.their_group.pk}):
        response = client.get(reverse("people:export"), query)
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode()
        assert SECRET not in text, query
        assert ("Mine Person" in text) == (query == {}), query


def case_feed_export(client, world: World) -> None:
    for query in ("hidden=1", "hidden=0", "hidden=1&type=page", "hidden=1&name=TheirsEventSecret"):
        response = client.get(f"{reverse('feed:export')}?{query}")
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode()
        assert SECRET not in text, query
        assert ("MineEvent" in text) == (query in {"hidden=1", "hidden=0"}), query


def case_ops_status(client, world: World) -> None:
    # Installation-wide figures: a workspace owner who is not staff sees none of them.
    html_of(client.get(reverse("ops:status")), 403)


def case_ops_store_again(client, world: World) -> None:
    letter = DeadLetter.objects.create(messages=[{"event": "TheirsEventSecret"}], error="x")
    html_of(client.post(reverse("ops:store-again", args=[letter.pk])), 403)
    assert DeadLetter.objects.filter(pk=letter.pk).exists()


def their_token_still_works(world: World) -> None:
    source = Source.objects.get(pk=world.their_source.source.pk)
    assert source.revoked_at is None
    assert source_for_token(world.their_source.token) == source


def case_sources_list(client, world: World) -> None:
    html = html_of(client.get(reverse("sources:list")))
    shows_mine_not_theirs(html, "Segment")
    assert world.their_source.source.token_prefix not in html


def case_sources_add(client, world: World) -> None:
    html = html_of(client.post(reverse("sources:add"), {"name": "Added", "kind": "segment"}))
    shows_mine_not_theirs(html, "Added", "Segment")
    assert world.their_source.source.token_prefix not in html
    assert Source.objects.get(name="Added").workspace == world.workspace


def case_sources_rotate(client, world: World) -> None:
    html_of(client.post(reverse("sources:rotate", args=[world.their_source.source.pk])), 404)
    their_token_still_works(world)


def case_sources_revoke(client, world: World) -> None:
    html_of(client.post(reverse("sources:revoke", args=[world.their_source.source.pk])), 404)
    their_token_still_works(world)


def case_sources_erasure(client, world: World) -> None:
    url = reverse("sources:erasure", args=[world.their_source.source.pk])
    html_of(client.post(url, {"allowed": "1"}), 404)
    assert not Source.objects.get(pk=world.their_source.source.pk).may_erase


def their_person_intact(world: World) -> None:
    assert Person.objects.filter(pk__in=[world.their_person.pk, world.their_merged.pk]).count() == 2
    assert Event.objects.filter(pk=world.their_event.pk).exists()


def case_people_delete(client, world: World) -> None:
    for person in (world.their_person, world.their_merged):
        url = reverse("people:delete", args=[person.pk])
        html_of(client.get(url), 404)
        html_of(client.post(url, {"suppress": "1"}), 404)
    their_person_intact(world)
    assert not Suppression.objects.exists()
    # Deleting Acme's own person leaves theirs, holding the same kind of data, alone.
    shows_mine_not_theirs(html_of(client.get(reverse("people:delete", args=[world.person.pk]))),
                          "Mine Person", "mine-uid")  # fmt: skip
    html_of(client.post(reverse("people:delete", args=[world.person.pk]), {"suppress": "1"}), 302)
    their_person_intact(world)


def case_people_suppressions(client, world: World) -> None:
    Suppression.objects.create(workspace=world.other, kind="user", value="theirs-Secret-id")
    Suppression.objects.create(workspace=world.workspace, kind="user", value="mine-gone")
    shows_mine_not_theirs(html_of(client.get(reverse("people:suppressions"))), "mine-gone")


def case_people_search_settings(client, world: World) -> None:
    Workspace.objects.filter(pk=world.other.pk).update(search_traits=["theirs-Secret-trait"])
    Workspace.objects.filter(pk=world.workspace.pk).update(search_traits=["mine-trait"])
    shows_mine_not_theirs(html_of(client.get(reverse("people:search_settings"))), "mine-trait")
    # Saving changes this workspace's keys only.
    html_of(client.post(reverse("people:search_settings"), {"search_traits": "title"}), 302)
    assert Workspace.objects.get(pk=world.other.pk).search_traits == ["theirs-Secret-trait"]
    assert Workspace.objects.get(pk=world.workspace.pk).search_traits == ["title"]


def case_people_lift(client, world: World) -> None:
    theirs = Suppression.objects.create(workspace=world.other, kind="user", value="theirs-uid")
    html_of(client.post(reverse("people:lift", args=[theirs.pk])), 404)
    assert Suppression.objects.filter(pk=theirs.pk).exists()
    mine = Suppression.objects.create(workspace=world.workspace, kind="user", value="theirs-uid")
    html_of(client.post(reverse("people:lift", args=[mine.pk])), 302)
    assert Suppression.objects.filter(pk=theirs.pk).exists()


# --- Members, invitations, audit, switcher -------------------------------------------------------


@dataclass
class TheirTeam:
    member: Membership  # Elsewhere's second member
    invitation: Invitation  # pending, to Elsewhere
    token: str


THEIR_MARK = "elsewhere.example"  # every address of Elsewhere's team; none of Acme's


def their_team(world: World) -> TheirTeam:
    """Elsewhere's members, a pending invitation and audit entries (its owner invited and
    promoted someone)."""
    stranger = Membership.objects.get(user=world.stranger, workspace=world.other)
    user = get_user_model().objects.create_user(
        username="TheirsMemberSecret@elsewhere.example",
        email="TheirsMemberSecret@elsewhere.example",
    )
    member = Membership.objects.create(user=user, workspace=world.other, role="member")
    team.member_role_change(actor=stranger, target=member, role="admin")
    issued = team.invitation_create(actor=stranger, email="invitee@elsewhere.example", role="owner")
    return TheirTeam(member=member, invitation=issued.invitation, token=issued.token)


def shows_no_team_of_theirs(html: str, *mine: str) -> None:
    shows_mine_not_theirs(html, *mine)
    assert THEIR_MARK not in html.lower(), html[html.lower().index(THEIR_MARK) - 300 :][:400]


def their_team_unchanged(world: World, theirs: TheirTeam) -> None:
    assert Membership.objects.get(pk=theirs.member.pk).role == "admin"
    assert Membership.objects.filter(workspace=world.other).count() == 2
    invitation = Invitation.objects.get(pk=theirs.invitation.pk)
    assert invitation.revoked_at is None and invitation.token_hash == secret_digest(theirs.token)
    assert AuditEntry.objects.filter(workspace=world.other).count() == 2


INVITATION_MAILED_AGO = timedelta(hours=1)


def my_invitation(client) -> Invitation:
    client.post(reverse("members:invite"), {"email": "mine-invitee@acme.example", "role": "member"})
    return Invitation.objects.get(email="mine-invitee@acme.example")


def case_members_list(client, world: World) -> None:
    their_team(world)
    shows_no_team_of_theirs(html_of(client.get(reverse("members:list"))), "owner@example.com")


def case_members_invite(client, world: World) -> None:
    theirs = their_team(world)
    response = client.post(
        reverse("members:invite"), {"email": "mine-invitee@acme.example", "role": "admin"}
    )
    shows_no_team_of_theirs(html_of(response), "mine-invitee@acme.example", "owner@example.com")
    assert Invitation.objects.get(email="mine-invitee@acme.example").workspace == world.workspace
    their_team_unchanged(world, theirs)


def case_members_invitation_resend(client, world: World) -> None:
    theirs = their_team(world)
    url = reverse("members:invitation-resend", args=[theirs.invitation.pk])
    html_of(client.post(url), 404)
    their_team_unchanged(world, theirs)
    mine = my_invitation(client)
    # Mailed a while ago: a re-send within minutes of the last mail is refused (a 429).
    Invitation.objects.filter(pk=mine.pk).update(sent_at=mine.sent_at - INVITATION_MAILED_AGO)
    html = html_of(client.post(reverse("members:invitation-resend", args=[mine.pk])))
    shows_no_team_of_theirs(html, "mine-invitee@acme.example")


def case_members_invitation_revoke(client, world: World) -> None:
    theirs = their_team(world)
    url = reverse("members:invitation-revoke", args=[theirs.invitation.pk])
    html_of(client.post(url), 404)
    their_team_unchanged(world, theirs)
    mine = my_invitation(client)
    html_of(client.post(reverse("members:invitation-revoke", args=[mine.pk])), 302)
    assert Invitation.objects.get(pk=mine.pk).revoked_at is not None


def case_members_role(client, world: World) -> None:
    theirs = their_team(world)
    for target in (theirs.member, Membership.objects.get(user=world.stranger)):
        url = reverse("members:role", args=[target.pk])
        html_of(client.post(url, {"role": "member"}), 404)
    their_team_unchanged(world, theirs)
    assert Membership.objects.get(user=world.stranger).role == "owner"


def case_members_remove(client, world: World) -> None:
    theirs = their_team(world)
    for target in (theirs.member, Membership.objects.get(user=world.stranger)):
        html_of(client.post(reverse("members:remove", args=[target.pk])), 404)
    their_team_unchanged(world, theirs)


def case_members_leave(client, world: World) -> None:
    theirs = their_team(world)
    me = Membership.objects.get(workspace=world.workspace)
    # Acme's owner is also a member of Elsewhere; a second Acme owner lets them leave Acme.
    Membership.objects.create(user=me.user, workspace=world.other, role="member")
    helper = get_user_model().objects.create_user(username="co-owner@acme.example")
    Membership.objects.create(user=helper, workspace=world.workspace, role="owner")
    html_of(client.post(reverse("members:leave")), 302)
    assert not Membership.objects.filter(pk=me.pk).exists()
    assert Membership.objects.filter(user=me.user, workspace=world.other).exists()
    assert Membership.objects.get(pk=theirs.member.pk).role == "admin"


def case_members_audit(client, world: World) -> None:
    their_team(world)
    my_invitation(client)
    shows_no_team_of_theirs(
        html_of(client.get(reverse("members:audit"))), "mine-invitee@acme.example"
    )


def case_invitation(client, world: World) -> None:
    theirs = their_team(world)
    mine = team.invitation_create(
        actor=Membership.objects.get(workspace=world.workspace),
        email="x@acme.example",
        role="member",
    )
    shows_no_team_of_theirs(html_of(client.get(reverse("invitation", args=[mine.token]))), "Acme")
    # Elsewhere's link names Elsewhere and its inviter (it is an invitation there), nothing else:
    # no member, person or event of Elsewhere.
    html = html_of(client.get(reverse("invitation", args=[theirs.token])))
    shows_mine_not_theirs(html, "Join Elsewhere")
    assert "TheirsMember" not in html and "invitee@elsewhere.example" not in html
    # An unknown token is a 404 whatever exists elsewhere.
    html_of(client.get(reverse("invitation", args=["wsi_" + "x" * 43])), 404)


def case_workspace_switch(client, world: World) -> None:
    their_team(world)
    html_of(client.post(reverse("workspace_switch"), {"workspace": world.other.pk}), 404)
    html = html_of(client.get(reverse("members:list")))
    shows_no_team_of_theirs(html, "owner@example.com")
    assert client.get(reverse("people:list")).context["request"].workspace == world.workspace


# --- Read API: each endpoint as Acme's browser session and with Acme's key ----------------------


def api_readers(client, world: World) -> list:
    """Acme's owner's session, and a client sending only an Acme API key."""
    from django.test import Client

    issued = api_key_create(workspace=world.workspace, name="Mine", created_by=None)
    return [client, Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")]


def json_of(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/json"
    return response.content.decode()


def case_api_people(client, world: World) -> None:
    url = reverse("api:people")
    for reader in api_readers(client, world):
        shows_mine_not_theirs(json_of(reader.get(url)), "Mine Person", "MineGroup")
        for query in ({"q": "theirs"}, {"group": world.their_group.pk}, {"q": "theirs-uid"},
                      {"audience": "x"}, {"missing_email": "1"}):  # fmt: skip
            assert '"results":[]' in json_of(reader.get(url, query)), query


def case_api_person(client, world: World) -> None:
    for reader in api_readers(client, world):
        mine = reader.get(reverse("api:person", args=[world.person.pk]))
        shows_mine_not_theirs(json_of(mine), "Mine Person", "mine-uid", "MineGroup")
        for person in (world.their_person, world.their_merged):
            json_of(reader.get(reverse("api:person", args=[person.pk])), 404)


def case_api_person_events(client, world: World) -> None:
    for reader in api_readers(client, world):
        mine = reader.get(reverse("api:person-events", args=[world.person.pk]), {"hidden": "1"})
        shows_mine_not_theirs(json_of(mine), "MineEvent")
        for person in (world.their_person, world.their_merged):
            url = reverse("api:person-events", args=[person.pk])
            json_of(reader.get(url, {"hidden": "1"}), 404)


def case_api_events(client, world: World) -> None:
    url = reverse("api:events")
    for reader in api_readers(client, world):
        shows_mine_not_theirs(json_of(reader.get(url, {"hidden": "1"})), "MineEvent")
        for query in ({"type": "page", "hidden": "1"}, {"name": "TheirsEventSecret"}):
            assert '"results":[]' in json_of(reader.get(url, query)), query


def case_api_groups(client, world: World) -> None:
    for reader in api_readers(client, world):
        shows_mine_not_theirs(json_of(reader.get(reverse("api:groups"))), "MineGroup")


def case_api_group(client, world: World) -> None:
    for reader in api_readers(client, world):
        mine = reader.get(reverse("api:group", args=[world.group.pk]))
        shows_mine_not_theirs(json_of(mine), "MineGroup", "Mine Person")
        json_of(reader.get(reverse("api:group", args=[world.their_group.pk])), 404)


def case_api_segments(client, world: World) -> None:
    their_segment(world)
    Segment.objects.create(
        workspace=world.workspace, name="MineSegment", visibility="team",
        filter={"op": "and", "conditions": []},
    )  # fmt: skip
    for reader in api_readers(client, world):
        shows_mine_not_theirs(json_of(reader.get(reverse("api:segments"))), "MineSegment")


def case_api_segment(client, world: World) -> None:
    theirs = their_segment(world)
    for reader in api_readers(client, world):
        json_of(reader.get(reverse("api:segment", args=[theirs.pk])), 404)
        json_of(reader.get(reverse("api:people"), {"segment": theirs.pk}), 404)


def their_api_key(world: World) -> tuple[ApiKey, str]:
    issued = api_key_create(workspace=world.other, name="TheirsKeySecret", created_by=None)
    return issued.key, issued.secret


def case_api_keys_list(client, world: World) -> None:
    key, _ = their_api_key(world)
    api_key_create(workspace=world.workspace, name="MineKey", created_by=None)
    html = html_of(client.get(reverse("api-keys:list")))
    shows_mine_not_theirs(html, "MineKey")
    assert key.prefix not in html


def case_api_keys_add(client, world: World) -> None:
    key, _ = their_api_key(world)
    html = html_of(client.post(reverse("api-keys:add"), {"name": "AddedKey"}))
    shows_mine_not_theirs(html, "AddedKey")
    assert key.prefix not in html
    assert ApiKey.objects.get(name="AddedKey").workspace == world.workspace


def case_api_keys_revoke(client, world: World) -> None:
    key, secret = their_api_key(world)
    html_of(client.post(reverse("api-keys:revoke", args=[key.pk])), 404)
    assert api_key_for_secret(secret) == key


URL_CASES: dict[str, Callable] = {
    "members:list": case_members_list,
    "members:invite": case_members_invite,
    "members:invitation-resend": case_members_invitation_resend,
    "members:invitation-revoke": case_members_invitation_revoke,
    "members:role": case_members_role,
    "members:remove": case_members_remove,
    "members:leave": case_members_leave,
    "members:audit": case_members_audit,
    "invitation": case_invitation,
    "workspace_switch": case_workspace_switch,
    "people:list": case_people_list,
    "people:count": case_people_count,
    "people:builder_options": case_people_builder_options,
    "people:segments": case_people_segments,
    "people:segment_new": case_people_segment_new,
    "people:segment_edit": case_people_segment_edit,
    "people:segment_delete": case_people_segment_delete,
    "people:detail": case_people_detail,
    "people:hidden_toggle": case_people_hidden_toggle,
    "people:delete": case_people_delete,
    "people:suppressions": case_people_suppressions,
    "people:lift": case_people_lift,
    "people:search_settings": case_people_search_settings,
    "people:export": case_people_export,
    "feed:export": case_feed_export,
    "feed:list": case_feed_list,
    "feed:new": case_feed_new,
    "feed:hidden": case_feed_hidden,
    "feed:event": case_feed_event,
    "feed:event-raw": case_feed_event_raw,
    "feed:timeline": case_feed_timeline,
    "feed:timeline-hidden": case_feed_timeline_hidden,
    "ops:status": case_ops_status,
    "ops:store-again": case_ops_store_again,
    "sources:list": case_sources_list,
    "sources:add": case_sources_add,
    "sources:rotate": case_sources_rotate,
    "sources:revoke": case_sources_revoke,
    "sources:erasure": case_sources_erasure,
    "api:people": case_api_people,
    "api:person": case_api_person,
    "api:person-events": case_api_person_events,
    "api:events": case_api_events,
    "api:groups": case_api_groups,
    "api:group": case_api_group,
    "api:segments": case_api_segments,
    "api:segment": case_api_segment,
    "api-keys:list": case_api_keys_list,
    "api-keys:add": case_api_keys_add,
    "api-keys:revoke": case_api_keys_revoke,
}


# --- Selector cases: (world) -> None, as Acme ---------------------------------------------------


def people_ids(rows) -> set[int]:
    return {row.pk for row in rows}


def acme_events(w: World) -> set[int]:
    """Acme's events (its identify, group and track), straight from the table."""
    return set(Event.objects.filter(workspace=w.workspace).values_list("pk", flat=True))


def event_ids(events) -> set[int]:
    return {event.pk for event in events}


SELECTOR_CASES: dict[str, Callable[[World], None]] = {}


def selector_case(name: str):
    def register(case: Callable[[World], None]) -> Callable[[World], None]:
        SELECTOR_CASES[name] = case
        return case

    return register


@selector_case("people.selectors.people_search")
def _(w: World) -> None:
    people = Person.objects.for_workspace(w.workspace)
    # "theirsname" also reaches the word search (the start of a word of their name).
    for q in ("theirs", "theirsname", "mine", "person"):
        found = people_selectors.people_search(people, workspace=w.workspace, q=q)
        assert people_ids(found) == ({w.person.pk} if q in {"mine", "person"} else set())


@selector_case("people.selectors.audience_choices")
def _(w: World) -> None:
    # Engage syncs (context.personas): a boolean trait is an audience only from one.
    sync = {"personas": {"computation_class": "audience"}}
    batch_process([stored_message(w.workspace, "identify", live=True, user_id="mine-uid",
                                  traits={"mine_audience": True}, context=sync)])  # fmt: skip
    batch_process([stored_message(w.other, "identify", live=True, user_id="theirs-uid",
                                  traits={"theirs_audience": True}, context=sync)])  # fmt: skip
    assert people_selectors.audience_choices(w.workspace) == ["mine_audience"]


@selector_case("people.selectors.people_filtered")
def _(w: World) -> None:
    found = people_selectors.people_filtered(workspace=w.workspace, filters=PeopleFilters())
    assert people_ids(found) == {w.person.pk}
    theirs = PeopleFilters(group_id=w.their_group.pk)
    assert (
        people_ids(people_selectors.people_filtered(workspace=w.workspace, filters=theirs)) == set()
    )


@selector_case("people.selectors.people_page")
def _(w: World) -> None:
    page = people_selectors.people_page(workspace=w.workspace, filters=PeopleFilters())
    assert people_ids(page.rows) == {w.person.pk}


@selector_case("people.selectors.workspace_has_people")
def _(w: World) -> None:
    assert people_selectors.workspace_has_people(w.workspace)
    assert not people_selectors.workspace_has_people(Workspace.objects.create(name="Empty"))


@selector_case("people.selectors.group_choices")
def _(w: World) -> None:
    # Even when the URL selects Elsewhere's group.
    choices = people_selectors.group_choices(w.workspace, selected=w.their_group.pk)
    assert choices == [(w.group.pk, "MineGroup")]


@selector_case("people.selectors.person_for_page")
def _(w: World) -> None:
    assert people_selectors.person_for_page(w.workspace, w.person.pk) == w.person
    assert people_selectors.person_for_page(w.workspace, w.their_person.pk) is None
    assert people_selectors.person_for_page(w.workspace, w.their_merged.pk) is None


@selector_case("people.selectors.merge_survivor_id")
def _(w: World) -> None:
    # A chain through Elsewhere's merged person is not followed into Elsewhere.
    start = Person(merged_into_id=w.their_merged.pk)
    assert people_selectors.merge_survivor_id(w.workspace, start) == w.their_merged.pk


@selector_case("people.selectors.person_identities")
def _(w: World) -> None:
    assert people_selectors.person_identities(w.workspace, w.their_person) == []
    rows = people_selectors.person_identities(w.workspace, w.person)
    assert [identity.value for identity in rows] == ["mine-uid"]


@selector_case("people.selectors.person_identities_shown")
def _(w: World) -> None:
    assert people_selectors.person_identities_shown(w.workspace, w.their_person).shown == []
    listed = people_selectors.person_identities_shown(w.workspace, w.person)
    assert [identity.value for identity in listed.shown] == ["mine-uid"]
    assert listed.total == 1


@selector_case("people.selectors.person_identity_ids")
def _(w: World) -> None:
    assert people_selectors.person_identity_ids(w.workspace, w.their_person) == []
    mine = people_selectors.person_identity_ids(w.workspace, w.person)
    assert mine == [Identity.objects.get(value="mine-uid").pk]


@selector_case("people.selectors.merged_people")
def _(w: World) -> None:
    assert people_selectors.merged_people(w.workspace, w.their_person) == []


@selector_case("feed.selectors.timeline_page")
def _(w: World) -> None:
    page = feed_selectors.timeline_page(w.workspace, w.person, show_hidden=True)
    assert event_ids(page.rows) == acme_events(w) & set(
        w.person.identities.values_list("events", flat=True)
    )
    assert page.rows
    # Elsewhere's person, asked for from Acme: none of their events.
    page = feed_selectors.timeline_page(w.workspace, w.their_person, show_hidden=True)
    assert page.rows == []


@selector_case("feed.selectors.feed_events")
def _(w: World) -> None:
    events = feed_selectors.feed_events(workspace=w.workspace, filters=FeedFilters(True))
    assert event_ids(events) == acme_events(w)


@selector_case("feed.selectors.feed_page")
def _(w: World) -> None:
    page = feed_selectors.feed_page(workspace=w.workspace, filters=FeedFilters(True))
    assert event_ids(page.events) == acme_events(w)


@selector_case("feed.selectors.feed_updates")
def _(w: World) -> None:
    update = feed_selectors.feed_updates(workspace=w.workspace, filters=FeedFilters(True), since=0)
    assert event_ids(update.events) == acme_events(w)


@selector_case("feed.selectors.feed_watermark")
def _(w: World) -> None:
    assert feed_selectors.feed_watermark(workspace=w.workspace) == max(acme_events(w))


@selector_case("feed.selectors.feed_event_names")
def _(w: World) -> None:
    assert feed_selectors.feed_event_names(workspace=w.workspace) == ["MineEvent"]


@selector_case("feed.selectors.feed_event")
def _(w: World) -> None:
    assert feed_selectors.feed_event(workspace=w.workspace, event_id=w.event.pk) == w.event
    for event in (w.their_event, w.their_page_event):
        assert feed_selectors.feed_event(workspace=w.workspace, event_id=event.pk) is None


@selector_case("accounts.selectors.sources_with_recent_rejections")
def _(w: World) -> None:
    sources = accounts_selectors.sources_with_recent_rejections(w.workspace)
    assert sources and all(s.workspace_id == w.workspace.pk for s in sources)
    assert w.their_source.source.pk not in {s.pk for s in sources}
    rejected = [r for s in sources for r in s.recent_rejections]
    assert all(r.source.workspace_id == w.workspace.pk for r in rejected)


@selector_case("accounts.preferences.hidden_events_preference")
def _(w: World) -> None:
    # Elsewhere's owner chose to see hidden events there; that choice does not count in Acme.
    assert preferences.hidden_events_preference(user=w.stranger, workspace=w.other)
    assert not preferences.hidden_events_preference(user=w.stranger, workspace=w.workspace)


@selector_case("accounts.preferences.hidden_events_preference_set")
def _(w: World) -> None:
    preferences.hidden_events_preference_set(user=w.stranger, workspace=w.workspace, show=False)
    assert Membership.objects.get(user=w.stranger).show_hidden_events


@selector_case("api.selectors.events_page")
def _(w: World) -> None:
    filters = api_selectors.EventFilters(feed=FeedFilters(True))
    page = api_selectors.events_page(
        workspace=w.workspace, filters=filters, after=None, before=None, size=50
    )
    assert event_ids(page.rows) == acme_events(w)


@selector_case("api.selectors.person_events_page")
def _(w: World) -> None:
    filters = api_selectors.EventFilters(feed=FeedFilters(True))
    # Elsewhere's identities handed in with Acme's workspace: none of their events.
    theirs = list(Identity.objects.filter(workspace=w.other).values_list("pk", flat=True))
    page = api_selectors.person_events_page(
        workspace=w.workspace, person=w.their_person, identity_ids=theirs, filters=filters,
        after=None, before=None, size=50,
    )  # fmt: skip
    assert page.rows == []
    mine = list(Identity.objects.filter(workspace=w.workspace).values_list("pk", flat=True))
    page = api_selectors.person_events_page(
        workspace=w.workspace, person=w.person, identity_ids=mine, filters=filters,
        after=None, before=None, size=50,
    )  # fmt: skip
    assert event_ids(page.rows) == acme_events(w)


@selector_case("api.selectors.person_resolved")
def _(w: World) -> None:
    assert api_selectors.person_resolved(w.workspace, w.person.pk) == w.person
    for person in (w.their_person, w.their_merged):
        assert api_selectors.person_resolved(w.workspace, person.pk) is None


@selector_case("api.selectors.groups_page")
def _(w: World) -> None:
    page = api_selectors.groups_page(workspace=w.workspace, after=None, before=None, size=50)
    assert page.rows == [w.group]


@selector_case("api.selectors.group_for_api")
def _(w: World) -> None:
    assert api_selectors.group_for_api(w.workspace, w.group.pk) == w.group
    assert api_selectors.group_for_api(w.workspace, w.their_group.pk) is None


@selector_case("api.selectors.group_members")
def _(w: World) -> None:
    assert people_ids(api_selectors.group_members(w.workspace, w.group).rows) == {w.person.pk}
    assert api_selectors.group_members(w.workspace, w.their_group).rows == []


def _segments_both(w: World) -> tuple[Segment, Segment]:
    """A team segment of everyone in Acme and one in Elsewhere."""
    everyone = {"op": "and", "conditions": []}
    mine = Segment.objects.create(
        workspace=w.workspace, name="MineSegment", visibility="team", filter=everyone
    )
    theirs = their_segment(w)
    return mine, theirs


def _acme_viewer(w: World) -> Membership:
    return Membership.objects.get(workspace=w.workspace, role="owner")


@selector_case("api.selectors.segments_visible")
def _(w: World) -> None:
    mine, theirs = _segments_both(w)
    for viewer in (_acme_viewer(w), None, Membership.objects.get(user=w.stranger)):
        found = set(api_selectors.segments_visible(w.workspace, viewer))
        assert mine in found and theirs not in found


@selector_case("api.selectors.segment_visible")
def _(w: World) -> None:
    mine, theirs = _segments_both(w)
    for viewer in (_acme_viewer(w), None, Membership.objects.get(user=w.stranger)):
        assert api_selectors.segment_visible(w.workspace, viewer, mine.pk) == mine
        assert api_selectors.segment_visible(w.workspace, viewer, theirs.pk) is None


@selector_case("api.selectors.segments_page")
def _(w: World) -> None:
    mine, theirs = _segments_both(w)
    page = api_selectors.segments_page(
        workspace=w.workspace, viewer=_acme_viewer(w), after=None, before=None, size=200
    )
    assert mine in page.rows and theirs not in page.rows


@selector_case("api.selectors.segment_counts")
def _(w: World) -> None:
    mine, _ = _segments_both(w)
    counts = api_selectors.segment_counts(
        workspace=w.workspace, viewer=_acme_viewer(w), segments=[mine], now=timezone.now()
    )
    assert counts[mine.pk].n == Person.objects.filter(workspace=w.workspace).current().count()


def _everyone_query() -> api_selectors.PeopleQuery:
    from segments.filters import EVERYONE, Group

    return api_selectors.PeopleQuery(filters=PeopleFilters(), tree=Group("or", (EVERYONE,)))


@selector_case("api.selectors.people_selected")
def _(w: World) -> None:
    people = api_selectors.people_selected(
        workspace=w.workspace, query=_everyone_query(), viewer=_acme_viewer(w), now=timezone.now()
    )
    assert people_ids(people) == {w.person.pk}


@selector_case("api.selectors.people_selected_page")
def _(w: World) -> None:
    page = api_selectors.people_selected_page(
        workspace=w.workspace, query=_everyone_query(), viewer=_acme_viewer(w), now=timezone.now()
    )
    assert people_ids(page.rows) == {w.person.pk}


SELECTOR_MODULES = (
    people_selectors,
    feed_selectors,
    preferences,
    accounts_selectors,
    api_selectors,
)


# --- Enumeration --------------------------------------------------------------------------------


def workspace_selectors() -> list[str]:
    found = []
    for module in SELECTOR_MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            public = function.__module__ == module.__name__ and not name.startswith("_")
            if public and "workspace" in inspect.signature(function).parameters:
                found.append(f"{module.__name__}.{name}")
    return found


def exemption(name: str) -> str | None:
    if name in EXEMPT:
        return EXEMPT[name]
    return EXEMPT_NAMESPACES.get(name.partition(":")[0]) if ":" in name else None


ALL_URLS = sorted(set(url_names()))
CHECKED = sorted(
    {f"url {n}" for n in ALL_URLS if exemption(n) is None}
    | {f"selector {s}" for s in workspace_selectors()}
)


@pytest.mark.parametrize("subject", CHECKED)
def test_a_second_workspaces_data_is_invisible(subject, owner_client, world):
    kind, _, name = subject.partition(" ")
    if kind == "url":
        case = URL_CASES.get(name)
        if case is None:
            pytest.fail(
                f"The URL name {name!r} has no isolation case. Add one to URL_CASES in "
                f"tests/test_isolation.py (another workspace's data must be invisible there), "
                f"or, if it serves no workspace's data, to EXEMPT with the reason.",
                pytrace=False,
            )
        case(owner_client, world)
    else:
        case = SELECTOR_CASES.get(name)
        if case is None:
            pytest.fail(
                f"The selector {name} takes a workspace but has no isolation case. Add one to "
                f"SELECTOR_CASES in tests/test_isolation.py.",
                pytrace=False,
            )
        case(world)


def test_every_case_and_exemption_names_something_that_exists():
    urls = set(ALL_URLS)
    stale = [n for n in [*URL_CASES, *EXEMPT] if n not in urls]
    stale += [s for s in SELECTOR_CASES if s not in workspace_selectors()]
    assert not stale, f"cases or exemptions for names that no longer exist: {stale}"


# --- Page links: page 2 of every paginated page, and another workspace's links -----------------
# The pages' cursors (`after`, `before`), the Feed's watermark (`upto`) and its poll's ids
# (`after`, `since`) are the sort keys of rows: one of Elsewhere's rows, handed to Acme's list,
# must still start from Acme's workspace. Every URL that reads one (READS, tests/url_names.py)
# has a case here.

PAGE_ROWS = 55  # past a page of the People list and the Feed (50) and of a timeline (30)
PAGE_LINK_PARAMS = {"after", "before", "upto", "since"}


def crowd(world: World) -> None:
    """PAGE_ROWS more people, and as many events of each workspace's own person, in both
    workspaces, Elsewhere's one second after Acme's: each page of one lies among the other's."""
    start = timezone.now() - timedelta(hours=1)
    sides = (
        (world.workspace, "Mine", "mine-uid", 0),
        (world.other, "TheirsSecret", "theirs-uid", 1),
    )
    for workspace, mark, user_id, offset in sides:
        batch = []
        for i in range(PAGE_ROWS):
            at = start + timedelta(seconds=2 * i + offset)
            traits = {"name": f"{mark} P{i}"}
            batch.append(stored_message(workspace, "identify", user_id=f"{mark}-{i}",
                                        traits=traits, timestamp=at))  # fmt: skip
            batch.append(stored_message(workspace, "track", user_id=user_id,
                                        event=f"{mark}Crowd{i}", timestamp=at))  # fmt: skip
        batch_process(batch)


def link(html: str, anchor: str, attribute: str = "href") -> str:
    """The query string of the anchor's link (`id="people-older"`...)."""
    tag = re.search(rf'<[^>]*\sid="{anchor}"[^>]*>', html)
    assert tag, f"no {anchor} link"
    value = re.search(rf'\s{attribute}="([^"]*)"', tag.group(0))
    assert value, f"no {attribute} on {anchor}"
    return unescape(value.group(1)).partition("?")[2]


def page_case_people_list(client, theirs, world: World) -> None:
    url = reverse("people:list")
    their_first = html_of(theirs.get(url))
    assert SECRET in their_first  # the case is about their rows
    their_older = link(their_first, "people-older")
    their_second = html_of(theirs.get(f"{url}?{their_older}"))
    for query in (their_older, link(their_second, "people-newer")):
        shows_mine_not_theirs(html_of(client.get(f"{url}?{query}")), "Mine P")
        shows_mine_not_theirs(html_of(client.get(f"{url}?{query}", **HTMX)), "Mine P")
    # Acme's own second page, and back.
    mine = html_of(client.get(f"{url}?{link(html_of(client.get(url)), 'people-older')}"))
    shows_mine_not_theirs(mine, "Mine P")
    shows_mine_not_theirs(html_of(client.get(f"{url}?{link(mine, 'people-newer')}")), "Mine P")


def page_case_feed_list(client, theirs, world: World) -> None:
    url = f"{reverse('feed:list')}?hidden=1"
    their_first = html_of(theirs.get(url))
    assert SECRET in their_first
    their_older = link(their_first, "feed-older")  # their cursor and their watermark
    shows_mine_not_theirs(html_of(client.get(f"{reverse('feed:list')}?{their_older}")), "MineCrowd")
    html = html_of(client.get(f"{reverse('feed:list')}?{their_older}", **HTMX))
    shows_mine_not_theirs(html, "MineCrowd")
    mine = html_of(client.get(url))
    second = client.get(f"{reverse('feed:list')}?{link(mine, 'feed-older')}", **HTMX)
    shows_mine_not_theirs(html_of(second), "MineCrowd")


def page_case_feed_new(client, theirs, world: World) -> None:
    their_first = html_of(theirs.get(f"{reverse('feed:list')}?hidden=1"))
    their_poll = link(their_first, "feed-poller", "hx-get")
    # Their watermark is above every Acme id stored before it: from 0, all of Acme's rows.
    for query in (their_poll, "hidden=1&after=0&since=0"):
        html = html_of(client.get(f"{reverse('feed:new')}?{query}", **HTMX))
        assert SECRET not in html, query
    html = html_of(client.get(f"{reverse('feed:new')}?hidden=1&after=0&since=0", **HTMX))
    shows_mine_not_theirs(html, "MineCrowd")


def page_case_feed_timeline(client, theirs, world: World) -> None:
    theirs_url = reverse("feed:timeline", args=[world.their_person.pk])
    mine_url = reverse("feed:timeline", args=[world.person.pk])
    their_first = html_of(theirs.get(f"{theirs_url}?hidden=1"))
    assert SECRET in their_first
    their_older = link(their_first, "timeline-older", "hx-get")
    their_second = html_of(theirs.get(f"{theirs_url}?{their_older}"))
    for query in (their_older, link(their_second, "timeline-newer", "hx-get")):
        shows_mine_not_theirs(html_of(client.get(f"{mine_url}?{query}")), "MineCrowd")
    mine = html_of(client.get(f"{mine_url}?hidden=1"))
    second = html_of(client.get(f"{mine_url}?{link(mine, 'timeline-older', 'hx-get')}"))
    shows_mine_not_theirs(second, "MineCrowd")


def page_case_members_audit(client, theirs, world: World) -> None:
    owner = Membership.objects.get(workspace=world.workspace).user
    for i in range(PAGE_ROWS):  # turn about, Acme's last: each page lies among the other's
        turns = [(world.workspace, owner, "Mine target"), (world.other, world.stranger, SECRET)]
        for workspace, actor, mark in turns[::-1] if i % 2 == 0 else turns:
            team.audit_record(workspace=workspace, actor=actor, action="invited",
                              target=f"{mark} {i}")  # fmt: skip
    url = reverse("members:audit")
    for kind in ("", "?kind=team"):
        their_first = html_of(theirs.get(url + kind))
        assert SECRET in their_first
        their_older = link(their_first, "audit-older")
        their_second = html_of(theirs.get(f"{url}?{their_older}"))
        for query in (their_older, link(their_second, "audit-newer")):
            shows_mine_not_theirs(html_of(client.get(f"{url}?{query}")), "Mine target")
        mine = html_of(client.get(f"{url}?{link(html_of(client.get(url + kind)), 'audit-older')}"))
        shows_mine_not_theirs(mine, "Mine target")


PAGE_CASES: dict[str, Callable] = {
    "members:audit": page_case_members_audit,
    "people:list": page_case_people_list,
    "feed:list": page_case_feed_list,
    "feed:new": page_case_feed_new,
    "feed:timeline": page_case_feed_timeline,
}


def paginated_pages() -> list[str]:
    """The pages whose links carry a row's sort key (the API's lists: tests/api/...other_...)."""
    return sorted(
        name
        for name, params in READS.items()
        if PAGE_LINK_PARAMS & set(params) and not name.startswith("api:")
    )


@pytest.mark.parametrize("name", paginated_pages())
def test_another_workspaces_page_links_show_none_of_its_rows(name, owner_client, world):
    case = PAGE_CASES.get(name)
    if case is None:
        pytest.fail(f"{name} reads a page link but has no case in PAGE_CASES", pytrace=False)
    crowd(world)
    from django.test import Client

    theirs = Client()
    theirs.force_login(world.stranger)
    case(owner_client, theirs, world)
