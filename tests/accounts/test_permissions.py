"""Permissions in one place: Membership.can's table, `member_required` on every capability, and
a service's refusal (NotAllowed, a PermissionDenied) answered with a 403 by Django itself."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts import team
from accounts.decorators import WorkspaceRequest, member_required
from accounts.middleware import WorkspaceMiddleware
from accounts.models import Membership, Workspace
from accounts.services import workspace_create

Role = Membership.Role
Capability = Membership.Capability

# Who holds what, as the product rules say (docs/product.md, accounts/team.py).
HOLDERS = {
    Capability.OWNER: {Role.OWNER},
    Capability.MANAGE_MEMBERS: {Role.OWNER, Role.ADMIN},
    Capability.MANAGE_SOURCES: {Role.OWNER, Role.ADMIN},
    Capability.DELETE_PEOPLE: {Role.OWNER, Role.ADMIN},
}


def join(workspace: Workspace, email: str, role: str) -> Membership:
    user = get_user_model().objects.create_user(username=email, email=email, password="x" * 12)
    return Membership.objects.create(user=user, workspace=workspace, role=role)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("capability", list(Capability))
def test_each_role_holds_exactly_its_capabilities(role, capability):
    assert Membership(role=role).can(capability) == (role in HOLDERS[capability])


# One page per capability, asked by the best role that lacks it: a 403 before anything is read.
REFUSED = [
    (Capability.OWNER, Role.ADMIN, "get", "members:audit", {}),
    (
        Capability.MANAGE_MEMBERS,
        Role.MEMBER,
        "post",
        "members:invite",
        {"email": "x@example.com", "role": "member"},
    ),
    (Capability.MANAGE_SOURCES, Role.MEMBER, "post", "sources:add", {"name": "Web"}),
    (Capability.MANAGE_SOURCES, Role.MEMBER, "get", "api-keys:list", {}),
    (Capability.DELETE_PEOPLE, Role.MEMBER, "get", "people:suppressions", {}),
]


@pytest.mark.parametrize(("capability", "role", "method", "url", "data"), REFUSED)
def test_a_lesser_role_gets_403_from_each_capability(
    client, workspace, capability, role, method, url, data
):
    lesser = join(workspace, f"{role}@example.com", role)
    client.force_login(lesser.user)
    response = getattr(client, method)(reverse(url), data)
    assert response.status_code == 403
    # The holders of the capability get the page.
    holder = join(workspace, "holder@example.com", sorted(HOLDERS[capability])[0])
    client.force_login(holder.user)
    assert getattr(client, method)(reverse(url), data).status_code in {200, 302}


def test_a_removed_member_gets_a_404_and_the_anonymous_the_login_page(client, workspace, owner):
    gone = join(workspace, "gone@example.com", Role.MEMBER)
    client.force_login(gone.user)
    assert client.get(reverse("people:list")).status_code == 200
    team.member_remove(actor=Membership.objects.get(user=owner), target=gone)
    assert client.get(reverse("people:list")).status_code == 404
    assert client.post(reverse("members:leave")).status_code == 404
    client.logout()
    response = client.get(reverse("people:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_member_removed_from_one_workspace_works_in_their_other(client, workspace, owner):
    gone = join(workspace, "gone@example.com", Role.ADMIN)
    workspace_create(name="Elsewhere", owner=gone.user)
    client.force_login(gone.user)
    client.post(reverse("workspace_switch"), {"workspace": workspace.pk})
    team.member_remove(actor=Membership.objects.get(user=owner), target=gone)
    response = client.get(reverse("members:list"))
    assert response.status_code == 200
    assert response.context["request"].workspace.name == "Elsewhere"


# --- the decorator itself, through the middleware that puts the membership on the request ------


def call(view, user, method: str = "get") -> HttpResponse:
    request = getattr(RequestFactory(), method)("/somewhere/")
    request.user = user
    request._messages = CookieStorage(request)
    return WorkspaceMiddleware(view)(request)


def test_the_view_gets_the_members_current_membership_and_workspace(workspace, owner):
    seen: list[WorkspaceRequest] = []

    @member_required(Capability.OWNER)
    def view(request: WorkspaceRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse("ok")

    assert call(view, owner).status_code == 200
    assert seen[0].membership == Membership.objects.get(user=owner)
    assert seen[0].workspace == workspace


def test_the_decorator_refuses_a_role_without_the_capability_before_the_view(workspace):
    admin = join(workspace, "admin@example.com", Role.ADMIN)
    called = []

    @member_required(Capability.OWNER)
    def view(request: WorkspaceRequest) -> HttpResponse:
        called.append(request)
        return HttpResponse("ok")

    with pytest.raises(team.NotAllowed) as refused:
        call(view, admin.user)
    assert called == []
    assert isinstance(refused.value, PermissionDenied)


def test_the_decorator_wants_a_membership_and_a_signed_in_user(db):
    nobody = get_user_model().objects.create_user(username="nobody", password="x" * 12)

    @member_required()
    def view(request: WorkspaceRequest) -> HttpResponse:
        return HttpResponse("ok")

    with pytest.raises(Http404):
        call(view, nobody)
    response = call(view, AnonymousUser())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_services_refusal_passes_through_the_decorator_and_django_makes_it_a_403(
    workspace, owner
):
    @member_required(Capability.MANAGE_MEMBERS, refused_to="members:list")
    def view(request: WorkspaceRequest) -> HttpResponse:
        raise team.NotAllowed("Your role cannot give that role.")

    request = RequestFactory().post("/somewhere/")
    with pytest.raises(team.NotAllowed) as refused:
        call(view, owner, "post")
    assert response_for_exception(request, refused.value).status_code == 403


def test_the_last_owners_refusal_is_told_on_the_page_the_view_names(workspace, owner):
    me = Membership.objects.get(user=owner)

    def leave_view(request: WorkspaceRequest) -> HttpResponse:
        team.member_remove(actor=request.membership, target=request.membership)
        return HttpResponse("left")

    leave = member_required(refused_to="members:list")(leave_view)

    request = RequestFactory().post("/somewhere/")
    request.user = owner
    request._messages = CookieStorage(request)
    response = WorkspaceMiddleware(leave)(request)
    assert response.status_code == 302 and response["Location"] == reverse("members:list")
    assert [str(m) for m in get_messages(request)] == [
        "A workspace keeps at least one owner: make someone else owner first."
    ]
    assert Membership.objects.filter(pk=me.pk).exists()

    # Without a page to tell it on, it is a 403 like any other refusal.
    bare = member_required()(leave_view)
    with pytest.raises(team.LastOwner):
        call(bare, owner, "post")


def test_the_header_shows_the_api_keys_link_to_those_who_manage_sources(client, workspace):
    for role in Role:
        member = join(workspace, f"{role}-header@example.com", role)
        client.force_login(member.user)
        html = client.get(reverse("people:list")).content.decode()
        assert (reverse("api-keys:list") in html) == (role in HOLDERS[Capability.MANAGE_SOURCES])
