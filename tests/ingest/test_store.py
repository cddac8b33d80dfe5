"""ingest/store.py (and the drain around it): storing batches on the real database."""

import uuid

import pytest
from django.db import DataError, IntegrityError, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from psycopg import errors as psycopg_errors

from accounts.models import RejectedMessage, Source
from accounts.services import source_create, workspace_create
from core.locks import LOCK_NAMESPACE, STORING_NAMESPACE
from core.messages import Message
from feed.models import Event
from ingest import drain, store
from ingest.models import DeadLetter, InboxBatch
from ingest.older_records import NESTING_CHECKED, older_message_add
from ingest.queue import Records
from ingest.segment import MAX_NESTING, too_deep
from ingest.source_counts import sources_count_accepted
from tests.factories import RECEIVED, stored
from tests.factories import parsed_message as typed
from tests.factories import queued_message as message

pytestmark = pytest.mark.django_db


def read(*values: Message | dict) -> Records:
    """What the queue's reader hands over: Messages as they are, dicts through older_records."""
    records = Records()
    for value in values:
        if isinstance(value, Message):
            records.messages.append(value)
        else:
            older_message_add(records, value)
    return records


def records_store(records: Records) -> None:
    """What a drain does with what it read, before acknowledging it."""
    for messages, rejections in drain.batches(records):
        store.batch_store(messages, rejections)
    drain.unstorable_dead_letter(records)


def test_a_poison_message_is_dead_lettered_and_the_rest_of_its_batch_stored(issued, monkeypatch):
    poison = {**message(issued.source, "poison"), "timestamp": "not a time"}
    records = read(message(issued.source, "a"), poison, typed(issued.source, "b"))
    batches: list[list[str]] = []
    real_workspace_write = store.workspace_write

    def workspace_write(workspace_id, messages):
        batches.append([m.message_id for m in messages])
        return real_workspace_write(workspace_id, messages)

    monkeypatch.setattr(store, "workspace_write", workspace_write)
    records_store(records)

    assert stored() == ["a", "b"]
    letter = DeadLetter.objects.get()
    assert [m["message_id"] for m in letter.messages] == ["poison"]
    assert "not a time" in letter.error
    assert Source.objects.get(pk=issued.source.pk).accepted_count == 2
    # Found undecodable as it is read: the others are still stored as one batch.
    assert batches == [["a", "b"]]


def test_rejections_become_the_source_log_and_count(issued):
    rejection = {
        "source_id": issued.source.pk,
        "received_at": RECEIVED.isoformat(),
        "index": 3,
        "reason": "track needs an event name",
        "excerpt": "{}",
    }
    records_store(Records(rejections=[rejection, {**rejection, "index": 4}]))
    assert Source.objects.get(pk=issued.source.pk).rejected_count == 2
    assert sorted(RejectedMessage.objects.values_list("index", flat=True)) == [3, 4]


def test_counts_and_last_received_are_one_update_per_source(issued, django_assert_num_queries):
    second = source_create(workspace=issued.source.workspace, name="Second").source
    messages = [typed(issued.source, f"m{n}") for n in range(50)]
    messages += [typed(second, f"s{n}") for n in range(3)]
    # One UPDATE per source, whatever the number of messages, and one upsert of the hourly
    # rollup for all of them (accounts/activity.py).
    with django_assert_num_queries(3) as queries:
        sources_count_accepted(messages)
    sqls = [q["sql"] for q in queries.captured_queries]
    assert sqls[0].startswith("INSERT") and "ON CONFLICT" in sqls[0]
    assert all(sql.startswith("UPDATE") for sql in sqls[1:])
    counts = dict(Source.objects.values_list("pk", "accepted_count"))
    assert (counts[issued.source.pk], counts[second.pk]) == (50, 3)
    assert Source.objects.get(pk=issued.source.pk).last_received_at == RECEIVED


def test_messages_of_a_deleted_workspace_or_source_do_not_sink_the_batch(issued, owner):
    other = workspace_create(name="Gone", owner=owner)
    doomed = source_create(workspace=other, name="S").source
    gone_message = typed(doomed, "gone")
    orphan_source = source_create(workspace=issued.source.workspace, name="Old").source
    orphan = typed(orphan_source, "orphan")
    older_orphan = message(orphan_source, "older-orphan")
    other.delete()
    orphan_source.delete()

    records_store(read(typed(issued.source, "kept"), gone_message, orphan, older_orphan))
    assert stored() == ["kept", "older-orphan", "orphan"]
    assert Event.objects.get(message_id="older-orphan").source_id is None
    assert Event.objects.get(message_id="orphan").source_id is None
    assert DeadLetter.objects.count() == 0


