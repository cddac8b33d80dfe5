"""API keys: read-only, hashed, revocable, throttled; errors are one JSON shape."""

import base64

import pytest
from django.test import Client

from api.models import ApiKey
from api.services import api_key_for_secret, api_key_revoke
from tests.http import bearer

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/people/", "/api/v1/events/", "/api/v1/groups/"]


def error(response, status: int, code: str) -> str:
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["message"], body
    return body["message"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_no_credentials_is_a_json_401_with_a_challenge(client, url):
    response = client.get(url)
    error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header",
    ["Bearer wak_not-a-key", "Bearer wak_", "Bearer " + "wak_" + "x" * 300, "Bearer wak_é"],
)
def test_an_unknown_key_is_a_json_401(acme, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/people/")
    assert "Unknown or revoked" in error(response, 401, "not_authenticated")


def test_a_source_token_is_not_an_api_key(acme, token):
    response = Client(**bearer(token)).get("/api/v1/people/")
    assert "source tokens" in error(response, 401, "not_authenticated")
    basic = base64.b64encode(f"{token}:".encode()).decode()
    error(Client(HTTP_AUTHORIZATION=f"Basic {basic}").get("/api/v1/people/"), 401,
          "not_authenticated")  # fmt: skip


def test_a_revoked_key_is_refused_at_once(api, key, acme):
    assert api.get("/api/v1/people/").status_code == 200
    api_key_revoke(key=key.key)
    error(api.get("/api/v1/people/"), 401, "not_authenticated")
    assert api_key_for_secret(key.secret) is None


def test_a_key_is_stored_only_as_a_digest_and_a_prefix(key):
    stored = ApiKey.objects.get(pk=key.key.pk)
    assert key.secret.startswith("wak_") and len(key.secret) > 40
    assert key.secret not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.prefix == key.secret[:12]
    assert api_key_for_secret(key.secret) == stored


def test_a_key_with_the_right_prefix_but_another_tail_is_refused(api, key, acme):
    forged = key.secret[:12] + "A" * (len(key.secret) - 12)
    assert forged != key.secret
    assert api_key_for_secret(forged) is None
    error(Client(**bearer(forged)).get("/api/v1/people/"), 401, "not_authenticated")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ENDPOINTS)
def test_the_api_is_read_only_for_keys(api, acme, method, url):
    response = getattr(api, method)(url, data={}, content_type="application/json")
    assert "read-only" in error(response, 403, "forbidden")


@pytest.mark.parametrize("method", ["post", "delete"])
def test_the_api_is_read_only_for_sessions_too(owner_client, acme, method):
    # The test client passes the CSRF check: what refuses is the read-only rule.
    response = getattr(owner_client, method)(f"/api/v1/people/{acme.ada_id}/")
    assert "read-only" in error(response, 403, "forbidden")


def test_a_signed_in_user_with_no_workspace_is_a_403(client, db):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user(username="lonely@example.com"))
    error(client.get("/api/v1/people/"), 403, "forbidden")


def test_each_key_is_throttled_on_its_own_with_a_json_429(api, key, other_key, settings, acme):
    settings.API_RATE_LIMIT = "3/minute"
    for _ in range(3):
        assert api.get("/api/v1/groups/").status_code == 200
    response = api.get("/api/v1/groups/")
    error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert response.json()["retry_after"] == int(response["Retry-After"])
    # Another key (of the same or another workspace) has its own budget.
    assert Client(**bearer(other_key.secret)).get("/api/v1/groups/").status_code == 200


def test_the_throttle_counts_in_the_shared_cache(api, settings, acme):
    """Two processes share Redis in production: a second client (no shared memory of the first
    beyond the cache) is refused too."""
    settings.API_RATE_LIMIT = "2/minute"
    api.get("/api/v1/groups/")
    api.get("/api/v1/groups/")
    again = Client(HTTP_AUTHORIZATION=api.defaults["HTTP_AUTHORIZATION"])
    assert again.get("/api/v1/groups/").status_code == 429


