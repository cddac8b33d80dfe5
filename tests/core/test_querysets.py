"""core/querysets.py: every model that belongs to a workspace reads through a WorkspaceQuerySet,
and its `for_workspace` returns that workspace's rows and no other's.

The models are found by walking the app registry, so a new model with a workspace foreign key
fails here until its manager is one, and until `populated` below gives it rows in both
workspaces (an empty table would let an unscoped `for_workspace` pass).
"""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from accounts.activity import source_activity_add
from accounts.models import Membership, Workspace
from accounts.services import source_create, source_erasure_set, workspace_create
from accounts.team import invitation_create
from api.services import api_key_create
from core.querysets import WorkspaceQuerySet
from ingest.store import batch_process
from people.deletion import person_delete
from people.models import Identity
from tests.factories import stored_message

pytestmark = pytest.mark.django_db


def _workspace_keys(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.get_fields()
        if f.many_to_one and f.concrete and f.related_model is Workspace
    ]


def _scoped(model: type[models.Model]) -> bool:
    return isinstance(model._default_manager.all(), WorkspaceQuerySet)


# Every model with a foreign key to Workspace, and those reaching it through another row
# (SourceActivity, through its source) whose manager says so.
WITH_WORKSPACE_KEY = [m for m in apps.get_models() if _workspace_keys(m)]
SCOPED = sorted(
    {*WITH_WORKSPACE_KEY, *(m for m in apps.get_models() if _scoped(m))},
    key=lambda m: m._meta.label,
)


def populated(name: str) -> Workspace:
    """A workspace with rows in every scoped table, each written by the service that writes it."""
    user = get_user_model().objects.create_user(username=f"owner@{name}.example", password="x" * 12)
    workspace = workspace_create(name=name, owner=user)
    owner = Membership.objects.get(workspace=workspace, user=user)
    source = source_create(workspace=workspace, name=f"{name} site", created_by=user).source
    source_erasure_set(source=source, allowed=True, actor=user)  # and an audit entry
    invitation_create(actor=owner, email=f"new@{name}.example", role=Membership.Role.MEMBER)
    api_key_create(workspace=workspace, name=f"{name} export", created_by=user)
    src = source.pk
    batch_process(
        [
            stored_message(
                workspace,
                "identify",
                source_id=src,
                live=True,
                user_id="ada",
                traits={"beta_user": True},
                # An Engage sync: only its booleans are audiences (people/identity.py).
                context={"personas": {"computation_class": "audience"}},
            ),
            stored_message(
                workspace, "group", source_id=src, live=True, user_id="ada", group_id=f"{name}-co"
            ),
            stored_message(
                workspace, "track", source_id=src, live=True, user_id="ada", event="Signed Up"
            ),
            stored_message(workspace, "identify", source_id=src, live=True, user_id="gone"),
            # For ids nobody holds: only a receipt (and a count in the audit log).
            stored_message(workspace, "delete", source_id=src, live=True, user_id="never-seen"),
        ]
    )
    # The worker counts what it accepted (ingest/source_counts.py); batch_process alone does not.
    source_activity_add(accepted=[(src, timezone.now())])
    gone = Identity.objects.get(workspace=workspace, value="gone").person
    person_delete(workspace=workspace, person=gone, actor=owner, suppress=True)
    return workspace


def test_every_model_with_a_workspace_key_reads_through_a_workspace_queryset() -> None:
    assert WITH_WORKSPACE_KEY, "the registry walk found no model"
    unscoped = [m._meta.label for m in WITH_WORKSPACE_KEY if not _scoped(m)]
    assert not unscoped, (
        f"{unscoped}: give these models `objects = WorkspaceQuerySet.as_manager()` "
        "(or a subclass of core.querysets.WorkspaceQuerySet)"
    )


def test_for_workspace_returns_only_that_workspaces_rows() -> None:
    mine, theirs = populated("acme"), populated("elsewhere")
    failures = []
    for model in SCOPED:
        objects = model._default_manager
        field = objects.all().workspace_field
        label = model._meta.label
        rows = {
            ws.pk: set(objects.filter(**{field: ws}).values_list("pk", flat=True))
            for ws in (mine, theirs)
        }
        if not rows[mine.pk] or not rows[theirs.pk]:
            failures.append(f"{label}: no rows in both workspaces; have `populated` write some")
            continue
        for ws, other in ((mine, theirs), (theirs, mine)):
            for key in (ws, ws.pk):  # a workspace or its id
                got = set(objects.for_workspace(key).values_list("pk", flat=True))
                if got != rows[ws.pk]:
                    leaked = sorted(got & rows[other.pk])
                    failures.append(f"{label}.for_workspace({key!r}): leaked {leaked}, got {got}")
    assert not failures, "\n".join(failures)


def test_for_workspace_keeps_the_subclass_so_calls_chain() -> None:
    from feed.models import Event

    events = Event.objects.for_workspace(1)
    assert type(events).__name__ == "EventQuerySet"
    assert str(events.visible().newest_first().query)  # its own filters still chain
