"""The rollups equal counting the events, whatever the delivery; merges and deletions keep them so.

A sibling of tests/people/test_properties.py: the same random message sets, delivered in random
orders with random duplicates and batch sizes, and the rollups compared with a recount of the
event table (feed/rollups.py's events_counted), per workspace/type/hour and identity/type/hour.
"""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.activity import source_activity, source_activity_add
from accounts.models import SourceActivity
from feed.models import Event
from feed.rollups import (
    events_counted,
    feed_activity,
    person_activity,
    rollups_counted,
    rollups_forget_events,
)
from ingest.segment import message_parse
from ingest.store import batch_process, batch_store
from people.models import Person
from tests.factories import stored_message
from tests.people.streams import deliver, delivery, messages

pytestmark = pytest.mark.django_db


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_rollups_equal_counting_the_events_under_any_order_and_repeats(data: st.DataObject):
    sent = data.draw(messages())
    first = deliver(data.draw(delivery(sent)))
    second = deliver(data.draw(delivery(sent)))
    for workspace in (first, second):
        counted = events_counted(workspace)
        assert rollups_counted(workspace) == counted
        assert sum(counted["workspace"].values()) == len({m["message_id"] for m in sent})
    # Identities differ between the two workspaces; the per-type-and-hour totals do not.
    assert rollups_counted(first)["workspace"] == rollups_counted(second)["workspace"]


def test_a_merged_persons_chart_holds_the_events_of_every_id_it_merged(workspace):
    now = datetime.now(UTC)
    # Noon two days ago: the four events fall on one UTC day whenever the test runs.
    day = (now - timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
    minute = int((day - datetime(2026, 1, 1, tzinfo=UTC)).total_seconds() // 60)
    batch_process(
        [
            stored_message(
                workspace, "track", anonymous_id="anon-1", event="Viewed", minute=minute
            ),
            stored_message(
                workspace, "track", anonymous_id="anon-1", event="Viewed", minute=minute + 1
            ),
            stored_message(workspace, "track", user_id="u-1", event="Bought", minute=minute + 2),
        ]
    )
    assert Person.objects.filter(workspace=workspace).count() == 2
    # The alias merges the anonymous person into u-1's: the rollup rows stay as they are.
    batch_process(
        [stored_message(workspace, "alias", previous_id="anon-1", user_id="u-1", minute=minute + 3)]
    )
    [survivor] = Person.objects.for_workspace(workspace).current()

    activity = person_activity(workspace=workspace, person=survivor, now=now)

    assert activity == {day.date(): 4}
    assert rollups_counted(workspace) == events_counted(workspace)


def test_forgetting_events_before_deleting_them_keeps_the_rollups_equal(workspace):
    batch_process(
        [
            stored_message(workspace, "track", user_id=f"u-{i % 3}", event="E", minute=i * 17)
            for i in range(30)
        ]
        + [stored_message(workspace, "page", anonymous_id="a-1", name="Home", minute=5)]
    )
    doomed = Event.objects.for_workspace(workspace).filter(identity__value="u-1")
    assert doomed.exists()

    rollups_forget_events(doomed)
    doomed.delete()

    assert rollups_counted(workspace) == events_counted(workspace)
    assert sum(rollups_counted(workspace)["workspace"].values()) == 21


def test_feed_activity_reads_the_last_24_hours_of_the_workspace_only(workspace, other_workspace):
    now = datetime.now(UTC)
    minute = int((now - datetime(2026, 1, 1, tzinfo=UTC)).total_seconds() // 60)
    batch_process(
        [
            stored_message(workspace, "track", user_id="u", event="E", minute=minute),
            stored_message(workspace, "page", user_id="u", name="Home", minute=minute),
            stored_message(workspace, "track", user_id="u", event="E", minute=minute - 60 * 30),
            stored_message(other_workspace, "track", user_id="u", event="E", minute=minute),
            stored_message(other_workspace, "track", user_id="u", event="E", minute=minute),
            stored_message(other_workspace, "screen", user_id="u", name="Home", minute=minute),
        ]
    )
    hour = now.replace(minute=0, second=0, microsecond=0)

    assert feed_activity(workspace=workspace, now=now) == {(hour, "track"): 1, (hour, "page"): 1}


def test_sources_count_accepted_and_rejected_per_hour_received(issued):
    received = datetime.now(UTC).replace(microsecond=0)
    body = {"type": "track", "event": "E", "userId": "u-1"}
    parsed = [
        message_parse(
            {**body, "messageId": f"m{n}"},
            workspace_id=issued.source.workspace_id,
            source_id=issued.source.pk,
            received_at=received,
        )
        for n in range(3)
    ]
    rejection = {
        "source_id": issued.source.pk,
        "received_at": received.isoformat(),
        "index": 0,
        "reason": "bad",
        "excerpt": "{}",
    }
    batch_store(parsed, [rejection])
    hour = received.replace(minute=0, second=0)

    row = SourceActivity.objects.get()
    assert (row.hour, row.accepted, row.rejected) == (hour, 3, 1)
    charts = source_activity(
        workspace=issued.source.workspace, sources=[issued.source], now=received
    )
    assert charts[issued.source.pk]["hours"] == {hour: (3, 1)}
    assert charts[issued.source.pk]["days"] == {hour.date(): (3, 1)}


def test_source_activity_is_one_statement_per_batch(issued, django_assert_num_queries):
    now = datetime.now(UTC)
    with django_assert_num_queries(1):
        source_activity_add(
            accepted=[(issued.source.pk, now - timedelta(hours=h % 5)) for h in range(40)],
            rejected=[(issued.source.pk, now)],
        )
    assert sum(SourceActivity.objects.values_list("accepted", flat=True)) == 40