def test_no_rate_limit_configured_means_no_throttle(api, settings, acme):
    settings.API_RATE_LIMIT = ""
    assert all(api.get("/api/v1/groups/").status_code == 200 for _ in range(5))


def test_a_session_is_throttled_per_member(owner_client, settings, acme):
    settings.API_RATE_LIMIT = "2/minute"
    assert owner_client.get("/api/v1/groups/").status_code == 200
    assert owner_client.get("/api/v1/groups/").status_code == 200
    error(owner_client.get("/api/v1/groups/"), 429, "throttled")


# --- A key belongs to the member who made it (accounts/holdings.py) -----------------------------


def admin_with_key(workspace, django_user_model):
    from accounts.models import Membership
    from api.services import api_key_create

    user = django_user_model.objects.create_user(
        username="admin@example.com", email="admin@example.com", password="x" * 12
    )
    membership = Membership.objects.create(user=user, workspace=workspace, role="admin")
    return membership, api_key_create(workspace=workspace, name="Admin's", created_by=user)


def test_a_removed_admins_key_is_revoked_and_refused_at_once(
    acme, workspace, owner, django_user_model
):
    from accounts import team
    from accounts.models import Membership

    admin, issued = admin_with_key(workspace, django_user_model)
    reader = Client(**bearer(issued.secret))
    assert reader.get("/api/v1/people/").status_code == 200
    team.member_remove(actor=Membership.objects.get(user=owner), target=admin)
    error(reader.get("/api/v1/people/"), 401, "not_authenticated")
    assert ApiKey.objects.get(pk=issued.key.pk).revoked_at is not None


def test_a_demoted_admins_key_is_revoked_and_refused_at_once(
    acme, workspace, owner, django_user_model
):
    from accounts import team
    from accounts.models import Membership

    admin, issued = admin_with_key(workspace, django_user_model)
    team.member_role_change(actor=Membership.objects.get(user=owner), target=admin, role="member")
    error(Client(**bearer(issued.secret)).get("/api/v1/people/"), 401, "not_authenticated")
    assert ApiKey.objects.get(pk=issued.key.pk).revoked_at is not None


@pytest.mark.parametrize("how", ["membership-deleted", "demoted-in-place", "account-deleted"])
def test_a_key_is_refused_once_its_creator_may_no_longer_hold_it_even_unrevoked(
    acme, workspace, django_user_model, how
):
    # Belt and braces: whatever changed the membership without the services (the Django admin,
    # a shell), authentication checks the creator again.
    from accounts.models import Membership

    admin, issued = admin_with_key(workspace, django_user_model)
    if how == "membership-deleted":
        Membership.objects.filter(pk=admin.pk).delete()
    elif how == "demoted-in-place":
        Membership.objects.filter(pk=admin.pk).update(role="member")
    else:
        admin.user.delete()
    error(Client(**bearer(issued.secret)).get("/api/v1/people/"), 401, "not_authenticated")
    assert api_key_for_secret(issued.secret) is None


def test_an_owners_and_a_promoted_members_keys_keep_working(
    api, acme, workspace, owner, django_user_model
):
    from accounts import team
    from accounts.models import Membership

    admin, issued = admin_with_key(workspace, django_user_model)
    team.member_role_change(actor=Membership.objects.get(user=owner), target=admin, role="owner")
    assert Client(**bearer(issued.secret)).get("/api/v1/people/").status_code == 200
    assert api.get("/api/v1/people/").status_code == 200


def test_a_key_made_by_an_admin_of_another_workspace_does_not_count_that_role(
    acme, workspace, other, django_user_model
):
    # Admin elsewhere, member here: a key for here made in their name is not theirs to hold.
    from accounts.models import Membership
    from api.services import api_key_create

    user = django_user_model.objects.create_user(username="two@example.com", password="x" * 12)
    Membership.objects.create(user=user, workspace=other, role="admin")
    Membership.objects.create(user=user, workspace=workspace, role="member")
    issued = api_key_create(workspace=workspace, name="Odd", created_by=user)
    error(Client(**bearer(issued.secret)).get("/api/v1/people/"), 401, "not_authenticated")
