"""The delete confirmation, Delete / Delete and suppress, the suppression list and Lift: every role
on every URL, checked on the server (a member gets 403 on each; admins all but Lift)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import AuditEntry, Membership
from feed.models import Event
from ingest.store import batch_process
from people.models import Person, Suppression
from tests.factories import person_of, stored_message

pytestmark = pytest.mark.django_db

Role = Membership.Role


def login_as(client, workspace, role: str):
    if role == Role.OWNER:
        user = Membership.objects.get(workspace=workspace, role=Role.OWNER).user
    else:
        email = f"{role}@example.com"
        user = get_user_model().objects.create_user(username=email, email=email, password="x" * 12)
        Membership.objects.create(user=user, workspace=workspace, role=role)
    client.force_login(user)
    return client


@pytest.fixture
def ada(workspace) -> Person:
    batch_process(
        [
            stored_message(
                workspace,
                "identify",
                user_id="ada",
                anonymous_id="anon-ada",
                traits={"name": "Ada Lovelace", "email": "ada@x.io"},
            ),
            stored_message(workspace, "track", user_id="ada", event="Paid", minute=1),
        ]
    )
    return person_of(workspace, "ada")


@pytest.fixture
def suppression(workspace) -> Suppression:
    return Suppression.objects.create(workspace=workspace, kind="user", value="gone-user")


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_the_confirmation_names_the_person_and_their_ids(client, workspace, ada, role):
    response = login_as(client, workspace, role).get(reverse("people:delete", args=[ada.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Delete Ada Lovelace?" in html
    assert "anon-ada" in html and "Delete and suppress" in html


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_the_person_page_links_to_delete_for_owners_and_admins(client, workspace, ada, role):
    html = login_as(client, workspace, role).get(reverse("people:detail", args=[ada.pk]))
    assert reverse("people:delete", args=[ada.pk]) in html.content.decode()


def test_members_see_no_delete_link_nor_suppression_list_link(client, workspace, ada):
    login_as(client, workspace, Role.MEMBER)
    detail = client.get(reverse("people:detail", args=[ada.pk])).content.decode()
    assert reverse("people:delete", args=[ada.pk]) not in detail
    assert reverse("people:suppressions") not in client.get(reverse("people:list")).content.decode()


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
@pytest.mark.parametrize("suppress", ["0", "1"])
def test_owners_and_admins_delete_and_suppress(client, workspace, ada, role, suppress):
    login_as(client, workspace, role)
    response = client.post(reverse("people:delete", args=[ada.pk]), {"suppress": suppress})
    assert response.status_code == 302 and response["Location"] == reverse("people:list")
    assert not Person.objects.filter(pk=ada.pk).exists()
    assert not Event.objects.exists()
    assert Suppression.objects.filter(value="ada").exists() == (suppress == "1")
    listed = client.get(reverse("people:list")).content.decode()
    assert f"Person #{ada.pk} deleted" in listed and "Ada Lovelace" not in listed
    action = "person_suppressed" if suppress == "1" else "person_deleted"
    assert AuditEntry.objects.filter(action=action).count() == 1


def test_a_member_gets_403_on_every_state_changing_url(client, workspace, ada, suppression):
    login_as(client, workspace, Role.MEMBER)
    for method, url, data in [
        ("get", reverse("people:delete", args=[ada.pk]), None),
        ("post", reverse("people:delete", args=[ada.pk]), {"suppress": "0"}),
        ("post", reverse("people:delete", args=[ada.pk]), {"suppress": "1"}),
        ("get", reverse("people:suppressions"), None),
        ("post", reverse("people:lift", args=[suppression.pk]), None),
    ]:
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        assert response.status_code == 403, (method, url)
    assert Person.objects.filter(pk=ada.pk).exists()
    assert Suppression.objects.filter(pk=suppression.pk).exists()
    assert not AuditEntry.objects.filter(action__startswith="person_").exists()


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_see_the_suppression_list(client, workspace, suppression, role):
    response = login_as(client, workspace, role).get(reverse("people:suppressions"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "gone-user" in html
    assert (reverse("people:lift", args=[suppression.pk]) in html) == (role == Role.OWNER)


def test_an_admin_cannot_lift(client, workspace, suppression):
    login_as(client, workspace, Role.ADMIN)
    response = client.post(reverse("people:lift", args=[suppression.pk]))
    assert response.status_code == 403
    assert Suppression.objects.filter(pk=suppression.pk).exists()


def test_an_owner_lifts(client, workspace, suppression):
    login_as(client, workspace, Role.OWNER)
    response = client.post(reverse("people:lift", args=[suppression.pk]))
    assert response.status_code == 302
    assert not Suppression.objects.exists()
    assert AuditEntry.objects.get(action="suppression_lifted").target == "user:gone-user"


def test_the_sources_page_shows_suppressed_counts(client, workspace, issued):
    issued.source.__class__.objects.filter(pk=issued.source.pk).update(suppressed_count=7)
    login_as(client, workspace, Role.MEMBER)
    html = client.get(reverse("sources:list")).content.decode()
    assert '<td class="num" data-suppressed>7</td>' in html


def test_a_merged_persons_old_url_has_no_delete_page(client, workspace, ada):
    batch_process([stored_message(workspace, "identify", user_id="ada-old", minute=3)])
    old = person_of(workspace, "ada-old")
    batch_process(
        [stored_message(workspace, "alias", previous_id="ada-old", user_id="ada", minute=4)]
    )
    login_as(client, workspace, Role.OWNER)
    assert client.get(reverse("people:delete", args=[old.pk])).status_code == 404
    assert client.post(reverse("people:delete", args=[old.pk])).status_code == 404
    assert Person.objects.filter(pk=old.pk).exists()
