"""Invitation links: mailed and shown once, single-use, 7 days, revocable, re-sendable; opening
one signs up (also under WINDSOR_SIGNUP=invite) or logs in, and lands in the workspace."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from accounts import team
from accounts.models import AuditEntry, Invitation, Membership
from accounts.views import SIGNED_UP_INVITED
from core.secrets import secret_digest

# The mail is sent by a task, queued when the request's transaction commits: run here.
pytestmark = pytest.mark.usefixtures("mail_in_process")
queued_mail_sent = TestCase.captureOnCommitCallbacks

Role = Membership.Role
LINK = re.compile(r"http://testserver/invite/(wsi_[A-Za-z0-9_-]+)/")


@pytest.fixture
def invite_only(settings):
    settings.WINDSOR_SIGNUP = "invite"


def invite(owner_client, email: str = "ada@example.com", role: str = Role.ADMIN) -> str:
    """Invites through the page; returns the token of the mailed link."""
    with queued_mail_sent(execute=True):
        response = owner_client.post(reverse("members:invite"), {"email": email, "role": role})
    assert response.status_code == 200
    [token] = LINK.findall(mail.outbox[-1].body)
    # The page shows the same link to copy, and no cache may keep it.
    assert f"/invite/{token}/".encode() in response.content
    assert b'data-copy-target="invitation-link"' in response.content
    assert "no-store" in response["Cache-Control"]
    return token


def test_an_invitation_is_mailed_and_only_its_hash_is_kept(owner_client, workspace):
    token = invite(owner_client)
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert "Acme" in message.subject and "as admin" in message.body
    invitation = Invitation.objects.get()
    assert invitation.token_hash == secret_digest(token)
    assert token not in str(Invitation.objects.values().get())
    assert invitation.expires_at - invitation.sent_at == timedelta(days=7)
    # The Members page lists it as pending, without the link.
    html = owner_client.get(reverse("members:list")).content.decode()
    assert "ada@example.com" in html and token not in html


def test_invited_signup_under_invite_mode_lands_in_the_workspace(
    client, owner_client, workspace, invite_only
):
    token = invite(owner_client)
    client.logout()
    page = client.get(reverse("invitation", args=[token]))
    assert page.status_code == 200 and b"Join Acme" in page.content
    response = client.post(
        reverse("signup"), {"email": "Ada@Example.com", "password": "a-long-pass-phrase"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/invite/{token}/"
    ada = get_user_model().objects.get(username="ada@example.com")
    assert Membership.objects.get(user=ada).workspace == workspace
    assert Membership.objects.get(user=ada).role == Role.ADMIN
    # No workspace of her own was made.
    assert Membership.objects.filter(user=ada).count() == 1
    # Log in; the link now takes her straight in.
    client.post(
        reverse("login"),
        {
            "username": "ada@example.com",
            "password": "a-long-pass-phrase",
            "next": f"/invite/{token}/",
        },
    )
    landed = client.get(reverse("invitation", args=[token]), follow=True)
    assert landed.redirect_chain[-1][0] == reverse("people:list")
    assert landed.context["request"].workspace == workspace


def test_invited_signup_for_a_taken_email_changes_nothing_and_says_the_same(
    client, owner_client, workspace, django_user_model, invite_only
):
    taken = django_user_model.objects.create_user(
        username="ada@example.com", email="ada@example.com", password="her-own-password"
    )
    token = invite(owner_client)
    client.logout()
    client.get(reverse("invitation", args=[token]))
    response = client.post(
        reverse("signup"), {"email": "ada@example.com", "password": "another-long-phrase"},
        follow=True,
    )  # fmt: skip
    text = SIGNED_UP_INVITED.format(email="ada@example.com", workspace="Acme")
    assert [str(m) for m in response.context["messages"]] == [text]
    taken.refresh_from_db()
    assert taken.check_password("her-own-password")
    assert not Membership.objects.filter(user=taken).exists()
    assert Invitation.objects.get().state == Invitation.State.PENDING


def test_an_existing_user_accepts_after_login(client, owner_client, workspace, django_user_model):
    token = invite(owner_client, role=Role.MEMBER)
    other = django_user_model.objects.create_user(
        username="ada@example.com", email="ada@example.com", password="her-own-password"
    )
    client.force_login(other)
    page = client.get(reverse("invitation", args=[token]))
    assert b'id="accept-invitation"' in page.content
    # Opening it changes nothing; the Join button (a POST) does.
    assert not Membership.objects.filter(user=other).exists()
    response = client.post(reverse("invitation", args=[token]), follow=True)
    assert response.context["request"].workspace == workspace
    assert Membership.objects.get(user=other).role == Role.MEMBER
    assert AuditEntry.objects.filter(action=AuditEntry.Action.INVITATION_ACCEPTED).count() == 1


def test_a_link_works_once(client, owner_client, workspace, django_user_model):
    token = invite(owner_client)
    first = django_user_model.objects.create_user(username="a@example.com", password="x" * 12)
    second = django_user_model.objects.create_user(username="b@example.com", password="x" * 12)
    client.force_login(first)
    client.post(reverse("invitation", args=[token]))
    client.force_login(second)
    response = client.post(reverse("invitation", args=[token]))
    assert response.status_code == 410
    assert b"already used" in response.content
    assert not Membership.objects.filter(user=second).exists()


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown"])
def test_revoked_expired_and_unknown_links_get_a_clear_page(
    client, owner_client, workspace, state, settings
):
    settings.WINDSOR_SIGNUP = "invite"
    token = invite(owner_client)
    invitation = Invitation.objects.get()
    if state == "revoked":
        owner_client.post(reverse("members:invitation-revoke", args=[invitation.pk]))
        words = b"was revoked"
    elif state == "expired":
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        words = b"expired"
    else:
        token = token[:-2] + "xx"
        words = b"not a valid invitation"
    client.logout()
    response = client.get(reverse("invitation", args=[token]))
    assert response.status_code == (404 if state == "unknown" else 410)
    assert words in response.content
    # Nor can it open signup.
    assert client.get(reverse("signup")).status_code == 403


def test_an_invitation_in_the_session_stops_opening_signup_once_revoked(
    client, owner_client, workspace, invite_only
):
    token = invite(owner_client)
    client.logout()
    client.get(reverse("invitation", args=[token]))
    assert client.get(reverse("signup")).status_code == 200
    owner_client.force_login(workspace.memberships.get().user)
    owner_client.post(reverse("members:invitation-revoke", args=[Invitation.objects.get().pk]))
    client.logout()
    client.get(reverse("invitation", args=[token]))
    response = client.post(
        reverse("signup"), {"email": "z@example.com", "password": "a-long-pass-phrase"}
    )
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="z@example.com").exists()


def test_resend_issues_a_new_link_and_the_old_one_stops(owner_client, workspace):
    old = invite(owner_client)
    invitation = Invitation.objects.get()
    Invitation.objects.update(
        sent_at=timezone.now() - timedelta(days=8), expires_at=timezone.now() - timedelta(days=1)
    )
    with queued_mail_sent(execute=True):
        response = owner_client.post(reverse("members:invitation-resend", args=[invitation.pk]))
    assert response.status_code == 200
    [new] = LINK.findall(mail.outbox[-1].body)
    assert new != old and len(mail.outbox) == 2
    assert team.invitation_for_token(old) is None
    assert team.invitation_for_token(new).state == Invitation.State.PENDING


def test_closed_signup_refuses_even_an_invited_stranger(client, owner_client, workspace, settings):
    settings.WINDSOR_SIGNUP = "closed"
    token = invite(owner_client)
    client.logout()
    page = client.get(reverse("invitation", args=[token]))
    assert b'id="invited-signup"' not in page.content
    assert b"Log in to accept" in page.content
    assert client.get(reverse("signup")).status_code == 403


def test_a_mail_server_failure_still_shows_the_link(owner_client, workspace, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    with queued_mail_sent(execute=True):
        response = owner_client.post(
            reverse("members:invite"), {"email": "ada@example.com", "role": Role.MEMBER}
        )
    assert response.status_code == 200
    assert b"/invite/wsi_" in response.content
    # The mail is sent off the request: the failure is logged (without the link), not shown.
    assert "could not send the mail of accounts.tasks.invitation_mail_send" in caplog.text
    assert "/invite/wsi_" not in caplog.text


def test_the_invitation_token_is_redacted_from_logged_paths():
    from core.log_filters import redact

    token = "wsi_" + "A" * 43
    line = redact(f'"GET /invite/{token}/ HTTP/1.1" 200')
    assert token not in line and "[redacted]" in line


def test_a_used_link_does_not_take_back_in_someone_who_left(
    client, owner_client, workspace, django_user_model
):
    token = invite(owner_client, role=Role.MEMBER)
    ada = django_user_model.objects.create_user(username="ada@example.com", password="x" * 12)
    client.force_login(ada)
    client.post(reverse("invitation", args=[token]))
    client.post(reverse("members:leave"))
    response = client.get(reverse("invitation", args=[token]))
    assert response.status_code == 410 and b"already used" in response.content
    assert not Membership.objects.filter(user=ada).exists()


def test_a_link_accepted_in_two_tabs_at_once_makes_one_membership(
    owner, workspace, django_user_model
):
    # Both requests read the invitation as pending before either accepted it.
    actor = Membership.objects.get(user=owner)
    issued = team.invitation_create(actor=actor, email="ada@example.com", role=Role.MEMBER)
    seen_pending = team.invitation_for_token(issued.token)
    first = django_user_model.objects.create_user(username="a@example.com", password="x" * 12)
    second = django_user_model.objects.create_user(username="b@example.com", password="x" * 12)
    assert team.invitation_accept(invitation=seen_pending, user=first) is not None
    assert team.invitation_accept(invitation=seen_pending, user=second) is None
    assert not Membership.objects.filter(user=second).exists()
    assert Invitation.objects.get().accepted_by == first


# --- An invitation cannot grant more than its sender still has ----------------------------------


def admin_sends(workspace, django_user_model, role: str = Role.ADMIN):
    """An admin of the workspace, and a pending invitation they sent (with its token)."""
    user = django_user_model.objects.create_user(
        username="admin@example.com", email="admin@example.com", password="x" * 12
    )
    admin = Membership.objects.create(user=user, workspace=workspace, role=Role.ADMIN)
    return admin, team.invitation_create(actor=admin, email="mallory@example.com", role=role)


def accept_refused(client, token: str, user) -> None:
    client.force_login(user)
    page = client.get(reverse("invitation", args=[token]))
    assert page.status_code == 410 and b"was revoked" in page.content
    assert b'id="accept-invitation"' not in page.content
    response = client.post(reverse("invitation", args=[token]))
    assert response.status_code == 410
    assert not Membership.objects.filter(user=user).exists()


def test_a_removed_admins_pending_invitation_is_revoked(
    client, owner, workspace, django_user_model, invite_only
):
    admin, issued = admin_sends(workspace, django_user_model)
    team.member_remove(actor=Membership.objects.get(user=owner), target=admin)
    assert Invitation.objects.get().state == Invitation.State.REVOKED
    revoked = AuditEntry.objects.get(action=AuditEntry.Action.INVITATION_REVOKED)
    assert revoked.actor == owner and revoked.detail["invitation_id"] == issued.invitation.pk
    stranger = django_user_model.objects.create_user(username="m@example.com", password="x" * 12)
    accept_refused(client, issued.token, stranger)
    # Nor does the link open signup any more (the way the removed admin came back).
    client.logout()
    client.get(reverse("invitation", args=[issued.token]))
    assert client.get(reverse("signup")).status_code == 403


def test_a_demoted_admins_pending_admin_invitation_is_revoked_and_a_member_one_too(
    client, owner, workspace, django_user_model
):
    admin, as_admin = admin_sends(workspace, django_user_model, role=Role.ADMIN)
    as_member = team.invitation_create(actor=admin, email="bob@example.com", role=Role.MEMBER)
    team.member_role_change(actor=Membership.objects.get(user=owner), target=admin, role="member")
    # A member invites nobody: both are revoked.
    assert {i.state for i in Invitation.objects.all()} == {Invitation.State.REVOKED}
    stranger = django_user_model.objects.create_user(username="m@example.com", password="x" * 12)
    accept_refused(client, as_admin.token, stranger)
    accept_refused(client, as_member.token, stranger)


def test_an_owner_stepping_down_to_admin_loses_only_the_owner_invitations_they_sent(
    owner, workspace, django_user_model
):
    owner2 = Membership.objects.create(
        user=django_user_model.objects.create_user(username="o2@example.com", password="x" * 12),
        workspace=workspace,
        role=Role.OWNER,
    )
    as_owner = team.invitation_create(actor=owner2, email="a@example.com", role=Role.OWNER)
    as_admin = team.invitation_create(actor=owner2, email="b@example.com", role=Role.ADMIN)
    team.member_role_change(actor=Membership.objects.get(user=owner), target=owner2, role="admin")
    assert Invitation.objects.get(pk=as_owner.invitation.pk).state == Invitation.State.REVOKED
    assert Invitation.objects.get(pk=as_admin.invitation.pk).state == Invitation.State.PENDING


@pytest.mark.parametrize("how", ["membership-deleted", "demoted-in-place", "account-deleted"])
def test_acceptance_checks_the_sender_again_even_when_nothing_revoked_the_link(
    client, workspace, django_user_model, how
):
    # Belt and braces: a membership changed outside the services (the Django admin, a shell).
    admin, issued = admin_sends(workspace, django_user_model)
    if how == "membership-deleted":
        Membership.objects.filter(pk=admin.pk).delete()
    elif how == "demoted-in-place":
        Membership.objects.filter(pk=admin.pk).update(role=Role.MEMBER)
    else:
        admin.user.delete()
    stranger = django_user_model.objects.create_user(username="m@example.com", password="x" * 12)
    accept_refused(client, issued.token, stranger)
    assert team.invitation_accept(invitation=issued.invitation, user=stranger) is None


def test_the_removed_admin_cannot_sign_up_again_through_their_own_invitation(
    client, owner, workspace, django_user_model, invite_only
):
    # The finding: removed, they had mailed themselves an admin invitation and rejoined with it.
    admin, issued = admin_sends(workspace, django_user_model)
    Membership.objects.filter(pk=admin.pk).delete()
    client.get(reverse("invitation", args=[issued.token]))
    response = client.post(
        reverse("signup"), {"email": "mallory@example.com", "password": "a-long-pass-phrase"}
    )
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="mallory@example.com").exists()


# --- Expiry holds for a signed-in user too -----------------------------------------------------


def test_an_expired_invitation_is_refused_to_a_signed_in_user(
    client, owner_client, workspace, django_user_model
):
    token = invite(owner_client, role=Role.MEMBER)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    ada = django_user_model.objects.create_user(username="ada@example.com", password="x" * 12)
    client.force_login(ada)
    page = client.get(reverse("invitation", args=[token]))
    assert page.status_code == 410 and b"expired" in page.content
    response = client.post(reverse("invitation", args=[token]))
    assert response.status_code == 410 and b"expired" in response.content
    assert not Membership.objects.filter(user=ada).exists()


def test_an_invitation_that_expires_between_the_page_and_the_join_button_is_refused(
    owner, workspace, django_user_model
):
    # The page read it pending; it expired before Join was pressed.
    actor = Membership.objects.get(user=owner)
    issued = team.invitation_create(actor=actor, email="ada@example.com", role=Role.MEMBER)
    seen_pending = team.invitation_for_token(issued.token)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    ada = django_user_model.objects.create_user(username="ada@example.com", password="x" * 12)
    assert team.invitation_accept(invitation=seen_pending, user=ada) is None
    assert not Membership.objects.filter(user=ada).exists()


# --- How often invitations may be mailed -------------------------------------------------------


def test_new_invitations_per_workspace_are_limited_per_hour(owner_client, workspace, settings):
    settings.THROTTLE_INVITATIONS_PER_WORKSPACE = (3, 60 * 60)
    for n in range(3):
        invite(owner_client, email=f"p{n}@example.com", role=Role.MEMBER)
    response = owner_client.post(
        reverse("members:invite"), {"email": "p3@example.com", "role": Role.MEMBER}
    )
    assert response.status_code == 429
    assert b"Too many invitations" in response.content
    assert int(response["Retry-After"]) > 0
    assert len(mail.outbox) == 3
    assert not Invitation.objects.filter(email="p3@example.com").exists()


def test_the_workspace_limit_is_the_workspaces_own(
    owner_client, workspace, stranger_workspace, settings
):
    settings.THROTTLE_INVITATIONS_PER_WORKSPACE = (1, 60 * 60)
    invite(owner_client, email="p0@example.com", role=Role.MEMBER)
    theirs = Membership.objects.get(workspace=stranger_workspace)
    team.invitation_create(actor=theirs, email="q@example.com", role=Role.MEMBER)


def test_one_address_gets_a_handful_of_invitation_mails_a_day_from_any_workspace(
    owner_client, workspace, stranger_workspace, settings
):
    settings.THROTTLE_INVITATION_MAILS_PER_ADDRESS = (2, 24 * 60 * 60)
    invite(owner_client, email="victim@example.com", role=Role.MEMBER)
    theirs = Membership.objects.get(workspace=stranger_workspace)
    team.invitation_create(actor=theirs, email="Victim@Example.com", role=Role.MEMBER)
    response = owner_client.post(
        reverse("members:invite"), {"email": "victim@example.com", "role": Role.ADMIN}
    )
    assert response.status_code == 429
    assert len(mail.outbox) == 1


def test_a_resend_waits_ten_minutes_after_the_last_mail(owner_client, workspace):
    invite(owner_client, role=Role.MEMBER)
    invitation = Invitation.objects.get()
    response = owner_client.post(reverse("members:invitation-resend", args=[invitation.pk]))
    assert response.status_code == 429
    assert b"was mailed less than 10 minutes ago" in response.content
    assert len(mail.outbox) == 1
    assert Invitation.objects.get().token_hash == invitation.token_hash
    Invitation.objects.update(sent_at=timezone.now() - timedelta(minutes=10, seconds=1))
    with queued_mail_sent(execute=True):
        response = owner_client.post(reverse("members:invitation-resend", args=[invitation.pk]))
    assert response.status_code == 200
    assert len(mail.outbox) == 2


def test_one_invitation_is_resent_a_handful_of_times_a_day(owner_client, workspace, settings):
    settings.THROTTLE_RESENDS_PER_INVITATION = (2, 24 * 60 * 60)
    invite(owner_client, role=Role.MEMBER)
    invitation = Invitation.objects.get()
    statuses = []
    for _ in range(3):
        Invitation.objects.update(sent_at=timezone.now() - timedelta(hours=1))
        url = reverse("members:invitation-resend", args=[invitation.pk])
        with queued_mail_sent(execute=True):
            statuses.append(owner_client.post(url).status_code)
    assert statuses == [200, 200, 429]
    assert len(mail.outbox) == 3


def test_the_invitation_mail_is_plain_text_and_quotes_the_workspace_name_as_data(
    owner_client, workspace
):
    workspace.name = "Acme. URGENT: verify your account at https://evil.example/login now"
    workspace.save()
    invite(owner_client, role=Role.MEMBER)
    [message] = mail.outbox
    assert message.content_subtype == "plain" and not getattr(message, "alternatives", [])
    body = message.body
    # The name is one quoted line of data: no link a mail client would make clickable.
    assert "https://evil.example" not in body and "evil.example" not in body
    assert "evil.example" not in message.subject
    assert "“Acme. URGENT: verify your account at https[:]//evil[.]example/login now”" in body
    # The only link in the mail is the invitation's.
    assert re.findall(r"https?://\S+", body) == [LINK.search(body).group(0)]