def test_the_inbox_is_drained_oldest_first_and_emptied(issued):
    for n in range(3):
        InboxBatch.objects.create(messages=[message(issued.source, f"i{n}")], rejections=[])
    stored_count, more = drain.inbox_drain(deadline=float("inf"))
    assert (stored_count, more) == (3, False)
    assert stored() == ["i0", "i1", "i2"]
    assert InboxBatch.objects.count() == 0


def test_a_poison_message_in_the_inbox_does_not_block_it(issued):
    poison = {**message(issued.source, "poison"), "timestamp": "not a time"}
    InboxBatch.objects.create(messages=[poison, message(issued.source, "fine")], rejections=[])
    drain.inbox_drain(deadline=float("inf"))
    assert stored() == ["fine"]
    assert InboxBatch.objects.count() == 0
    assert DeadLetter.objects.count() == 1


def test_the_rejection_log_keeps_only_the_newest(issued, settings):
    settings.INGEST_REJECTIONS_KEPT = 3
    rejections = [
        {
            "source_id": issued.source.pk,
            "received_at": RECEIVED.isoformat(),
            "index": n,
            "reason": "bad",
            "excerpt": "",
        }
        for n in range(5)
    ]
    records_store(Records(rejections=rejections[:2]))
    records_store(Records(rejections=rejections[2:]))
    assert sorted(RejectedMessage.objects.values_list("index", flat=True)) == [2, 3, 4]
    assert Source.objects.get(pk=issued.source.pk).rejected_count == 5


FAULTS = [
    lambda: ValueError("bad value"),
    lambda: KeyError("missing"),
    lambda: TypeError("wrong type"),
    lambda: RecursionError("maximum recursion depth exceeded"),
    lambda: UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    lambda: DataError("invalid byte sequence"),
    lambda: IntegrityError("duplicate key"),
    # Raised while the database still answers: the data's fault, not an outage.
    lambda: OperationalError("stack depth limit exceeded"),
    lambda: RuntimeError("anything at all"),
]


def subset(values: set[str]) -> st.SearchStrategy[set[str]]:
    return st.sets(st.sampled_from(sorted(values))) if values else st.just(set())


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_failure_storing_or_dead_lettering_a_message_leaves_every_other_one_stored(
    issued, data
):
    prefix = uuid.uuid4().hex[:8]
    count = data.draw(st.integers(min_value=1, max_value=8), label="messages")
    ids = [f"{prefix}-{n}" for n in range(count)]
    poisoned = data.draw(st.sets(st.sampled_from(ids)), label="store fails")
    letter_fails = data.draw(subset(poisoned), label="dead letter fails")
    all_fails = data.draw(subset(letter_fails), label="minimal record fails too")
    fault = data.draw(st.sampled_from(FAULTS), label="fault")
    rows = data.draw(st.integers(min_value=1, max_value=3), label="inbox rows")

    real_workspace_write = store.workspace_write
    real_create = DeadLetter.objects.create

    def workspace_write(workspace_id, messages):
        if any(m.message_id in poisoned for m in messages):
            raise fault()
        return real_workspace_write(workspace_id, messages)

    def dead_letter_create(*, messages, **kwargs):
        minimal = all(m.get("minimal") for m in messages)
        failing = all_fails if minimal else letter_fails
        if any(m.get("message_id") in failing for m in messages):
            raise fault()
        return real_create(messages=messages, **kwargs)

    messages = [message(issued.source, message_id) for message_id in ids]
    for n in range(rows):
        InboxBatch.objects.create(messages=messages[n::rows], rejections=[])
    # Undone after each example (the monkeypatch fixture would only undo after the last one).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "workspace_write", workspace_write)
        patch.setattr(DeadLetter.objects, "create", dead_letter_create)
        drain.inbox_drain(deadline=float("inf"))

    assert InboxBatch.objects.count() == 0
    kept = set(
        Event.objects.filter(message_id__startswith=prefix).values_list("message_id", flat=True)
    )
    assert kept == set(ids) - poisoned
    letters = [m for letter in DeadLetter.objects.all() for m in letter.messages]
    full = {m["message_id"] for m in letters if not m.get("minimal")}
    minimal = {m["message_id"] for m in letters if m.get("minimal")}
    assert poisoned - letter_fails <= full
    assert letter_fails - all_fails <= minimal


