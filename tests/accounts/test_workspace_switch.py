"""Several workspaces per login: the header switches, and every page follows the current one."""

import pytest
from django.urls import reverse

from accounts.models import Membership
from accounts.services import source_create, workspace_create


@pytest.fixture
def second(owner, workspace):
    other = workspace_create(name="Beta Corp", owner=owner)
    source_create(workspace=other, name="BetaSource", created_by=owner)
    return other


def test_one_workspace_shows_no_switcher(owner_client, workspace):
    html = owner_client.get(reverse("people:list")).content.decode()
    assert 'id="workspace-switcher"' not in html
    assert "Acme" in html


def test_switching_changes_every_page_to_the_chosen_workspace(owner_client, workspace, second):
    html = owner_client.get(reverse("sources:list")).content.decode()
    assert 'id="workspace-switcher"' in html and "BetaSource" not in html
    response = owner_client.post(reverse("workspace_switch"), {"workspace": second.pk})
    assert response.status_code == 302 and response["Location"] == reverse("people:list")
    html = owner_client.get(reverse("sources:list")).content.decode()
    assert "BetaSource" in html
    assert f'<option value="{second.pk}" selected>' in html
    members = owner_client.get(reverse("members:list"))
    assert members.context["request"].workspace == second


def test_switching_to_a_workspace_one_is_not_in_is_a_404(
    owner_client, workspace, django_user_model
):
    stranger = django_user_model.objects.create_user(username="s@example.com", password="x" * 12)
    theirs = workspace_create(name="Theirs", owner=stranger)
    for value in (theirs.pk, "nope", ""):
        assert (
            owner_client.post(reverse("workspace_switch"), {"workspace": value}).status_code == 404
        )
    assert owner_client.get(reverse("people:list")).context["request"].workspace == workspace


def test_removed_from_the_chosen_workspace_falls_back_to_the_first(
    owner_client, owner, workspace, second
):
    owner_client.post(reverse("workspace_switch"), {"workspace": second.pk})
    Membership.objects.filter(user=owner, workspace=second).delete()
    assert owner_client.get(reverse("people:list")).context["request"].workspace == workspace


def test_last_activity_is_written_at_most_once_per_period(owner_client, owner, workspace):
    from accounts.middleware import ACTIVITY_RESOLUTION

    membership = Membership.objects.get(user=owner)
    stamped = membership.last_active_at
    assert stamped is not None  # the login stamped it
    owner_client.get(reverse("members:list"))
    assert Membership.objects.get(pk=membership.pk).last_active_at == stamped
    Membership.objects.filter(pk=membership.pk).update(last_active_at=stamped - ACTIVITY_RESOLUTION)
    owner_client.get(reverse("members:list"))
    assert Membership.objects.get(pk=membership.pk).last_active_at > stamped
