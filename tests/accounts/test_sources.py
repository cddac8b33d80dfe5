from django.urls import reverse

from accounts.models import Source
from accounts.services import source_for_token, source_revoke, source_rotate
from core.secrets import secret_digest


def test_source_keeps_only_a_hash_and_prefix_of_its_token(issued):
    source = Source.objects.get(pk=issued.source.pk)
    assert source.token_hash == secret_digest(issued.token)
    assert issued.token not in {source.token_hash, source.token_prefix, source.name}
    assert issued.token.startswith(source.token_prefix)


def test_token_finds_its_source_until_revoked(issued):
    assert source_for_token(issued.token) == issued.source
    source_revoke(source=issued.source)
    assert source_for_token(issued.token) is None


def test_rotate_replaces_the_token(issued):
    rotated = source_rotate(source=issued.source)
    assert source_for_token(issued.token) is None
    assert source_for_token(rotated.token) == issued.source


def test_unknown_and_empty_tokens_find_nothing(db):
    assert source_for_token("") is None
    assert source_for_token("wsr_nope") is None
    assert source_for_token("x" * 10_000) is None


def test_sources_page_shows_the_new_token_once(owner_client, workspace):
    response = owner_client.post(reverse("sources:add"), {"name": "Segment", "kind": "segment"})
    assert response.status_code == 200
    source = Source.objects.get(workspace=workspace)
    token = response.context["issued"].token
    assert token.encode() in response.content
    assert "no-store" in response["Cache-Control"]  # no cache or back button keeps the token
    again = owner_client.get(reverse("sources:list"))
    assert token.encode() not in again.content
    assert "no-store" not in again.get("Cache-Control", "")
    assert source.token_prefix.encode() in again.content


def test_members_see_only_their_workspace_sources(client, django_user_model, issued):
    from accounts.services import workspace_create

    other = django_user_model.objects.create_user(username="other@example.com", password="x" * 12)
    workspace_create(name="Other", owner=other)
    client.force_login(other)
    response = client.get(reverse("sources:list"))
    assert issued.source.token_prefix.encode() not in response.content
    revoke = client.post(reverse("sources:revoke", args=[issued.source.pk]))
    assert revoke.status_code == 404


def test_plain_members_cannot_generate_tokens(client, django_user_model, workspace):
    from accounts.models import Membership

    member = django_user_model.objects.create_user(username="m@example.com", password="x" * 12)
    Membership.objects.create(user=member, workspace=workspace, role=Membership.Role.MEMBER)
    client.force_login(member)
    assert client.post(reverse("sources:add"), {"name": "S", "kind": "segment"}).status_code == 403


def test_the_sources_page_reads_only_the_last_few_rejections_of_each_source(
    owner_client, workspace, django_assert_max_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import RejectedMessage
    from accounts.selectors import RECENT_REJECTIONS, sources_with_recent_rejections
    from accounts.services import source_create

    busy = source_create(workspace=workspace, name="Busy").source
    quiet = source_create(workspace=workspace, name="Quiet").source
    now = timezone.now()
    for i in range(RECENT_REJECTIONS + 3):
        RejectedMessage.objects.create(
            source=busy, received_at=now - timedelta(minutes=i), reason=f"busy reason {i}"
        )
    RejectedMessage.objects.create(source=quiet, received_at=now, reason="quiet reason")

    with django_assert_max_num_queries(2):
        sources = {s.name: s for s in sources_with_recent_rejections(workspace)}
    assert [r.reason for r in sources["Busy"].recent_rejections] == [
        f"busy reason {i}" for i in range(RECENT_REJECTIONS)
    ]
    assert [r.reason for r in sources["Quiet"].recent_rejections] == ["quiet reason"]

    html = owner_client.get("/sources/").content.decode()
    assert f"busy reason {RECENT_REJECTIONS - 1}" in html
    assert f"busy reason {RECENT_REJECTIONS}" not in html
    assert "quiet reason" in html
