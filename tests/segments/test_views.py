"""The People page's filter and saved segments' pages, as a user and as an attacker."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.models import Membership
from accounts.services import workspace_create
from segments.filters import filter_dumps, filter_parse
from segments.models import Segment
from segments.services import segment_create

pytestmark = pytest.mark.django_db

LIST = reverse("people:list")
PLAN_IS_PRO = {"field": "trait", "key": "plan", "operator": "equals", "value": "Pro"}
PRO = {"op": "and", "conditions": [PLAN_IS_PRO]}
PRO_TEXT = filter_dumps(filter_parse(PRO))


def listed_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-person-id="(\d+)"', response.content.decode())]


def member_client(
    workspace, email: str, role: str = Membership.Role.MEMBER
) -> tuple[Client, Membership]:
    user = get_user_model().objects.create_user(username=email, email=email, password="x" * 12)
    membership = Membership.objects.create(user=user, workspace=workspace, role=role)
    client = Client()
    client.force_login(user)
    return client, membership


@pytest.fixture
def crowd(people):
    pro = [
        people.person(name=f"Pro {i}", traits={"plan": "Pro", "company": f"C{i}"}, minutes_ago=i)
        for i in range(3)
    ]
    free = [
        people.person(name=f"Free {i}", traits={"plan": "Free"}, minutes_ago=10 + i)
        for i in range(2)
    ]
    return pro, free


# --- The filter in the URL ----------------------------------------------------------------------


def test_the_filter_in_the_url_selects_the_people(owner_client, crowd):
    pro, _ = crowd
    response = owner_client.get(LIST, {"filter": PRO_TEXT})
    assert response.status_code == 200
    assert listed_ids(response) == [p.pk for p in pro]


def test_the_builder_form_goes_to_the_shareable_filter_url(owner_client, crowd):
    form = {
        "op": "and",
        "cf": "trait",
        "ck": "plan",
        "co": "equals",
        "cv": "Pro",
        "cd": "",
        "cg": "0",
    }
    response = owner_client.get(LIST, form)
    assert response.status_code == 302
    location = response["Location"]
    assert "filter=" in location and "cf=" not in location
    assert listed_ids(owner_client.get(location)) == [p.pk for p in crowd[0]]


def test_the_builder_with_htmx_pushes_the_filter_url(owner_client, crowd):
    form = {
        "q": "",
        "op": "and",
        "cf": ["trait", "last_seen"],
        "ck": ["plan", ""],
        "co": ["equals", "within_days"],
        "cv": ["Pro", "7"],
        "cd": ["", ""],
        "cg": ["0", "0"],
    }
    response = owner_client.get(
        LIST, form, headers={"HX-Request": "true", "HX-Target": "people-results"}
    )
    assert response.status_code == 200
    assert listed_ids(response) == [p.pk for p in crowd[0]]
    pushed = response["HX-Push-Url"]
    assert pushed.startswith("/people/?filter=") and "cf=" not in pushed


def test_or_and_one_level_of_groups_from_the_form(owner_client, crowd):
    pro, free = crowd
    form = {
        "op": "or",
        "gop": ["and"],
        "cf": ["trait", "trait", "name"],
        "ck": ["plan", "company", ""],
        "co": ["equals", "equals", "equals"],
        "cv": ["Free", "C1", "Pro 1"],
        "cd": ["", "", ""],
        "cg": ["0", "1", "1"],
    }
    location = owner_client.get(LIST, form)["Location"]
    assert sorted(listed_ids(owner_client.get(location))) == sorted(
        [*(p.pk for p in free), pro[1].pk]
    )


def test_a_row_the_filter_refuses_is_named_and_is_a_400(owner_client, crowd):
    form = {
        "op": "and",
        "cf": ["trait"],
        "ck": ["seats"],
        "co": ["gt"],
        "cv": ["many"],
        "cd": [""],
        "cg": ["0"],
    }
    response = owner_client.get(LIST, form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Row 1" in html and "needs a number" in html
    assert "data-person-id" not in html


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"op":"and","conditions":[{"field":"trait"}]}',
        json.dumps(
            {
                "op": "and",
                "conditions": [{"field": "email", "operator": "equals", "value": "x" * 100_000}],
            }
        ),
        '{"op":"and","conditions":[' * 50 + "]}" * 50,
        "[]",
        "null",
    ],
)
def test_a_hostile_filter_is_a_400_with_a_message_in_a_fixed_number_of_queries(
    owner_client, crowd, text, django_assert_max_num_queries
):
    # The session, the user, the memberships and the page's two menus: no people read.
    with django_assert_max_num_queries(5):
        response = owner_client.get(LIST, {"filter": text})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This filter cannot be used" in html and "data-person-id" not in html
    with django_assert_max_num_queries(3):
        assert owner_client.get(reverse("people:count"), {"filter": text}).status_code == 400


@pytest.mark.parametrize("columns", ["", "plan,company"])
def test_the_filtered_page_runs_a_fixed_number_of_queries_whatever_its_size(
    owner_client, people, django_assert_max_num_queries, columns
):
    people.person(name="Pro first", traits={"plan": "Pro"})
    params = {"filter": PRO_TEXT, "columns": columns}
    with django_assert_max_num_queries(8) as few:
        owner_client.get(LIST, params)
    for i in range(60):
        people.person(name=f"P{i}", group=people.group(group_id=f"g{i}"), traits={"plan": "Pro"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(LIST, params)
    assert len(listed_ids(response)) == 50


def test_trait_columns_are_shown(owner_client, crowd):
    html = owner_client.get(LIST, {"filter": PRO_TEXT, "columns": "company, plan"}).content.decode()
    assert '<th class="trait-col">company</th><th class="trait-col">plan</th>' in html
    assert '<td class="trait-cell">C0</td><td class="trait-cell">Pro</td>' in html


def test_the_count_says_how_many(owner_client, crowd):
    assert (
        owner_client.get(reverse("people:count"), {"filter": PRO_TEXT}).content.decode().strip()
        == "3 people"
    )
    assert (
        "1 person"
        in owner_client.get(
            reverse("people:count"), {"filter": PRO_TEXT, "q": "pro 1"}
        ).content.decode()
    )


def test_the_older_query_params_still_narrow_a_filter(owner_client, crowd):
    pro, _ = crowd
    assert listed_ids(owner_client.get(LIST, {"filter": PRO_TEXT, "q": "Pro 2"})) == [pro[2].pk]


# --- Saved segments -----------------------------------------------------------------------------


def test_save_as_segment_then_a_teammate_opens_it_and_sees_the_same_people(
    owner_client, workspace, crowd
):
    response = owner_client.post(
        reverse("people:segment_new"),
        {"name": "Pro", "description": "", "visibility": "team", "filter": PRO_TEXT},
    )
    segment = Segment.objects.get(name="Pro")
    assert response.status_code == 302 and response["Location"].endswith(f"?segment={segment.pk}")
    teammate, _ = member_client(workspace, "ada@example.com")
    mine = listed_ids(owner_client.get(LIST, {"segment": segment.pk}))
    assert (
        mine == listed_ids(teammate.get(LIST, {"segment": segment.pk})) == [p.pk for p in crowd[0]]
    )
    listing = teammate.get(reverse("people:segments")).content.decode()
    assert "Pro" in listing and "owner@example.com" in listing and "Slipping away" in listing


def test_another_workspaces_segment_is_a_404_everywhere(owner_client, django_user_model):
    stranger = django_user_model.objects.create_user(username="eve@example.com", password="x" * 12)
    elsewhere = workspace_create(name="Elsewhere", owner=stranger)
    theirs = Segment.objects.filter(workspace=elsewhere).first()
    assert owner_client.get(LIST, {"segment": theirs.pk}).status_code == 404
    assert owner_client.get(reverse("people:count"), {"segment": theirs.pk}).status_code == 404
    assert owner_client.get(reverse("people:segment_edit", args=[theirs.pk])).status_code == 404
    assert owner_client.post(reverse("people:segment_delete", args=[theirs.pk])).status_code == 404
    inside = json.dumps(
        {"op": "and", "conditions": [{"field": "segment", "operator": "in", "value": theirs.pk}]}
    )
    response = owner_client.get(LIST, {"filter": inside})
    assert response.status_code == 400 and "no segment" in response.content.decode()


def test_a_private_segment_of_another_member_is_a_404(owner_client, workspace, crowd):
    ada_client, ada = member_client(workspace, "ada@example.com")
    private = segment_create(actor=ada, name="Ada's", filter=PRO)
    assert ada_client.get(LIST, {"segment": private.pk}).status_code == 200
    for response in (
        owner_client.get(LIST, {"segment": private.pk}),
        owner_client.get(reverse("people:count"), {"segment": private.pk}),
        owner_client.get(reverse("people:segment_edit", args=[private.pk])),
        owner_client.post(reverse("people:segment_delete", args=[private.pk])),
    ):
        assert response.status_code == 404
    assert "Ada&#x27;s" not in owner_client.get(reverse("people:segments")).content.decode()
    assert Segment.objects.filter(pk=private.pk).exists()


def test_a_member_cannot_change_a_team_segment_someone_else_made(owner_client, workspace, crowd):
    ada_client, ada = member_client(workspace, "ada@example.com")
    bob_client, _ = member_client(workspace, "bob@example.com")
    shared = segment_create(actor=ada, name="Shared", filter=PRO, visibility="team")
    form = {"name": "Bob's now", "visibility": "team", "filter": PRO_TEXT}
    assert bob_client.get(reverse("people:segment_edit", args=[shared.pk])).status_code == 403
    assert (
        bob_client.post(reverse("people:segment_edit", args=[shared.pk]), form).status_code == 403
    )
    assert bob_client.post(reverse("people:segment_delete", args=[shared.pk])).status_code == 403
    shared.refresh_from_db()
    assert shared.name == "Shared"
    assert (
        'id="segment-edit-link"'
        not in bob_client.get(LIST, {"segment": shared.pk}).content.decode()
    )
    # Its maker and the owner may.
    assert (
        owner_client.post(reverse("people:segment_edit", args=[shared.pk]), form).status_code == 302
    )
    assert ada_client.post(reverse("people:segment_delete", args=[shared.pk])).status_code == 302


def test_a_removed_member_has_no_access(workspace, crowd):
    ada_client, ada = member_client(workspace, "ada@example.com")
    shared = segment_create(actor=ada, name="Shared", filter=PRO, visibility="team")
    ada.delete()
    assert ada_client.get(LIST, {"segment": shared.pk}).status_code == 404
    assert ada_client.get(reverse("people:segments")).status_code == 404
    assert ada_client.post(reverse("people:segment_delete", args=[shared.pk])).status_code == 404


def test_names_descriptions_and_trait_keys_are_escaped(owner_client, people, workspace):
    people.person(name="X", traits={"<script>alert(1)</script>": "<b>v</b>", "plan": "Pro"})
    owner = Membership.objects.get(workspace=workspace)
    segment = segment_create(
        actor=owner,
        name="<script>n()</script>",
        filter=PRO,
        visibility="team",
        description="<img src=x onerror=d()>",
    )
    pages = [
        owner_client.get(LIST, {"segment": segment.pk, "columns": "<script>alert(1)</script>"}),
        owner_client.get(reverse("people:segments")),
        owner_client.get(reverse("people:builder_options")),
        owner_client.get(reverse("people:segment_edit", args=[segment.pk])),
    ]
    for response in pages:
        html = response.content.decode()
        assert "<script>alert" not in html and "<script>n()" not in html
        assert "<img src=x" not in html and "<b>v</b>" not in html


def test_a_saved_segment_with_a_bad_name_is_told_not_saved(owner_client):
    response = owner_client.post(
        reverse("people:segment_new"), {"name": "", "visibility": "team", "filter": PRO_TEXT}
    )
    assert response.status_code == 400 and "Give the segment a name" in response.content.decode()
    response = owner_client.post(
        reverse("people:segment_new"), {"name": "x", "visibility": "team", "filter": "{"}
    )
    assert response.status_code == 400
