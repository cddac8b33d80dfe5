"""The per-identity, per-name, per-day counts equal counting the events, whatever the delivery,
merges and deletions; the behaviour conditions (feed/behaviour.py) pick the people a count over
the raw events picks, at the edges of their windows and of zero."""

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Membership
from feed.behaviour import did_event, did_event_where, did_not_event
from feed.models import Event, EventDayCount
from feed.rollups import events_counted, rollups_counted
from ingest.store import batch_process
from people.deletion import person_delete
from people.models import Identity, Person
from tests.factories import BASE_TIME, person_of, stored_message
from tests.people.streams import deliver, delivery, messages

pytestmark = pytest.mark.django_db

NAMES = ["Order Completed", "Viewed"]
# The clock of the random streams' conditions: noon on their sixth day.
NOW = BASE_TIME + timedelta(days=5, hours=12)


@st.composite
def behaviour_messages(draw: st.DrawFn) -> list[dict]:
    """The identity tests' random messages, their track events spread over two names, six days
    (some a second either side of midnight) and an `amount` of mixed types."""
    out = []
    for message in draw(messages()):
        day = draw(st.integers(0, 5))
        moment = BASE_TIME + timedelta(days=day) + draw(
            st.sampled_from([timedelta(0), timedelta(hours=23, minutes=59, seconds=59),
                             timedelta(hours=7)])
        )  # fmt: skip
        message = {**message, "timestamp": moment.isoformat(), "received_at": moment.isoformat()}
        if message["type"] == "track":
            message["event"] = draw(st.sampled_from(NAMES))
            message["properties"] = {"amount": draw(st.sampled_from([5, 50, "50", None]))}
        out.append(message)
    return out


def counted_per_person(workspace, name: str, days: int | None, where=None) -> Counter:
    """{person id: track events of `name` in the window}, from the raw events."""
    # Written out, not window_start's: the last `days` UTC days, today (NOW's) included.
    start = NOW.date() - timedelta(days=days - 1) if days is not None else None
    person_of_identity = dict(
        Identity.objects.for_workspace(workspace).values_list("pk", "person_id")
    )
    totals: Counter = Counter()
    events = Event.objects.for_workspace(workspace).filter(type="track", name=name)
    for identity_id, timestamp, properties in events.values_list(
        "identity_id", "timestamp", "properties"
    ):
        if identity_id is None or (start and timestamp.astimezone(UTC).date() < start):
            continue
        if where is None or where(properties):
            totals[person_of_identity[identity_id]] += 1
    return totals


def matching(workspace, condition) -> set[int]:
    return set(
        Person.objects.for_workspace(workspace)
        .current()
        .filter(condition)
        .values_list("pk", flat=True)
    )


def expected(workspace, totals: Counter, operator: str, value: int) -> set[int]:
    people = Person.objects.for_workspace(workspace).current().values_list("pk", flat=True)
    test = {
        "at_least": lambda n: n >= value,
        "at_most": lambda n: n <= value,
        "exactly": lambda n: n == value,
    }[operator]
    return {pk for pk in people if test(totals[pk])}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_counts_and_conditions_equal_counting_the_events_under_any_delivery(data):
    sent = data.draw(behaviour_messages())
    workspace = deliver(data.draw(delivery(sent)))

    assert rollups_counted(workspace)["day"] == events_counted(workspace)["day"]
    name = data.draw(st.sampled_from(NAMES))
    days = data.draw(st.sampled_from([None, 1, 2, 3, 6]))
    operator = data.draw(st.sampled_from(["at_least", "at_most", "exactly"]))
    value = data.draw(st.integers(0, 3))
    # Both forms: the set form (counts) and the per-person one (pages) match the same people.
    per_person = data.draw(st.booleans())
    condition = dict(workspace_id=workspace.pk, name=name, days=days, now=NOW)
    condition["per_person"] = per_person

    totals = counted_per_person(workspace, name, days)
    got = matching(workspace, did_event(operator=operator, value=value, **condition))
    assert got == expected(workspace, totals, operator, value)
    assert matching(workspace, did_not_event(**condition)) == expected(
        workspace, totals, "exactly", 0
    )
    if days is not None:
        where = counted_per_person(
            workspace, name, days, where=lambda p: isinstance(p.get("amount"), int)
            and p["amount"] >= 50
        )  # fmt: skip
        got = matching(
            workspace,
            did_event_where(
                operator=operator, value=value, key="amount", key_operator="gte", key_value=50,
                **condition,
            ),
        )  # fmt: skip
        assert got == expected(workspace, where, operator, value)


def track(workspace, user: str, when: datetime, *, name="Order Completed", anonymous=None, **kw):
    ids = {"anonymous_id": user} if anonymous else {"user_id": user}
    return stored_message(workspace, "track", event=name, timestamp=when, **ids, **kw)


