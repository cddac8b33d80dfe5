from accounts.models import Source


def test_source_admin_never_shows_the_token_hash_and_can_revoke(admin_client, issued):
    page = admin_client.get(f"/admin/accounts/source/{issued.source.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert issued.source.token_hash not in body
    assert issued.token not in body
    assert issued.source.token_prefix in body

    response = admin_client.post(
        "/admin/accounts/source/",
        {"action": "revoke_sources", "_selected_action": [issued.source.pk]},
    )
    assert response.status_code == 302
    assert Source.objects.get(pk=issued.source.pk).revoked_at is not None


def test_workspace_admin_lists_members(admin_client, workspace, owner):
    page = admin_client.get(f"/admin/accounts/workspace/{workspace.pk}/change/")
    assert page.status_code == 200
    assert owner.username in page.content.decode()
