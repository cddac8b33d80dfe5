"""The backfills: Identity.linked_by_type (people 0006 adds it, feed 0006 fills it), the audience
names (people 0009) and the activity rollups (feed 0008). Each test leaves the database fully
migrated, for the tests after it."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("people", "0005_analyze_early"), ("feed", "0005_analyze_early")]
AFTER = [
    ("people", "0006_identity_linked_by_type"),
    ("feed", "0006_backfill_identity_linked_by_type"),
]


@pytest.fixture
def migrated_back():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_ids_linked_before_the_column_get_the_type_of_their_linking_event(migrated_back):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    workspace = apps.get_model("accounts", "Workspace").objects.create(name="Old")
    person = apps.get_model("people", "Person").objects.create(workspace=workspace)
    Identity = apps.get_model("people", "Identity")
    moment = datetime(2026, 11, 1, tzinfo=UTC)

    def identity(value: str, linked_by: str) -> None:
        Identity.objects.create(
            workspace=workspace, person=person, value=value, kind="anonymous",
            linked_at=moment if linked_by else None, linked_by_message_id=linked_by,
        )  # fmt: skip

    identity("soft", "m-track")
    identity("aliased", "m-alias")
    identity("orphan", "m-gone")  # its linking message has no event
    identity("free", "")
    for mid, kind in (("m-track", "track"), ("m-alias", "alias")):
        apps.get_model("feed", "Event").objects.create(
            workspace=workspace, type=kind, message_id=mid, timestamp=moment,
            received_at=moment, raw={},
        )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    types = dict(
        apps.get_model("people", "Identity").objects.values_list("value", "linked_by_type")
    )

    assert types == {"soft": "track", "aliased": "alias", "orphan": "", "free": ""}


@pytest.mark.django_db(transaction=True)
def test_rollups_and_audience_names_are_backfilled_from_what_is_stored(migrated_back):
    before = [
        ("people", "0006_identity_linked_by_type"),
        ("feed", "0006_backfill_identity_linked_by_type"),
        ("accounts", "0002_team"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    workspace = apps.get_model("accounts", "Workspace").objects.create(name="Old")
    person = apps.get_model("people", "Person").objects.create(
        workspace=workspace, audiences={"vip": True, "churned": False}
    )
    identity = apps.get_model("people", "Identity").objects.create(
        workspace=workspace, person=person, value="u-1", kind="user"
    )
    moment = datetime(2026, 11, 1, 10, 30, tzinfo=UTC)
    for n, kind in enumerate(["track", "track", "page"]):
        apps.get_model("feed", "Event").objects.create(
            workspace=workspace, identity=identity, type=kind, message_id=f"m{n}",
            timestamp=moment, received_at=moment, raw={},
        )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from feed.models import IdentityActivity, WorkspaceActivity
    from people.models import Audience

    hour = moment.replace(minute=0)
    workspace_rows = WorkspaceActivity.objects.values_list("hour", "type", "n")
    assert sorted(workspace_rows) == [(hour, "page", 1), (hour, "track", 2)]
    assert sorted(IdentityActivity.objects.values_list("identity_id", "type", "n")) == [
        (identity.pk, "page", 1),
        (identity.pk, "track", 2),
    ]
    assert sorted(Audience.objects.values_list("name", flat=True)) == ["churned", "vip"]
