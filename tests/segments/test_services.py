"""Saved segments' rules (segments/models.py's docstring): who sees, who changes, built-ins."""

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Membership, Workspace
from accounts.services import workspace_create
from accounts.team import NotAllowed
from segments.builtin import BUILTINS
from segments.filters import FilterError, filter_parse
from segments.models import Segment
from segments.services import (
    SegmentError,
    builtin_segments_ensure,
    segment_create,
    segment_delete,
    segment_update,
)

pytestmark = pytest.mark.django_db

PLAN_IS_PRO = {"field": "trait", "key": "plan", "operator": "equals", "value": "Pro"}
PRO = {"op": "and", "conditions": [PLAN_IS_PRO]}
EVERYONE = {"op": "and", "conditions": []}


def member(workspace: Workspace, email: str, role: str = Membership.Role.MEMBER) -> Membership:
    user = get_user_model().objects.create_user(username=email, email=email, password="x" * 12)
    return Membership.objects.create(user=user, workspace=workspace, role=role)


@pytest.fixture
def owner_m(workspace, owner) -> Membership:
    return Membership.objects.get(workspace=workspace, user=owner)


def test_every_new_workspace_starts_with_the_three_builtins(owner):
    workspace = workspace_create(name="Fresh", owner=owner)
    builtins = Segment.objects.for_workspace(workspace).exclude(builtin=None)
    assert sorted(builtins.values_list("builtin", flat=True)) == sorted(BUILTINS)
    assert {s.visibility for s in builtins} == {"team"}
    assert all(s.created_by is None for s in builtins)
    # Stored filters, never lists of people: each parses.
    for segment in builtins:
        filter_parse(segment.filter)


def test_builtins_ensure_is_idempotent(workspace):
    assert builtin_segments_ensure(workspace) == []
    Segment.objects.for_workspace(workspace).filter(builtin="slipping_away").delete()
    builtin_segments_ensure(workspace)
    assert Segment.objects.for_workspace(workspace).exclude(builtin=None).count() == 3


def test_slipping_away_is_seen_before_but_not_in_the_last_14_days(workspace):
    slipping = Segment.objects.get(workspace=workspace, builtin="slipping_away")
    conditions = slipping.filter["conditions"]
    assert {"field": "last_seen", "operator": "not_within_days", "value": 14} in conditions
    assert {"field": "last_seen", "operator": "within_days", "value": 90} in conditions


def test_a_private_segment_is_seen_by_its_maker_only(workspace, owner_m):
    ada = member(workspace, "ada@example.com")
    mine = segment_create(actor=ada, name="Mine", filter=PRO)
    assert mine in Segment.objects.visible_to(ada)
    assert mine not in Segment.objects.visible_to(owner_m)  # not even the owner


def test_a_team_segment_is_seen_by_every_member_and_no_other_workspace(workspace, owner_m):
    ada = member(workspace, "ada@example.com")
    shared = segment_create(actor=ada, name="Pro", filter=PRO, visibility="team")
    assert shared in Segment.objects.visible_to(owner_m)
    elsewhere = workspace_create(name="Elsewhere", owner=None)
    stranger = member(elsewhere, "eve@example.com", Membership.Role.OWNER)
    assert shared not in Segment.objects.visible_to(stranger)


def test_a_member_cannot_change_a_team_segment_someone_else_made(workspace, owner_m):
    ada = member(workspace, "ada@example.com")
    bob = member(workspace, "bob@example.com")
    shared = segment_create(actor=ada, name="Pro", filter=PRO, visibility="team")
    with pytest.raises(NotAllowed):
        segment_update(segment=shared, actor=bob, name="Hacked", filter=PRO, description="",
                       visibility="team")  # fmt: skip
    with pytest.raises(NotAllowed):
        segment_delete(segment=shared, actor=bob)
    admin = member(workspace, "root@example.com", Membership.Role.ADMIN)
    segment_update(segment=shared, actor=admin, name="Pro plan", filter=PRO, description="",
                   visibility="team")  # fmt: skip
    shared.refresh_from_db()
    assert shared.name == "Pro plan" and shared.updated_by_id == admin.user_id
    segment_delete(segment=shared, actor=owner_m)
    assert not Segment.objects.filter(pk=shared.pk).exists()


def test_only_its_maker_changes_a_private_segment_not_even_an_owner(workspace, owner_m):
    ada = member(workspace, "ada@example.com")
    mine = segment_create(actor=ada, name="Mine", filter=PRO)
    with pytest.raises(NotAllowed):
        segment_delete(segment=mine, actor=owner_m)
    segment_update(segment=mine, actor=ada, name="Mine", filter=EVERYONE, description="d",
                   visibility="private")  # fmt: skip


def test_a_bad_filter_is_refused_with_its_message(workspace, owner_m):
    with pytest.raises(FilterError):
        segment_create(actor=owner_m, name="Bad", filter={"op": "xor", "conditions": []})
    assert not Segment.objects.filter(name="Bad").exists()


def test_names_are_unique_among_the_teams_segments_whatever_the_case(workspace, owner_m):
    segment_create(actor=owner_m, name="Pro", filter=PRO, visibility="team")
    with pytest.raises(SegmentError):
        segment_create(actor=owner_m, name="pro", filter=PRO, visibility="team")
    with pytest.raises(SegmentError):
        segment_create(actor=owner_m, name="  ", filter=PRO)
    # A private one of the same name is the maker's own business.
    segment_create(actor=owner_m, name="Pro", filter=PRO)


def test_a_segment_cannot_include_itself(workspace, owner_m):
    first = segment_create(actor=owner_m, name="First", filter=PRO, visibility="team")
    inside = {
        "op": "and",
        "conditions": [{"field": "segment", "operator": "in", "value": first.pk}],
    }
    second = segment_create(actor=owner_m, name="Second", filter=inside, visibility="team")
    loop = {"op": "and", "conditions": [{"field": "segment", "operator": "in", "value": second.pk}]}
    with pytest.raises(FilterError):
        segment_update(segment=first, actor=owner_m, name="First", filter=loop, description="",
                       visibility="team")  # fmt: skip


def test_a_team_segment_cannot_include_a_private_one(workspace, owner_m):
    private = segment_create(actor=owner_m, name="Private", filter=PRO)
    in_private = {"field": "segment", "operator": "in", "value": private.pk}
    inside = {"op": "and", "conditions": [in_private]}
    with pytest.raises(FilterError):
        segment_create(actor=owner_m, name="Shared", filter=inside, visibility="team")
    segment_create(actor=owner_m, name="Also private", filter=inside)
