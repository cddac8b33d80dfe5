"""The Status page: staff only, the pipeline in plain words, and "Store again" for dead letters."""

import re
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client

from feed.models import Event
from ingest import dead_letters, queue
from ingest.dead_letters import dead_letter_requeue
from ingest.models import DeadLetter, InboxBatch
from tests.factories import queued_message

pytestmark = pytest.mark.django_db


def test_only_staff_see_the_link_and_the_page(owner, workspace):
    owner_client = Client()
    owner_client.force_login(owner)
    assert "/status/" not in owner_client.get("/people/").content.decode()
    assert owner_client.get("/status/").status_code == 403
    assert owner_client.post("/status/dead-letters/1/store-again/").status_code == 403
    anonymous = Client()
    assert anonymous.get("/status/").status_code == 302  # to the login page
    assert anonymous.post("/status/dead-letters/1/store-again/").status_code == 302

    staff_client = Client()
    staff_client.force_login(
        get_user_model().objects.create_user("s@example.com", password="pw-s-123456", is_staff=True)
    )
    page = staff_client.get("/status/")
    assert page.status_code == 200
    assert 'id="status-link"' in page.content.decode()


def test_the_page_says_what_waits_and_why_letters_died(staff_client, embedded, issued):
    InboxBatch.objects.create(messages=[queued_message(issued.source, "ib-1")], rejections=[])
    DeadLetter.objects.create(
        messages=[queued_message(issued.source, "dl-1")],
        error="Traceback ...\nValueError: <b>bad</b> timestamp",
        attempts=2,
    )
    html = staff_client.get("/status/").content.decode()
    assert "No Redis is configured" in html
    assert "1 request waiting in the database inbox" in html
    assert re.search(r"The oldest waiting message arrived \d+ seconds ago", html)
    assert "ValueError: &lt;b&gt;bad&lt;/b&gt; timestamp" in html
    assert "<b>bad</b>" not in html
    assert "Store again" in html


@pytest.mark.services
def test_the_page_shows_the_redis_queue(staff_client, stream):
    html = staff_client.get("/status/").content.decode()
    assert "0 requests waiting in Redis" in html
    assert "Nothing is waiting" in html


def stored_again_once(staff_client, issued) -> None:
    dead_letters.dead_letter([queued_message(issued.source, "again-1")], error="boom", attempts=3)
    letter = DeadLetter.objects.get()

    response = staff_client.post(f"/status/dead-letters/{letter.pk}/store-again/")
    assert response.status_code == 302
    assert response["Location"] == "/status/"
    assert not DeadLetter.objects.exists()
    assert list(Event.objects.values_list("message_id", flat=True)) == ["again-1"]

    # A second click (or a message stored meanwhile) still gives one event.
    dead_letters.dead_letter([queued_message(issued.source, "again-1")], error="boom", attempts=3)
    second = DeadLetter.objects.get()
    staff_client.post(f"/status/dead-letters/{second.pk}/store-again/")
    staff_client.post(f"/status/dead-letters/{second.pk}/store-again/")
    assert Event.objects.filter(message_id="again-1").count() == 1
    assert not DeadLetter.objects.exists()
    page = staff_client.get("/status/").content.decode()
    assert "No dead letters" in page


@pytest.mark.django_db(transaction=True)  # the queue is drained after the requeue commits
def test_a_dead_letter_stored_again_becomes_one_event(staff_client, embedded, issued):
    stored_again_once(staff_client, issued)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_dead_letter_stored_again_through_redis_becomes_one_event(staff_client, stream, issued):
    stored_again_once(staff_client, issued)


def test_store_again_needs_post(staff_client, issued):
    dead_letters.dead_letter([queued_message(issued.source, "p-1")], error="boom", attempts=1)
    letter = DeadLetter.objects.get()
    assert staff_client.get(f"/status/dead-letters/{letter.pk}/store-again/").status_code == 405
    assert DeadLetter.objects.exists()


def letter_of_two(issued) -> DeadLetter:
    dead_letters.dead_letter(
        [queued_message(issued.source, "twice-1"), queued_message(issued.source, "twice-2")],
        error="boom",
        attempts=3,
    )
    return DeadLetter.objects.get()


def test_store_again_twice_queues_the_letter_once(staff_client, embedded, issued, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # nothing drains the inbox: its rows are counted
    letter = letter_of_two(issued)
    for _ in range(2):  # a double click, or two admins
        response = staff_client.post(f"/status/dead-letters/{letter.pk}/store-again/")
        assert response.status_code == 302
    assert [len(batch.messages) for batch in InboxBatch.objects.all()] == [2]
    assert not DeadLetter.objects.exists()


@pytest.mark.services
def test_store_again_twice_adds_one_stream_entry(staff_client, stream, issued, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # nothing drains: the entries stay in the stream
    stream.set(queue.drain_flag_key(), 1)  # and no request wakes a drainer
    letter = letter_of_two(issued)
    for _ in range(2):
        staff_client.post(f"/status/dead-letters/{letter.pk}/store-again/")
    assert stream.xlen(queue.stream_key()) == 1
    assert not InboxBatch.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_store_agains_at_once_queue_the_letter_once(embedded, issued, settings):
    """Two clicks in two web processes at the same moment: the second waits for the first and
    then finds nothing to queue. The first is held inside its transaction (the inbox is locked)
    until the second is waiting too."""
    if connection.vendor != "postgresql":
        pytest.skip("the row lock is PostgreSQL's (SQLite runs one writer at a time)")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    letter = letter_of_two(issued)
    queued: list[int] = []

    def click() -> None:
        try:
            queued.append(dead_letter_requeue(letter_id=letter.pk))
        finally:
            connections.close_all()

    clicks = [threading.Thread(target=click) for _ in range(2)]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {InboxBatch._meta.db_table} IN EXCLUSIVE MODE")
        for thread in clicks:
            thread.start()
        waiting_on_locks(2)
    for thread in clicks:
        thread.join()
    assert sorted(queued) == [0, 2]
    assert [len(batch.messages) for batch in InboxBatch.objects.all()] == [2]


def waiting_on_locks(count: int) -> None:
    """Until `count` other sessions of this database wait on a lock."""
    deadline = time.monotonic() + 60
    with connection.cursor() as cursor:
        while True:
            # Inside a transaction the statistics views are read once: read them afresh.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return
            assert time.monotonic() < deadline, "the clicks never reached their locks"
            time.sleep(0.05)


def test_a_dead_letter_that_keeps_only_an_excerpt_is_not_queued_from_the_status_page(
    staff_client,
):
    letter = DeadLetter.objects.create(
        messages=[{"minimal": True, "message_id": "gone", "excerpt": "{..."}], error="x", attempts=1
    )
    html = staff_client.get("/status/").content.decode()
    row = html[html.index(f'id="dead-letter-{letter.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Store again" not in row and "Only an excerpt is kept" in row

    response = staff_client.post(f"/status/dead-letters/{letter.pk}/store-again/", follow=True)
    assert "keeps only an excerpt" in response.content.decode()
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [letter.pk]
