"""Batches of one workspace run at once (people/locking.py), and lose nothing doing so.

On PostgreSQL, with real threads each on its own connection:
- a batch with ids no open transaction holds commits while another batch's transaction is still
  open; a batch with an id (or a person) that transaction holds waits for it, then applies on
  top of it;
- two workers storing batches cut from one random message list, at the same time, end in the
  state one worker storing them in order gives (Hypothesis), and two workers hammering two ids
  of one person lose no update of that person.
"""

import random
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Workspace
from core.locks import STORING_NAMESPACE
from feed.models import Event
from ingest import store
from ingest.store import batch_process
from people.models import Identity, Person
from tests.factories import canonical_state, person_of, stored_message
from tests.people.streams import messages, overlapping_stream

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WAIT = 20  # seconds a thread may take; far more than any batch here needs


class Held:
    """A batch stored in a transaction that stays open until `release()`."""

    def __init__(self, batch: list[dict]) -> None:
        self.ready = threading.Event()
        self.go = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, args=(batch,))
        self.thread.start()
        assert self.ready.wait(WAIT), self.errors

    def _run(self, batch: list[dict]) -> None:
        try:
            with transaction.atomic():
                batch_process(batch)
                self.ready.set()
                self.go.wait(WAIT)
        except Exception as error:  # reported by the test, not lost in the thread
            self.errors.append(repr(error))
            self.ready.set()
        finally:
            connection.close()

    def release(self) -> None:
        self.go.set()
        self.thread.join(WAIT)
        assert not self.errors, self.errors


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[str]]:
    errors: list[str] = []

    def run() -> None:
        try:
            work()
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.mark.parametrize("ada_exists", [False, True], ids=["new-ids", "stored-ids"])
def test_a_batch_with_other_ids_commits_while_another_is_open_and_one_sharing_a_person_waits(
    ada_exists: bool,
) -> None:
    workspace = Workspace.objects.create(name="parallel")
    if ada_exists:
        batch_process(
            [
                stored_message(
                    workspace, "identify", user_id="ada", anonymous_id="anon-ada", minute=0
                )
            ]
        )
    # Ada's batch: her user id and, linked to it, her visitor id (one person).
    held = Held(
        [
            stored_message(workspace, "identify", user_id="ada", anonymous_id="anon-ada", minute=1),
            stored_message(workspace, "track", user_id="ada", event="Paid", minute=2),
        ]
    )
    try:
        # Other people, another hour (every batch of an hour adds to one counter row per event
        # type, last in its transaction: a batch of the same hour would wait only for that).
        other, other_errors = in_thread(
            lambda: batch_process(
                [
                    stored_message(
                        workspace, "identify", user_id="bob", traits={"plan": "pro"}, minute=90
                    ),
                    stored_message(
                        workspace, "track", anonymous_id="visitor", event="Read", minute=91
                    ),
                ]
            )
        )
        other.join(WAIT)
        assert not other.is_alive(), "a batch with other ids waited for an open batch"
        assert not other_errors, other_errors
        assert Event.objects.filter(workspace=workspace).count() == (3 if ada_exists else 2)
        # Ada's visitor id alone: another id of the person the open batch holds.
        same, same_errors = in_thread(
            lambda: batch_process(
                [stored_message(workspace, "page", anonymous_id="anon-ada", name="Home", minute=3)]
            )
        )
        same.join(1.5)
        assert same.is_alive(), "a batch on a person an open batch holds did not wait"
    finally:
        held.release()
        other.join(WAIT)  # so that a failure leaves no thread holding locks at teardown
    same.join(WAIT)
    assert not same.is_alive() and not same_errors, same_errors
    ada = person_of(workspace, "ada")
    assert ada == person_of(workspace, "anon-ada")
    assert ada.event_count == Event.objects.for_person(ada).count() == (4 if ada_exists else 3)
    assert person_of(workspace, "bob").traits == {"plan": "pro"}