@pytest.mark.parametrize("form", [message, typed], ids=["older record", "envelope"])
def test_a_message_that_defeats_every_json_encoder_leaves_a_minimal_dead_letter(issued, form):
    deep: list = []
    inner = deep
    for _ in range(5000):  # deeper than Python's recursion limit: no encoder gets through it
        inner.append([])
        inner = inner[0]
    # Forged: a shallow raw message (or an envelope that says it was checked), so only storing
    # it finds the depth.
    forged = form(issued.source, "forged", properties={"deep": deep})
    if isinstance(forged, dict):
        forged["raw"] = {}
    records_store(read(form(issued.source, "a"), forged, form(issued.source, "b")))

    assert stored() == ["a", "b"]
    record = DeadLetter.objects.get().messages[0]
    assert record["minimal"] is True
    assert (record["message_id"], record["source_id"]) == ("forged", issued.source.pk)
    assert record["excerpt"]


def _deleted_after_the_ownership_check(monkeypatch, owner) -> dict:
    """A message of a workspace deleted after `_still_owned` read it (a race made certain): its
    rows violate foreign keys, which PostgreSQL checks at the end of the transaction."""
    doomed = source_create(workspace=workspace_create(name="Doomed", owner=owner), name="S").source
    raced = typed(doomed, "raced", userId="u-raced")
    doomed.workspace.delete()
    monkeypatch.setattr(store, "_still_owned", lambda messages: messages)
    return raced


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_foreign_key_violation_found_at_commit_fails_only_its_batch(issued, owner, monkeypatch):
    # The batch's own transaction: no check before COMMIT, the violation surfaces there and the
    # batch is stored one message at a time.
    raced = _deleted_after_the_ownership_check(monkeypatch, owner)
    records_store(read(typed(issued.source, "kept"), raced))
    assert stored() == ["kept"]
    letter = DeadLetter.objects.get()
    assert [m["message_id"] for m in letter.messages] == ["raced"]
    assert "foreign key" in letter.error


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_foreign_key_violation_in_the_inbox_fails_only_its_batch(issued, owner, monkeypatch):
    # Inside the inbox's transaction the batch checks its foreign keys itself: otherwise the
    # violation would fail the inbox's COMMIT, every time, and nothing behind it would drain.
    raced = _deleted_after_the_ownership_check(monkeypatch, owner)
    InboxBatch.objects.create(
        messages=[message(issued.source, "kept"), raced.as_dict()], rejections=[]
    )
    drain.inbox_drain(deadline=float("inf"))
    assert stored() == ["kept"]
    assert InboxBatch.objects.count() == 0
    assert [m["message_id"] for m in DeadLetter.objects.get().messages] == ["raced"]


def _nested_properties(source: Source, message_id: str, depth: int) -> dict:
    """A queued message whose raw JSON nests `depth` levels (the message itself is level 1)."""
    deep: dict = {}
    inner = deep
    for _ in range(depth - 2):
        inner["d"] = {}
        inner = inner["d"]
    queued = message(source, message_id, properties=deep)
    assert too_deep(queued["raw"]) == (depth > MAX_NESTING)
    return queued


def test_the_worker_walks_only_messages_the_edge_did_not_mark_as_depth_checked(issued):
    # One level past the limit: harmless to store, so what decides is whether it is walked.
    over = MAX_NESTING + 1
    marked = {**_nested_properties(issued.source, "marked", over), NESTING_CHECKED: MAX_NESTING}
    older = _nested_properties(issued.source, "older", over)
    looser = {**_nested_properties(issued.source, "looser", over), NESTING_CHECKED: over}
    forged = {**_nested_properties(issued.source, "forged", over), NESTING_CHECKED: True}

    records_store(read(marked, older, looser, forged))

    # Trusted: the edge checked it. Unmarked (an older server), checked at a looser limit, or
    # marked with something that is not a limit: walked here and refused.
    assert stored() == ["marked"]
    assert RejectedMessage.objects.filter(source=issued.source).count() == 3


