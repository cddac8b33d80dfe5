"""The audit log: paged and filtered by kind (accounts/audit.py), and deletes for ids nobody
holds counted in one entry per source and day, never one entry each (people/deletion.py)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.audit import AUDIT_PAGE_SIZE
from accounts.models import AuditEntry, Membership
from accounts.services import source_create, source_erasure_set
from accounts.team import audit_record, member_role_change
from ingest.models import DeadLetter
from people.models import Identity
from tests.http import basic, post

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action
Role = Membership.Role


def deletes(n: int, prefix: str = "nobody") -> dict:
    return {
        "batch": [
            {"type": "delete", "userId": f"{prefix}-{i}", "messageId": f"del-{prefix}-{i}"}
            for i in range(n)
        ]
    }


@pytest.fixture
def teammate(workspace, owner) -> Membership:
    user = get_user_model().objects.create_user(username="grace@x.io", email="grace@x.io")
    mate = Membership.objects.create(user=user, workspace=workspace, role=Role.MEMBER)
    actor = Membership.objects.get(user=owner, workspace=workspace)
    member_role_change(actor=actor, target=mate, role=Role.ADMIN)
    return mate


def rows(html: str) -> int:
    return html.count('class="audit-row"')


@pytest.mark.usefixtures("embedded")
def test_a_flood_of_deletes_for_ids_nobody_holds_leaves_the_team_entries_in_view(
    owner_client, issued, teammate
):
    """The review's request: 250 deletes for ids nobody holds pushed every team entry off."""
    source_erasure_set(source=issued.source, allowed=True)
    response = post(owner_client, "/v1/batch", deletes(250), headers=basic(issued.token))
    assert response.status_code == 200, response.content
    html = owner_client.get(reverse("members:audit")).content.decode()
    assert "grace@x.io: member -&gt; admin" in html
    assert AuditEntry.objects.count() <= 3, "one counted entry, not one per delete"
    [counted] = AuditEntry.objects.filter(action=Action.ERASURES_UNMATCHED)
    assert counted.detail["count"] == 250
    assert "250" in counted.target and issued.source.token_prefix in counted.actor_label
    assert "nobody-1" not in f"{counted.target} {counted.detail}", "the ids are not listed"


@pytest.mark.usefixtures("embedded")
def test_the_count_is_per_source_and_day(client, workspace, issued):
    other = source_create(workspace=workspace, name="Other")
    for source in (issued.source, other.source):
        source_erasure_set(source=source, allowed=True)
    post(client, "/v1/batch", deletes(3, "a"), headers=basic(issued.token))
    post(client, "/v1/batch", deletes(2, "b"), headers=basic(issued.token))
    post(client, "/v1/batch", deletes(4, "c"), headers=basic(other.token))
    counted = AuditEntry.objects.filter(action=Action.ERASURES_UNMATCHED)
    assert sorted(e.detail["count"] for e in counted) == [4, 5]
    # Yesterday's entry is not added to.
    AuditEntry.objects.filter(action=Action.ERASURES_UNMATCHED).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    post(client, "/v1/batch", deletes(1, "d"), headers=basic(issued.token))
    assert AuditEntry.objects.filter(action=Action.ERASURES_UNMATCHED).count() == 3


@pytest.mark.usefixtures("embedded")
def test_a_resent_delete_that_found_no_one_does_not_erase_who_came_after(client, issued):
    source_erasure_set(source=issued.source, allowed=True)
    post(client, "/v1/batch", deletes(1), headers=basic(issued.token))
    identify = {"type": "identify", "userId": "nobody-0", "messageId": "later"}
    post(client, "/v1/batch", identify, headers=basic(issued.token))
    post(client, "/v1/batch", deletes(1), headers=basic(issued.token))  # Segment retries
    assert Identity.objects.filter(value="nobody-0").exists()
    assert AuditEntry.objects.get(action=Action.ERASURES_UNMATCHED).detail["count"] == 1
    assert not DeadLetter.objects.exists(), "the copy is a no-op, not a failure"


@pytest.mark.usefixtures("embedded")
def test_a_delete_that_erases_someone_keeps_its_own_entry(client, issued):
    source_erasure_set(source=issued.source, allowed=True)
    post(client, "/v1/batch", {"type": "identify", "userId": "ada"}, headers=basic(issued.token))
    post(client, "/v1/batch", {"type": "delete", "userId": "ada"}, headers=basic(issued.token))
    entry = AuditEntry.objects.get(action=Action.PERSON_DELETED)
    assert "user:ada" in entry.target