def test_a_batch_carrying_a_segment_delete_has_the_workspace_alone() -> None:
    workspace = Workspace.objects.create(name="delete in a batch")
    batch_process(
        [stored_message(workspace, "identify", user_id="ada", anonymous_id="anon", minute=0)]
    )
    held = Held([stored_message(workspace, "track", user_id="ada", event="Paid", minute=1)])
    try:
        deleting, errors = in_thread(
            lambda: batch_process([stored_message(workspace, "delete", user_id="ada", minute=2)])
        )
        deleting.join(1.5)
        assert deleting.is_alive(), "a batch carrying a delete did not wait for an open batch"
        # And a batch arriving meanwhile, with other ids (and another hour: see above), waits
        # for the deletion in turn.
        later, later_errors = in_thread(
            lambda: batch_process([stored_message(workspace, "track", user_id="bob", minute=90)])
        )
        later.join(1.5)
        assert later.is_alive(), "a batch did not wait for a deletion waiting for the workspace"
    finally:
        held.release()
        deleting.join(WAIT)
        later.join(WAIT)
    assert not errors and not later_errors, errors + later_errors
    # The open batch landed wholly before the delete: nothing of Ada is left.
    assert not Identity.objects.filter(workspace=workspace, value__in=["ada", "anon"]).exists()
    assert not Person.objects.filter(workspace=workspace, identities__value="ada").exists()
    assert list(Event.objects.filter(workspace=workspace).values_list("type", flat=True)) == [
        "track"
    ]


