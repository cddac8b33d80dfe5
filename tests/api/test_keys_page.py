"""The API keys page: owners and admins create (shown once, never cached) and revoke keys."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import Membership
from api.models import ApiKey
from tests.http import bearer

pytestmark = pytest.mark.django_db


def test_an_owner_creates_a_key_shown_once_and_never_cached(owner_client, workspace):
    response = owner_client.post("/api-keys/add/", {"name": "Support tool"})
    assert response.status_code == 200
    key = ApiKey.objects.get(workspace=workspace)
    html = response.content.decode()
    secret = html.split('id="key-value" class="token">')[1].split("<")[0]
    assert secret.startswith(key.prefix) and key.key_hash not in html
    assert "no-store" in response["Cache-Control"]
    assert Client(**bearer(secret)).get("/api/v1/people/").status_code == 200
    again = owner_client.get("/api-keys/").content.decode()
    assert secret not in again and f"{key.prefix}…" in again and "Support tool" in again


def test_the_page_says_when_a_key_was_last_used(owner_client, workspace, owner):
    from api.services import api_key_create

    issued = api_key_create(workspace=workspace, name="Cron", created_by=owner)
    assert "never" in owner_client.get("/api-keys/").content.decode()
    Client(**bearer(issued.secret)).get("/api/v1/groups/")
    html = owner_client.get("/api-keys/").content.decode()
    assert "never" not in html.split("Cron")[1].split("</tr>")[0]


def test_an_owner_revokes_a_key(owner_client, workspace, owner):
    from api.services import api_key_create

    issued = api_key_create(workspace=workspace, name="Old", created_by=owner)
    response = owner_client.post(f"/api-keys/{issued.key.pk}/revoke/")
    assert response.status_code == 302
    assert ApiKey.objects.get(pk=issued.key.pk).revoked_at is not None
    assert Client(**bearer(issued.secret)).get("/api/v1/groups/").status_code == 401
    assert "revoked" in owner_client.get("/api-keys/").content.decode()


def test_an_empty_name_is_refused_on_the_page(owner_client, workspace):
    response = owner_client.post("/api-keys/add/", {"name": ""})
    assert response.status_code == 200
    assert not ApiKey.objects.exists()
    assert 'aria-invalid="true"' in response.content.decode()


@pytest.fixture
def member_client(client, workspace):
    user = get_user_model().objects.create_user(username="m@acme.example", password="x" * 12)
    Membership.objects.create(user=user, workspace=workspace, role="member")
    client.force_login(user)
    return client


def test_members_cannot_see_create_or_revoke_keys(member_client, workspace, owner):
    from api.services import api_key_create

    issued = api_key_create(workspace=workspace, name="Owner's", created_by=owner)
    assert member_client.get("/api-keys/").status_code == 403
    assert member_client.post("/api-keys/add/", {"name": "Mine"}).status_code == 403
    assert member_client.post(f"/api-keys/{issued.key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.count() == 1
    assert ApiKey.objects.get().revoked_at is None
    # Their header links to the docs instead of the keys page.
    html = member_client.get("/people/").content.decode()
    assert 'href="/api/v1/docs/" id="api-link"' in html


def test_an_admin_manages_keys(client, workspace):
    user = get_user_model().objects.create_user(username="a@acme.example", password="x" * 12)
    Membership.objects.create(user=user, workspace=workspace, role="admin")
    client.force_login(user)
    assert client.get("/api-keys/").status_code == 200
    assert 'href="/api-keys/" id="api-link"' in client.get("/people/").content.decode()


def test_signed_out_visitors_are_sent_to_login(client, db):
    response = client.get("/api-keys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