# --- The page: keyset paging and a filter by kind -------------------------------------------


def entries(workspace, n: int, action: str = Action.INVITED, *, start: int = 0) -> None:
    now = timezone.now()
    for i in range(start, start + n):
        entry = audit_record(workspace=workspace, actor=None, action=action, target=f"t-{i:04}")
        # Distinct moments, and some shared ones: the id breaks the ties.
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=now - timedelta(seconds=i // 2))


def targets(html: str) -> list[str]:
    return re.findall(r"t-\d{4}", html)


def older_link(html: str) -> str | None:
    found = re.search(r'href="([^"]*after=[^"]*)"[^>]*>Older', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_audit_log_pages_through_every_entry_once_newest_first(owner_client, workspace):
    n = AUDIT_PAGE_SIZE * 2 + 7
    entries(workspace, n)
    url, seen, pages = reverse("members:audit"), [], 0
    while url:
        html = owner_client.get(url).content.decode()
        assert rows(html) <= AUDIT_PAGE_SIZE
        seen += targets(html)
        url = older_link(html)
        pages += 1
    assert pages == 3
    newest_first = AuditEntry.objects.for_workspace(workspace).order_by("-created_at", "-id")
    assert seen == list(newest_first.values_list("target", flat=True))
    assert len(set(seen)) == n


def test_an_audit_page_costs_the_same_queries_whatever_the_entries(owner_client, workspace):
    entries(workspace, AUDIT_PAGE_SIZE + 1)
    owner_client.get(reverse("members:audit"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        owner_client.get(reverse("members:audit"))
    entries(workspace, AUDIT_PAGE_SIZE * 10, start=AUDIT_PAGE_SIZE + 1)
    with CaptureQueriesContext(connection) as many:
        html = owner_client.get(reverse("members:audit"), {"kind": "team"}).content.decode()
        older = owner_client.get(older_link(html)).content.decode()
    assert rows(html) == rows(older) == AUDIT_PAGE_SIZE
    assert len(many.captured_queries) == 2 * len(few.captured_queries)


@pytest.mark.parametrize(
    "kind,shown",
    [
        ("team", {Action.INVITED, Action.ROLE_CHANGED}),
        ("erasure", {Action.PERSON_DELETED, Action.ERASURES_UNMATCHED}),
        ("sources", {Action.SOURCE_ERASURE_ALLOWED}),
        ("", set(Action)),
        ("no-such-kind", set(Action)),
    ],
)
def test_the_audit_log_filters_by_kind(owner_client, workspace, kind, shown):
    created = {
        Action.INVITED,
        Action.ROLE_CHANGED,
        Action.PERSON_DELETED,
        Action.ERASURES_UNMATCHED,
        Action.SOURCE_ERASURE_ALLOWED,
    }
    for action in created:
        audit_record(workspace=workspace, actor=None, action=action, target=f"{action}-target")
    html = owner_client.get(reverse("members:audit"), {"kind": kind}).content.decode()
    listed = {a for a in Action if f"{a.value}-target" in html}
    assert listed == shown & created


def test_the_filter_is_kept_across_pages(owner_client, workspace):
    entries(workspace, AUDIT_PAGE_SIZE + 3, Action.PERSON_DELETED)
    entries(workspace, 5, Action.INVITED, start=1000)
    html = owner_client.get(reverse("members:audit"), {"kind": "erasure"}).content.decode()
    link = older_link(html)
    assert link and "kind=erasure" in link
    html = owner_client.get(link).content.decode()
    expected = {f"t-{i:04}" for i in range(AUDIT_PAGE_SIZE, AUDIT_PAGE_SIZE + 3)}
    assert set(targets(html)) == expected and rows(html) == 3


def test_only_owners_read_the_audit_log(client, workspace, teammate):
    client.force_login(teammate.user)
    assert client.get(reverse("members:audit")).status_code == 403


def test_another_workspaces_entries_are_not_listed(owner_client, stranger_workspace, workspace):
    audit_record(workspace=stranger_workspace, actor=None, action=Action.INVITED, target="t-9999")
    entries(workspace, 1)
    html = owner_client.get(reverse("members:audit")).content.decode()
    assert targets(html) == ["t-0000"]