def test_a_redelivered_message_counts_once(workspace):
    when = datetime(2026, 11, 2, 10, tzinfo=UTC)
    message = track(workspace, "u-1", when)
    batch_process([message])
    batch_process([message, message])

    assert list(EventDayCount.objects.values_list("name", "day", "n")) == [
        ("Order Completed", when.date(), 1)
    ]


def test_only_track_events_are_counted_by_their_name(workspace):
    when = datetime(2026, 11, 2, 10, tzinfo=UTC)
    batch_process(
        [
            track(workspace, "u-1", when),
            stored_message(
                workspace, "page", user_id="u-1", name="Order Completed", timestamp=when
            ),
            stored_message(workspace, "screen", user_id="u-1", name="Home", timestamp=when),
            stored_message(workspace, "identify", user_id="u-1", timestamp=when),
        ]
    )
    assert list(EventDayCount.objects.values_list("name", "n")) == [("Order Completed", 1)]


def test_a_merged_person_counts_the_events_of_every_id(workspace):
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    batch_process(
        [track(workspace, "anon-1", now - timedelta(days=d), anonymous=True) for d in (1, 2)]
        + [track(workspace, "u-1", now - timedelta(days=3))]
    )
    condition = dict(workspace_id=workspace.pk, name="Order Completed", days=30, now=now)
    assert matching(workspace, did_event(operator="at_least", value=3, **condition)) == set()

    batch_process(
        [stored_message(workspace, "alias", previous_id="anon-1", user_id="u-1", timestamp=now)]
    )

    survivor = person_of(workspace, "u-1")
    assert matching(workspace, did_event(operator="at_least", value=3, **condition)) == {
        survivor.pk
    }
    assert matching(workspace, did_event(operator="exactly", value=3, **condition)) == {survivor.pk}
    assert rollups_counted(workspace) == events_counted(workspace)


def test_deleting_a_person_deletes_their_counts(workspace, owner):
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    batch_process(
        [
            track(workspace, "ada", now),
            track(workspace, "ada", now, name="Viewed"),
            track(workspace, "bob", now),
        ]
    )
    ada = person_of(workspace, "ada")

    owner_m = Membership.objects.get(user=owner, workspace=workspace)
    person_delete(workspace=workspace, person=ada, actor=owner_m)

    assert list(EventDayCount.objects.values_list("identity__value", "name")) == [
        ("bob", "Order Completed")
    ]
    assert rollups_counted(workspace) == events_counted(workspace)


def test_the_window_is_today_and_the_days_before_it_in_utc(workspace):
    # 01:30 on the 20th in UTC, still the 19th in New York: the window's days are UTC days.
    now = datetime(2026, 11, 19, 20, 30, tzinfo=timezone(timedelta(hours=-5)))
    first_day = datetime(2026, 11, 14, tzinfo=UTC)  # the 7 days are the 14th to the 20th
    batch_process(
        [
            track(workspace, "inside", first_day),
            track(workspace, "outside", first_day - timedelta(seconds=1)),
            track(workspace, "today", datetime(2026, 11, 20, 1, tzinfo=UTC)),
            track(workspace, "yesterday", datetime(2026, 11, 19, 23, tzinfo=UTC)),
        ]
    )
    people = {
        value: person_of(workspace, value).pk
        for value in ("inside", "outside", "today", "yesterday")
    }

    def who(days: int) -> set[str]:
        q = did_event(
            workspace_id=workspace.pk, name="Order Completed", operator="at_least", value=1,
            days=days, now=now,
        )  # fmt: skip
        found = matching(workspace, q)
        return {value for value, pk in people.items() if pk in found}

    assert who(7) == {"inside", "today", "yesterday"}
    assert who(1) == {"today"}
    assert who(2) == {"today", "yesterday"}
    assert who(8) == set(people)


@pytest.mark.parametrize("per_person", [False, True])
def test_at_most_and_exactly_zero_and_did_not_match_people_without_any_event(workspace, per_person):
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    batch_process(
        [
            stored_message(workspace, "identify", user_id="newcomer", timestamp=now),
            track(workspace, "once", now),
            track(workspace, "twice", now),
            track(workspace, "twice", now - timedelta(hours=1)),
            track(workspace, "long-ago", now - timedelta(days=40)),
        ]
    )
    pk = {v: person_of(workspace, v).pk for v in ("newcomer", "once", "twice", "long-ago")}
    condition = dict(
        workspace_id=workspace.pk, name="Order Completed", days=30, now=now, per_person=per_person
    )

    def who(q) -> set[str]:
        found = matching(workspace, q)
        return {value for value, p in pk.items() if p in found}

    assert who(did_event(operator="at_most", value=1, **condition)) == {
        "newcomer", "once", "long-ago"
    }  # fmt: skip
    assert who(did_event(operator="exactly", value=0, **condition)) == {"newcomer", "long-ago"}
    assert who(did_event(operator="exactly", value=2, **condition)) == {"twice"}
    assert who(did_event(operator="at_least", value=0, **condition)) == set(pk)
    # Newer than the window and never did it: they match "did not".
    assert who(did_not_event(**condition)) == {"newcomer", "long-ago"}
    assert who(did_event(**{**condition, "days": None}, operator="at_least", value=1)) == {
        "once", "twice", "long-ago"
    }  # fmt: skip
    assert who(did_not_event(**{**condition, "days": None})) == {"newcomer"}