def _waiting(condition: str, params: list) -> bool:
    """Whether some backend waits for a lock matching `condition` (on pg_locks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND {condition})", params
        )
        return cursor.fetchone()[0]


def _until(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_batch_that_keeps_colliding_on_a_message_id_stores_with_its_workspace_alone(
    monkeypatch,
) -> None:
    """Two workers handed the same messages collide on the unique messageId; a batch that
    collided ALONE_AFTER times waits for every open batch of its workspace before its dedupe
    read, so it cannot collide again. One collision counts as enough here."""
    monkeypatch.setattr(store, "ALONE_AFTER", 1)
    workspace = Workspace.objects.create(name="colliding")
    # Someone else's batch, another hour, still open: it shares nothing with ours.
    unrelated = Held([stored_message(workspace, "track", user_id="carol", event="Read", minute=90)])
    shared = stored_message(workspace, "track", user_id="dave", event="Paid", minute=1)
    holder = Held([shared])
    try:
        ours, errors = in_thread(
            lambda: batch_process(
                [shared, stored_message(workspace, "track", user_id="erin", event="Read", minute=2)]
            )
        )
        # Ours waits for the holder (its new id's key, or the messageId itself) ...
        assert _until(lambda: _waiting("TRUE", [])), "our batch did not wait for the holder"
        holder.release()
        # ... collides once it commits, and retries alone: it waits for the unrelated batch.
        assert _until(
            lambda: _waiting(
                "locktype = 'advisory' AND classid = %s AND objid = %s",
                [STORING_NAMESPACE, workspace.pk],
            )
        ), "the retry did not wait for the workspace's other open batch"
        assert ours.is_alive()
    finally:
        holder.release()
        unrelated.release()
        ours.join(WAIT)
    assert not errors, errors
    assert Event.objects.filter(workspace=workspace).count() == 3
    assert person_of(workspace, "dave").event_count == 1


def test_batches_creating_more_ids_than_they_may_lock_take_turns(settings) -> None:
    settings.INGEST_NEW_KEYS_LOCKED = 1
    workspace = Workspace.objects.create(name="many new ids")
    batch_process([stored_message(workspace, "identify", user_id="known", minute=0)])
    # Two new ids: more than it may lock one by one, so it locks the workspace's creation.
    held = Held(
        [stored_message(workspace, "identify", user_id="ada", anonymous_id="anon", minute=1)]
    )
    try:
        known, known_errors = in_thread(
            lambda: batch_process([stored_message(workspace, "track", user_id="known", minute=70)])
        )
        known.join(WAIT)
        assert not known.is_alive(), "a batch creating no id waited for the creation lock"
        creating, creating_errors = in_thread(
            lambda: batch_process([stored_message(workspace, "track", user_id="bob", minute=71)])
        )
        creating.join(1.5)
        assert creating.is_alive(), "a batch creating an id did not wait for the creation lock"
    finally:
        held.release()
        known.join(WAIT)
        creating.join(WAIT)
    assert not known_errors and not creating_errors, known_errors + creating_errors
    assert person_of(workspace, "ada") == person_of(workspace, "anon")
    assert person_of(workspace, "bob").event_count == 1


def test_overlapping_workers_agree_with_one_when_they_lock_creation_as_a_whole(settings) -> None:
    settings.INGEST_NEW_KEYS_LOCKED = 1
    together = Workspace.objects.create(name="two workers")
    alone = Workspace.objects.create(name="one worker")
    stream = overlapping_stream(0)
    rng = random.Random(14)
    streams = []
    for _ in range(2):
        shuffled = stream + rng.sample(stream, 40)
        rng.shuffle(shuffled)
        streams.append([shuffled[i : i + 12] for i in range(0, len(shuffled), 12)])
    _store_concurrently(together, streams)
    batch_process([{**m, "workspace_id": alone.pk} for m in stream])
    assert canonical_state(together) == canonical_state(alone)


def test_two_workers_on_two_ids_of_one_person_lose_no_update() -> None:
    workspace = Workspace.objects.create(name="one person, two ids")
    batch_process(
        [stored_message(workspace, "identify", user_id="ada", anonymous_id="anon", minute=0)]
    )
    rounds = 25
    barrier = threading.Barrier(2)

    def worker(key: str, value: str, offset: int) -> None:
        for n in range(rounds):
            # Both batches of a round start together; a later batch would recompute the person
            # from its ids and hide an update lost in an earlier round.
            barrier.wait(WAIT)
            minute = 2 * n + offset + 1
            batch_process(
                [
                    stored_message(workspace, "track", event="Step", minute=minute, **{key: value}),
                    stored_message(
                        workspace, "identify", traits={key: n}, minute=minute, **{key: value}
                    ),
                ]
            )

    threads = [
        in_thread(lambda: worker("user_id", "ada", 0)),
        in_thread(lambda: worker("anonymous_id", "anon", 1)),
    ]
    for thread, errors in threads:
        thread.join(120)
        assert not thread.is_alive() and not errors, errors
    ada = person_of(workspace, "ada")
    assert ada == person_of(workspace, "anon")
    assert ada.event_count == Event.objects.for_person(ada).count() == 1 + 4 * rounds
    assert ada.traits == {"user_id": rounds - 1, "anonymous_id": rounds - 1}
    assert ada.last_seen.minute == (2 * rounds) % 60


def _store_concurrently(workspace: Workspace, streams: list[list[list[dict]]]) -> None:
    barrier = threading.Barrier(len(streams))

    def worker(batches: list[list[dict]]) -> None:
        barrier.wait(WAIT)
        for batch in batches:
            batch_process([{**m, "workspace_id": workspace.pk} for m in batch])

    threads = [in_thread(lambda b=batches: worker(b)) for batches in streams]
    for thread, errors in threads:
        thread.join(120)
        assert not thread.is_alive() and not errors, errors


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_two_workers_storing_one_message_list_at_once_agree_with_one_worker(
    data: st.DataObject,
) -> None:
    sent = data.draw(messages())
    # Repeats land in either worker: the same messageId stored by both at once.
    repeats = data.draw(st.lists(st.sampled_from(sent), max_size=len(sent)))
    stream = data.draw(st.permutations(sent + repeats))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=8)))
    batches = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    batches = [b for b in batches if b]
    owner = data.draw(st.lists(st.integers(0, 1), min_size=len(batches), max_size=len(batches)))
    streams = [[b for b, o in zip(batches, owner, strict=True) if o == w] for w in (0, 1)]

    together = Workspace.objects.create(name="two workers")
    _store_concurrently(together, streams)
    alone = Workspace.objects.create(name="one worker")
    batch_process([{**m, "workspace_id": alone.pk} for m in sent])

    assert canonical_state(together) == canonical_state(alone)
    assert Event.objects.filter(workspace=together).count() == len(sent)