# Past 64 bits: orjson reads such a number back as a float, 184467440737095516160 as 1.8e20.
BIG = 10 * 2**64
# 310 digits: past the largest float, so a float reader gives infinity (orjson refuses it).
HUGE = 10**309 + 7


def _identify(source: Source, message_id: str, **traits) -> Message:
    return typed(source, message_id, type="identify", userId="u-big", traits=traits)


def _person_traits(issued) -> dict:
    from people.models import Person

    return Person.objects.get(workspace=issued.source.workspace, merged_into=None).traits


# Alone in their document: the reader decides per document whether any number needs it to be
# exact. 2**64 is the shortest (20 digits) that 64 bits cannot hold.
@pytest.mark.parametrize("big", [2**64, BIG, -(2**64) - 1], ids=["2**64", "10*2**64", "-2**64-1"])
def test_big_integer_traits_keep_their_digits_when_a_later_batch_reads_them_back(issued, big):
    records_store(read(_identify(issued.source, "one", account=big)))
    assert _person_traits(issued) == {"account": big}
    # The second batch reads the identity's stored traits back to merge the new one in.
    records_store(read(_identify(issued.source, "two", plan="pro")))
    assert _person_traits(issued) == {"account": big, "plan": "pro"}
    assert not DeadLetter.objects.exists()


def test_a_310_digit_trait_does_not_dead_letter_the_users_later_messages(issued):
    records_store(read(_identify(issued.source, "one", huge=HUGE)))
    records_store(
        read(_identify(issued.source, "two", plan="pro"), typed(issued.source, "t", userId="u-big"))
    )
    assert list(DeadLetter.objects.values_list("error", flat=True)) == []
    assert stored() == ["one", "t", "two"]
    assert _person_traits(issued) == {"huge": HUGE, "plan": "pro"}


def _identify_body(message_id: str, number_text: str) -> bytes:
    head = f'{{"type": "identify", "userId": "u-big", "messageId": "{message_id}", "traits": '
    return (head + '{"n": ' + number_text + "}}").encode()


def test_integers_up_to_4300_digits_are_stored_exactly_and_a_longer_one_refuses_its_message(
    client, token, embedded
):
    from tests.http import post

    # Python reads integers of up to 4,300 digits (sys.int_info.str_digits_check_threshold
    # guards the quadratic conversion); the edge stores those exactly, end to end.
    longest = 10**4299 + 1
    for message_id, number in [("huge", HUGE), ("longest", longest)]:
        body = _identify_body(message_id, str(number))
        assert post(client, "/v1/identify", None, raw=body, token=token).status_code == 200
        assert _person_traits_of("u-big")["n"] == number
    # Past that the message is refused alone, with a reason that says why; its neighbours in the
    # batch are stored, and the user's later messages are not held back by it.
    response = post(client, "/v1/identify", None, raw=_identify_body("x", "9" * 5000), token=token)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_message"
    assert "4300 digits" in response.json()["rejected"][0]["reason"]
    batch = (
        b'{"batch": [{"type": "track", "userId": "u-big", "event": "Before", "messageId": "b"},'
        b' {"type": "identify", "userId": "u-big", "messageId": "y", "traits": {"n": '
        + b"9" * 5000
        + b'}}, {"type": "track", "userId": "u-big", "event": "After", "messageId": "a"}]}'
    )
    response = post(client, "/v1/batch", None, raw=batch, token=token)
    assert response.status_code == 200, response.content
    [rejected] = response.json()["rejected"]
    assert rejected["index"] == 1 and "4300 digits" in rejected["reason"]
    assert {"b", "a"} <= set(stored()) and "y" not in stored()
    later = _identify_body("later", '"after"')
    assert post(client, "/v1/identify", None, raw=later, token=token).status_code == 200
    assert stored() == ["a", "b", "huge", "later", "longest"]
    assert _person_traits_of("u-big") == {"n": "after"}
    assert not DeadLetter.objects.exists()


def _person_traits_of(user_id: str) -> dict:
    from people.models import Identity

    return Identity.objects.get(value=user_id).person.traits


# --- The one retry loop (store.attempts, store.conflicted) ---------------------------------------


