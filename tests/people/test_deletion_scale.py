"""Deleting a person with 100k events on PostgreSQL: the same statements as with three."""

import time

import pytest
from django.db import connection

from accounts.models import Membership
from core.bulk import bulk_insert_values
from feed.models import Event
from feed.services import event_row
from ingest.store import batch_process
from people.deletion import person_delete
from people.models import Identity, Person
from tests.factories import person_of, stored_message, typed_message

pytestmark = [pytest.mark.services, pytest.mark.django_db]

EVENTS = 100_000
OTHERS = 20_000


def copy_events(workspace, identity: Identity, count: int, prefix: str) -> None:
    """COPY `count` track events onto an identity (core/bulk.py), without the worker."""
    rows = [
        event_row(
            typed_message(
                workspace,
                "track",
                user_id=identity.value,
                event="Tick",
                minute=i % 5000,
                message_id=f"{prefix}-{i}",
            ),
            identity,
            [],
        )
        for i in range(count)
    ]
    bulk_insert_values(Event, rows)


def test_a_person_with_100k_events_is_deleted_in_a_fixed_number_of_queries(
    workspace, owner, django_assert_max_num_queries
):
    assert connection.vendor == "postgresql"
    batch_process(
        [
            stored_message(workspace, "identify", user_id="big", anonymous_id="anon-big"),
            stored_message(workspace, "identify", user_id="big-old", minute=1),
            stored_message(workspace, "identify", user_id="bob", minute=2),
        ]
    )
    batch_process(
        [stored_message(workspace, "alias", previous_id="big-old", user_id="big", minute=3)]
    )
    big = person_of(workspace, "big")
    ids = {i.value: i for i in Identity.objects.filter(workspace=workspace)}
    copy_events(workspace, ids["big"], EVENTS // 2, "big")
    copy_events(workspace, ids["anon-big"], EVENTS // 4, "anon")
    copy_events(workspace, ids["big-old"], EVENTS // 4, "old")
    copy_events(workspace, ids["bob"], OTHERS, "bob")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE feed_event")
    actor = Membership.objects.select_related("user").get(user=owner, workspace=workspace)

    started = time.perf_counter()
    with django_assert_max_num_queries(21) as captured:
        deleted = person_delete(workspace=workspace, person=big, actor=actor, suppress=True)
    seconds = time.perf_counter() - started
    print(f"\n100k-event deletion: {seconds:.2f} s, {len(captured.captured_queries)} queries")

    assert deleted.events == EVENTS + 3  # the COPYed events, two identifies and the alias
    assert Event.objects.for_workspace(workspace).count() == OTHERS + 1
    assert not Event.objects.filter(identity__isnull=True).exists()
    assert list(Person.objects.for_workspace(workspace).values_list("pk", flat=True)) == [
        person_of(workspace, "bob").pk
    ]
    assert seconds < 60