def test_conditions_are_scoped_to_their_workspace(workspace, other_workspace):
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    batch_process([track(other_workspace, "u-1", now, properties={"amount": 5})])
    batch_process([track(workspace, "u-1", now - timedelta(days=60))])
    mine = person_of(workspace, "u-1")
    condition = dict(workspace_id=workspace.pk, name="Order Completed", days=30, now=now)

    assert matching(workspace, did_event(operator="at_least", value=1, **condition)) == set()
    where = did_event_where(
        operator="at_least", value=1, key="amount", key_operator="is_set", key_value=None,
        **condition,
    )  # fmt: skip
    assert matching(workspace, where) == set()
    assert matching(workspace, did_not_event(**condition)) == {mine.pk}


PROPERTIES = {
    "text": {"plan": "Pro Annual", "amount": 120, "gift": True},
    "lower": {"plan": "pro annual", "amount": 12.5, "gift": False},
    "string-number": {"plan": "Basic", "amount": "500"},
    "unicode": {"plan": "Spärck", "amount": None},
    "missing": {},
}


@pytest.mark.parametrize(
    ("key", "operator", "value", "who"),
    [
        ("plan", "equals", "PRO annual", {"text", "lower"}),
        ("plan", "not_equals", "pro annual", {"string-number", "unicode", "missing"}),
        ("plan", "contains", "annu", {"text", "lower"}),
        ("plan", "equals", "Spärck", {"unicode"}),
        ("amount", "gt", 12.5, {"text"}),
        ("amount", "gte", 12.5, {"text", "lower"}),
        ("amount", "lt", 120, {"lower"}),
        ("amount", "lte", 1000, {"text", "lower"}),  # a text "500" is no number
        ("amount", "equals", 120, {"text"}),
        ("amount", "equals", "500", {"string-number"}),
        ("gift", "equals", True, {"text"}),
        ("gift", "equals", False, {"lower"}),  # unset is not false
        ("amount", "is_set", None, {"text", "lower", "string-number"}),  # null is not set
        ("amount", "is_not_set", None, {"unicode", "missing"}),
    ],
)
def test_a_property_condition_counts_the_events_whose_property_meets_it(
    workspace, key, operator, value, who
):
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    batch_process(
        [track(workspace, user, now, properties=props) for user, props in PROPERTIES.items()]
        + [track(workspace, "text", now - timedelta(days=31), properties=PROPERTIES["text"])]
        + [track(workspace, "lower", now, name="Viewed", properties=PROPERTIES["text"])]
    )
    pk = {user: person_of(workspace, user).pk for user in PROPERTIES}

    q = did_event_where(
        workspace_id=workspace.pk, name="Order Completed", operator="at_least", value=1,
        days=30, now=now, key=key, key_operator=operator, key_value=value,
    )  # fmt: skip
    found = matching(workspace, q)

    assert {user for user, p in pk.items() if p in found} == who


@pytest.mark.parametrize(
    "bad",
    [
        {"days": None},
        {"days": 367},
        {"days": 0},
        {"operator": "more"},
        {"value": -1},
        {"key_operator": "starts_with"},
        {"key_operator": "gt", "key_value": "ten"},
    ],
)
def test_a_property_condition_needs_a_window_of_at_most_a_year_and_known_operators(bad):
    condition = dict(
        workspace_id=1, name="E", operator="at_least", value=1, days=366, now=NOW,
        key="k", key_operator="gt", key_value=1,
    )  # fmt: skip
    did_event_where(**condition)  # a year is fine
    with pytest.raises(ValueError):
        did_event_where(**{**condition, **bad})


def test_counts_read_one_statement_and_no_event(workspace, django_assert_num_queries):
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    batch_process([track(workspace, "u-1", now)])
    q = did_event(
        workspace_id=workspace.pk, name="Order Completed", operator="at_least", value=1,
        days=30, now=now,
    )  # fmt: skip
    people = Person.objects.for_workspace(workspace).filter(q)
    assert '"feed_event"' not in str(people.query)
    assert "feed_eventdaycount" in str(people.query)
    with django_assert_num_queries(1):
        assert len(people) == 1
