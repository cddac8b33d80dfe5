"""Members, roles and invitations: every role on every action, checked on the server."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts import team
from accounts.models import AuditEntry, Invitation, Membership, Workspace

Role = Membership.Role


@dataclass
class Team:
    workspace: Workspace
    owner: Membership
    owner2: Membership
    admin: Membership
    admin2: Membership
    member: Membership
    member2: Membership
    inv_member: Invitation  # pending, role member
    inv_owner: Invitation  # pending, role owner


def join(workspace: Workspace, email: str, role: str) -> Membership:
    user = get_user_model().objects.create_user(username=email, email=email, password="x" * 12)
    return Membership.objects.create(user=user, workspace=workspace, role=role)


@pytest.fixture
def crew(workspace, owner) -> Team:
    owner_m = Membership.objects.get(user=owner, workspace=workspace)
    crew = Team(
        workspace=workspace,
        owner=owner_m,
        owner2=join(workspace, "owner2@example.com", Role.OWNER),
        admin=join(workspace, "admin@example.com", Role.ADMIN),
        admin2=join(workspace, "admin2@example.com", Role.ADMIN),
        member=join(workspace, "member@example.com", Role.MEMBER),
        member2=join(workspace, "member2@example.com", Role.MEMBER),
        inv_member=team.invitation_create(
            actor=owner_m, email="new-member@example.com", role=Role.MEMBER
        ).invitation,
        inv_owner=team.invitation_create(
            actor=owner_m, email="new-owner@example.com", role=Role.OWNER
        ).invitation,
    )
    # Mailed an hour ago: a re-send within minutes of the last mail is refused (a 429).
    Invitation.objects.update(sent_at=timezone.now() - timedelta(hours=1))
    return crew


def as_(client, membership: Membership):
    client.force_login(membership.user)
    return client


def role_of(membership: Membership) -> str | None:
    row = Membership.objects.filter(pk=membership.pk).first()
    return row.role if row else None


# --- (action, target) -> {actor role: expected status}; and what must have changed. -----------

ALLOWED, DENIED = "allowed", "denied"

# actor role -> outcome, for each action on each target.
MATRIX = [
    # action, target, owner, admin, member
    ("invite-member", None, ALLOWED, ALLOWED, DENIED),
    ("invite-admin", None, ALLOWED, ALLOWED, DENIED),
    ("invite-owner", None, ALLOWED, DENIED, DENIED),
    ("resend", "inv_member", ALLOWED, ALLOWED, DENIED),
    ("resend", "inv_owner", ALLOWED, DENIED, DENIED),
    ("revoke", "inv_member", ALLOWED, ALLOWED, DENIED),
    ("revoke", "inv_owner", ALLOWED, DENIED, DENIED),
    ("make-admin", "member2", ALLOWED, ALLOWED, DENIED),
    ("make-owner", "member2", ALLOWED, DENIED, DENIED),
    ("make-member", "admin2", ALLOWED, ALLOWED, DENIED),
    ("make-member", "owner2", ALLOWED, DENIED, DENIED),
    ("remove", "member2", ALLOWED, ALLOWED, DENIED),
    ("remove", "admin2", ALLOWED, ALLOWED, DENIED),
    ("remove", "owner2", ALLOWED, DENIED, DENIED),
    ("audit", None, ALLOWED, DENIED, DENIED),
]
CASES = [
    pytest.param(action, target, actor, outcome, id=f"{actor}-{action}-{target or ''}")
    for action, target, *outcomes in MATRIX
    for actor, outcome in zip(("owner", "admin", "member"), outcomes, strict=True)
]


def perform(client, crew: Team, action: str, target: str | None):
    if action.startswith("invite-"):
        role = action.removeprefix("invite-")
        return client.post(reverse("members:invite"), {"email": "x@example.com", "role": role})
    if action in {"resend", "revoke"}:
        invitation = getattr(crew, target)
        return client.post(reverse(f"members:invitation-{action}", args=[invitation.pk]))
    if action.startswith("make-"):
        membership = getattr(crew, target)
        role = action.removeprefix("make-")
        return client.post(reverse("members:role", args=[membership.pk]), {"role": role})
    if action == "remove":
        return client.post(reverse("members:remove", args=[getattr(crew, target).pk]))
    if action == "audit":
        return client.get(reverse("members:audit"))
    raise AssertionError(action)


def changed(crew: Team, action: str, target: str | None) -> bool:
    if action.startswith("invite-"):
        return Invitation.objects.filter(email="x@example.com").exists()
    if action == "resend":
        before = getattr(crew, target)
        return Invitation.objects.get(pk=before.pk).token_hash != before.token_hash
    if action == "revoke":
        return Invitation.objects.get(pk=getattr(crew, target).pk).revoked_at is not None
    if action.startswith("make-"):
        return role_of(getattr(crew, target)) == action.removeprefix("make-")
    if action == "remove":
        return role_of(getattr(crew, target)) is None
    return False  # reading the audit log changes nothing


@pytest.mark.parametrize(("action", "target", "actor", "outcome"), CASES)
def test_every_role_on_every_action(client, crew, action, target, actor, outcome):
    audit_before = AuditEntry.objects.count()
    response = perform(as_(client, getattr(crew, actor)), crew, action, target)
    if outcome == ALLOWED:
        assert response.status_code in {200, 302}, response.content[:300]
        assert changed(crew, action, target) or action == "audit"
        if action != "audit":
            assert AuditEntry.objects.count() == audit_before + 1
    else:
        assert response.status_code in {403, 404}, (response.status_code, response.content[:300])
        assert not changed(crew, action, target)
        assert AuditEntry.objects.count() == audit_before


def test_a_member_sees_the_list_but_no_controls(client, crew):
    html = as_(client, crew.member).get(reverse("members:list")).content.decode()
    for m in (crew.owner, crew.admin, crew.member2):
        assert m.user.email in html
    assert reverse("members:invite") not in html
    assert reverse("members:remove", args=[crew.member2.pk]) not in html
    assert reverse("members:role", args=[crew.member2.pk]) not in html
    assert reverse("members:invitation-revoke", args=[crew.inv_member.pk]) not in html
    assert reverse("members:audit") not in html


def test_an_admin_gets_no_controls_on_owners(client, crew):
    html = as_(client, crew.admin).get(reverse("members:list")).content.decode()
    assert reverse("members:remove", args=[crew.owner2.pk]) not in html
    assert reverse("members:remove", args=[crew.member2.pk]) in html
    assert reverse("members:invitation-revoke", args=[crew.inv_owner.pk]) not in html
    assert 'value="owner"' not in html


def test_members_are_listed_with_role_joined_and_last_active(client, crew):
    html = as_(client, crew.owner).get(reverse("members:list")).content.decode()
    assert "admin2@example.com" in html and "Admin" in html
    # Logging in stamped the owner; member2 never came.
    assert "just now" in html and "never" in html


def test_the_last_owner_cannot_leave_or_be_demoted(client, workspace, owner):
    me = Membership.objects.get(user=owner)
    as_(client, me)
    client.post(reverse("members:role", args=[me.pk]), {"role": Role.ADMIN})
    client.post(reverse("members:leave"))
    assert role_of(me) == Role.OWNER
    with pytest.raises(team.LastOwner):
        team.member_role_change(actor=me, target=me, role=Role.MEMBER)
    with pytest.raises(team.LastOwner):
        team.member_remove(actor=me, target=me)


def test_with_two_owners_one_may_step_down_and_then_not_the_other(client, crew):
    team.member_role_change(actor=crew.owner, target=crew.owner2, role=Role.ADMIN)
    assert role_of(crew.owner2) == Role.ADMIN
    as_(client, crew.owner)
    response = client.post(reverse("members:leave"), follow=True)
    assert role_of(crew.owner) == Role.OWNER
    assert b"keeps at least one owner" in response.content


def test_a_member_may_leave(client, crew):
    response = as_(client, crew.member).post(reverse("members:leave"))
    assert response.status_code == 302
    assert role_of(crew.member) is None
    assert AuditEntry.objects.filter(action=AuditEntry.Action.MEMBER_LEFT).count() == 1


def test_removing_oneself_goes_through_leave_only(client, crew):
    response = as_(client, crew.admin).post(reverse("members:remove", args=[crew.admin.pk]))
    assert response.status_code == 403
    assert role_of(crew.admin) == Role.ADMIN


def test_the_audit_log_says_who_did_what_to_whom(client, crew):
    as_(client, crew.admin).post(
        reverse("members:role", args=[crew.member2.pk]), {"role": Role.ADMIN}
    )
    client.post(reverse("members:remove", args=[crew.admin2.pk]))
    html = as_(client, crew.owner).get(reverse("members:audit")).content.decode()
    assert "admin@example.com" in html
    assert "member2@example.com: member -&gt; admin" in html
    assert "admin2@example.com (admin)" in html
    assert "new-owner@example.com as owner" in html
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.MEMBER_REMOVED).get()
    assert entry.actor == crew.admin.user and entry.workspace == crew.workspace


def test_an_unknown_role_is_refused_and_changes_nothing(client, crew):
    as_(client, crew.owner)
    client.post(reverse("members:role", args=[crew.member2.pk]), {"role": "superuser"})
    response = client.post(reverse("members:invite"), {"email": "y@example.com", "role": "god"})
    assert response.status_code == 400
    assert role_of(crew.member2) == Role.MEMBER
    assert not Invitation.objects.filter(email="y@example.com").exists()


@pytest.mark.parametrize(
    "url",
    ["members:invite", "members:leave"],
)
def test_state_changing_urls_refuse_get(client, crew, url):
    assert as_(client, crew.owner).get(reverse(url)).status_code == 405


# --- Removing someone reaches what they hold (accounts/holdings.py) ----------------------------


def holdings_of_admin2(crew: Team, stranger_workspace: Workspace):
    """admin2 made a source and an API key here; owner made others; admin2 is also an admin of
    another workspace, with a source and a key there."""
    from accounts.services import source_create
    from api.services import api_key_create

    user = crew.admin2.user
    Membership.objects.create(user=user, workspace=stranger_workspace, role=Role.ADMIN)
    return {
        "source": source_create(workspace=crew.workspace, name="Webshop", created_by=user),
        "key": api_key_create(workspace=crew.workspace, name="Nightly export", created_by=user),
        "owners_source": source_create(
            workspace=crew.workspace, name="Backend", created_by=crew.owner.user
        ),
        "owners_key": api_key_create(
            workspace=crew.workspace, name="Owner's script", created_by=crew.owner.user
        ),
        "their_source": source_create(
            workspace=stranger_workspace, name="Elsewhere shop", created_by=user
        ),
        "their_key": api_key_create(
            workspace=stranger_workspace, name="Elsewhere key", created_by=user
        ),
    }


def test_the_removal_page_lists_what_the_member_made_here_and_nothing_else(
    client, crew, stranger_workspace, django_assert_max_num_queries
):
    held = holdings_of_admin2(crew, stranger_workspace)
    url = reverse("members:remove", args=[crew.admin2.pk])
    as_(client, crew.admin).get(url)  # the login's activity stamp, out of the count
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Webshop" in html and held["source"].source.token_prefix in html
    assert "Nightly export" in html and held["key"].key.prefix in html
    for name in ("Backend", "Owner&#x27;s script", "Elsewhere shop", "Elsewhere key"):
        assert name not in html
    # API keys go with the member (their creator's membership is checked on every request, so
    # there is no keeping one); sources are offered to rotate or revoke, kept unless chosen.
    assert 'id="remove-keys"' in html and 'id="no-invitations-sent"' in html
    team.invitation_create(actor=crew.admin2, email="friend@example.com", role=Role.ADMIN)
    html = client.get(url).content.decode()
    assert 'id="remove-invitations"' in html and "friend@example.com as admin" in html
    assert "new-member@example.com" not in html  # the owner's invitation
    assert f'name="source_{held["source"].source.pk}" value="keep" checked' in html
    # Looking changed nothing.
    assert role_of(crew.admin2) == Role.ADMIN


def test_removing_revokes_their_keys_and_the_sources_ticked_and_records_it(
    client, crew, stranger_workspace
):
    from api.models import ApiKey

    held = holdings_of_admin2(crew, stranger_workspace)
    source = held["source"].source
    response = as_(client, crew.admin).post(
        reverse("members:remove", args=[crew.admin2.pk]), {f"source_{source.pk}": "revoke"}
    )
    assert response.status_code == 302
    assert role_of(crew.admin2) is None
    source.refresh_from_db()
    assert source.revoked_at is not None
    assert ApiKey.objects.get(pk=held["key"].key.pk).revoked_at is not None
    # The workspace's other credentials, and theirs elsewhere, are untouched.
    for name in ("owners_source", "their_source"):
        held[name].source.refresh_from_db()
        assert held[name].source.revoked_at is None
    for name in ("owners_key", "their_key"):
        assert ApiKey.objects.get(pk=held[name].key.pk).revoked_at is None
    actions = set(
        AuditEntry.objects.filter(workspace=crew.workspace).values_list("action", flat=True)
    )
    assert {
        AuditEntry.Action.MEMBER_REMOVED,
        AuditEntry.Action.API_KEY_REVOKED,
        AuditEntry.Action.SOURCE_REVOKED,
    } <= actions
    audit = as_(client, crew.owner).get(reverse("members:audit")).content.decode()
    assert "Nightly export" in audit and "Webshop" in audit


def test_removing_can_rotate_a_source_and_shows_the_new_token_once(
    client, crew, stranger_workspace
):
    from accounts.services import source_for_token

    held = holdings_of_admin2(crew, stranger_workspace)
    old = held["source"]
    response = as_(client, crew.owner).post(
        reverse("members:remove", args=[crew.admin2.pk]), {f"source_{old.source.pk}": "rotate"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert source_for_token(old.token) is None
    [new] = re.findall(r"wsr_[A-Za-z0-9_-]{20,}", response.content.decode())
    assert source_for_token(new).pk == old.source.pk
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SOURCE_ROTATED).count() == 1


def test_removing_with_another_workspaces_source_id_touches_nothing_there(
    client, crew, stranger_workspace
):
    held = holdings_of_admin2(crew, stranger_workspace)
    theirs = held["their_source"].source
    as_(client, crew.owner).post(
        reverse("members:remove", args=[crew.admin2.pk]), {f"source_{theirs.pk}": "revoke"}
    )
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_lesser_role_cannot_see_or_use_the_removal_page(client, crew, stranger_workspace):
    from api.models import ApiKey

    held = holdings_of_admin2(crew, stranger_workspace)
    source = held["source"].source
    url = reverse("members:remove", args=[crew.admin2.pk])
    assert as_(client, crew.member).get(url).status_code == 403
    assert client.post(url, {f"source_{source.pk}": "revoke"}).status_code == 403
    # An admin does not get an owner's page.
    assert (
        as_(client, crew.admin).get(reverse("members:remove", args=[crew.owner2.pk])).status_code
        == 403
    )
    assert role_of(crew.admin2) == Role.ADMIN
    source.refresh_from_db()
    assert source.revoked_at is None
    assert ApiKey.objects.get(pk=held["key"].key.pk).revoked_at is None


def test_another_workspaces_member_has_no_removal_page(client, crew, stranger_workspace):
    theirs = Membership.objects.get(workspace=stranger_workspace)
    assert (
        as_(client, crew.owner).get(reverse("members:remove", args=[theirs.pk])).status_code == 404
    )


def test_leaving_revokes_ones_own_keys_and_pending_invitations(client, crew):
    from api.models import ApiKey
    from api.services import api_key_create

    issued = api_key_create(workspace=crew.workspace, name="Mine", created_by=crew.admin.user)
    sent = team.invitation_create(actor=crew.admin, email="z@example.com", role=Role.MEMBER)
    as_(client, crew.admin).post(reverse("members:leave"))
    assert ApiKey.objects.get(pk=issued.key.pk).revoked_at is not None
    assert Invitation.objects.get(pk=sent.invitation.pk).state == Invitation.State.REVOKED