def _conflict(kind: type[Exception]) -> OperationalError:
    """A conflict as Django raises it: a wrapper around psycopg's error, with the sqlstate."""
    try:
        raise OperationalError("conflict") from kind("conflict")
    except OperationalError as error:
        return error


@pytest.mark.parametrize(
    "kind",
    [psycopg_errors.DeadlockDetected, psycopg_errors.SerializationFailure],
    ids=["deadlock victim", "serialization failure"],
)
def test_a_batch_that_loses_a_conflict_is_retried_whole_and_stored_once(issued, monkeypatch, kind):
    # The conflict comes after the batch wrote its events: the retry starts from a rollback.
    calls: list[list[str]] = []
    real_workspace_write = store.workspace_write

    def workspace_write(workspace_id, messages):
        calls.append([m.message_id for m in messages])
        written = real_workspace_write(workspace_id, messages)
        if len(calls) == 1:
            raise _conflict(kind)
        return written

    monkeypatch.setattr(store, "workspace_write", workspace_write)
    store.batch_store([typed(issued.source, "a"), typed(issued.source, "b")], [])
    assert calls == [["a", "b"], ["a", "b"]]
    assert stored() == ["a", "b"]
    assert Source.objects.get(pk=issued.source.pk).accepted_count == 2
    assert not DeadLetter.objects.exists()


def test_a_batch_that_keeps_conflicting_gives_up_after_the_attempts_and_dead_letters(
    issued, monkeypatch
):
    tries: list[str] = []

    def workspace_write(workspace_id, messages):
        tries.append(",".join(m.message_id for m in messages))
        raise _conflict(psycopg_errors.DeadlockDetected)

    monkeypatch.setattr(store, "workspace_write", workspace_write)
    store.batch_store([typed(issued.source, "a"), typed(issued.source, "b")], [])
    # The whole batch ATTEMPTS times, then each message as many: no retry loop inside another.
    assert tries == ["a,b"] * store.ATTEMPTS + ["a"] * store.ATTEMPTS + ["b"] * store.ATTEMPTS
    letters = [letter.messages[0]["message_id"] for letter in DeadLetter.objects.order_by("pk")]
    assert letters == ["a", "b"]
    assert stored() == []


def test_only_write_conflicts_are_retried(issued):
    assert store.conflicted(_conflict(psycopg_errors.DeadlockDetected))
    assert store.conflicted(_conflict(psycopg_errors.SerializationFailure))
    assert store.conflicted(_conflict(psycopg_errors.UniqueViolation))
    assert not store.conflicted(_conflict(psycopg_errors.ForeignKeyViolation))
    assert not store.conflicted(OperationalError("stack depth limit exceeded"))
    assert not store.conflicted(IntegrityError("duplicate key"))


def test_a_poison_message_is_dead_lettered_alone_without_a_retry(issued, monkeypatch):
    tries: list[list[str]] = []
    real_workspace_write = store.workspace_write

    def workspace_write(workspace_id, messages):
        tries.append([m.message_id for m in messages])
        if any(m.message_id == "poison" for m in messages):
            raise ValueError("poison")
        return real_workspace_write(workspace_id, messages)

    monkeypatch.setattr(store, "workspace_write", workspace_write)
    batch = [typed(issued.source, "a"), typed(issued.source, "poison"), typed(issued.source, "b")]
    store.batch_store(batch, [])
    assert tries == [["a", "poison", "b"], ["a"], ["poison"], ["b"]]
    assert stored() == ["a", "b"]
    letter = DeadLetter.objects.get()
    assert [m["message_id"] for m in letter.messages] == ["poison"]
    assert letter.attempts == 2


@pytest.mark.services
def test_a_batch_asks_for_its_workspace_locks_once(issued, owner):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: no locks to take")
    other = source_create(workspace=workspace_create(name="Other", owner=owner), name="S").source
    batch = [typed(issued.source, f"a{n}") for n in range(3)]
    batch += [typed(other, f"o{n}", userId=f"o{n}") for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        store.batch_store(batch, [])
    asked = [q["sql"] for q in queries.captured_queries if str(LOCK_NAMESPACE) in q["sql"]]
    assert len(asked) == 1, asked
    # Both workspaces in that one statement, in order, each with its storing lock.
    assert asked[0].count(str(STORING_NAMESPACE)) == 2
    assert stored() == sorted(m.message_id for m in batch)
