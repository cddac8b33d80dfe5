"""Forgetting a person reaches the copies of their messages kept outside the feed: ingest's dead
letters (ingest/erasure.py) and the sources' logs of refused messages (people/deletion.py)."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEntry, Membership, RejectedMessage, Source, Workspace
from accounts.services import source_erasure_set, workspace_create
from ingest.dead_letters import dead_letter_minimal
from ingest.models import DeadLetter
from ingest.segment import excerpt
from ingest.store import batch_process
from people.deletion import person_delete
from tests.factories import person_of
from tests.factories import stored_message as message
from tests.http import post

pytestmark = pytest.mark.django_db


def letter(ws: Workspace, **ids: str) -> DeadLetter:
    return DeadLetter.objects.create(messages=[message(ws, "track", event="X", **ids)], error="E")


def rejection(source: Source, item: dict) -> RejectedMessage:
    return RejectedMessage.objects.create(
        source=source, received_at=datetime.now(UTC), reason="bad", excerpt=excerpt(item)
    )


def other_workspace() -> Workspace:
    user = get_user_model().objects.create_user(username="o@x.io", password="x" * 12)
    return workspace_create(name="Other", owner=user)


@pytest.fixture
def seeded(workspace, issued):
    """Ada (user id, anonymous id, and an old user id merged in by an alias) and Bob."""
    ws = workspace
    batch_process(
        [
            message(ws, "identify", user_id="ada", anonymous_id="anon-ada", minute=1),
            message(ws, "identify", user_id="ada-old", minute=2),
            message(ws, "identify", user_id="bob", minute=3),
        ]
    )
    batch_process([message(ws, "alias", previous_id="ada-old", user_id="ada", minute=4)])
    other = other_workspace()
    source = issued.source
    kept = {
        "bob": letter(ws, user_id="bob"),
        # Ada's ids, but in another workspace: someone else, who is not being forgotten.
        "elsewhere": letter(other, user_id="ada"),
        "bob-log": rejection(source, {"type": "track", "userId": "bob", "event": "x" * 9}),
        # An id that merely contains hers ("ada" in "adam"): not hers.
        "adam-log": rejection(source, {"type": "track", "userId": "adam"}),
        "elsewhere-log": rejection(
            Source.objects.create(workspace=other, name="Web"), {"userId": "ada"}
        ),
    }
    dead_letter_minimal({"workspace_id": other.pk, "userId": "ada"}, reason="boom")
    kept["elsewhere-minimal"] = DeadLetter.objects.latest("pk")
    dead_letter_minimal({"workspace_id": ws.pk, "userId": "bob"}, reason="boom")
    kept["bob-minimal"] = DeadLetter.objects.latest("pk")
    gone = {
        "user": letter(ws, user_id="ada"),
        "anonymous": letter(ws, anonymous_id="anon-ada"),
        "merged": letter(ws, user_id="ada-old"),
        "alias": letter(ws, previous_id="ada-old", user_id="someone-new"),
        "log": rejection(source, {"type": "identify", "userId": "ada", "traits": {"n": "Ada"}}),
        "anonymous-log": rejection(source, {"type": "page", "anonymousId": "anon-ada"}),
    }
    dead_letter_minimal({"workspace_id": ws.pk, "anonymousId": "anon-ada"}, reason="boom")
    gone["minimal"] = DeadLetter.objects.latest("pk")
    return kept, gone


def exists(row) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


def test_deleting_a_person_deletes_their_dead_letters_and_log_rows_only(workspace, owner, seeded):
    kept, gone = seeded
    actor = Membership.objects.get(user=owner, workspace=workspace)
    deleted = person_delete(workspace=workspace, person=person_of(workspace, "ada"), actor=actor)
    assert [name for name, row in gone.items() if exists(row)] == []
    assert [name for name, row in kept.items() if not exists(row)] == []
    assert (deleted.dead_letters, deleted.rejections) == (5, 2)
    detail = AuditEntry.objects.get(action=AuditEntry.Action.PERSON_DELETED).detail
    assert (detail["dead_letters"], detail["rejections"]) == (5, 2)


def test_a_segment_delete_deletes_their_dead_letters_and_log_rows(
    client, workspace, issued, embedded, seeded
):
    kept, gone = seeded
    source_erasure_set(source=issued.source, allowed=True)
    body = {"type": "delete", "userId": "ada", "messageId": "del-ada"}
    assert post(client, "/v1/batch", body, token=issued.token).status_code == 200
    assert [name for name, row in gone.items() if exists(row)] == []
    assert [name for name, row in kept.items() if not exists(row)] == []
    detail = AuditEntry.objects.get(action=AuditEntry.Action.PERSON_DELETED).detail
    assert (detail["dead_letters"], detail["rejections"]) == (5, 2)


NUMBER = 987654321


def test_deleting_a_person_deletes_their_rejected_messages_sent_with_numeric_ids(
    client, workspace, owner, issued, embedded
):
    """Segment ids may be numbers; the identity rules make 987654321 the id "987654321", so the
    log rows that show it as a number are that person's too (and only those)."""
    batch = [
        {"type": "identify", "userId": NUMBER, "messageId": "n-1", "traits": {"plan": "pro"}},
        {"type": "track", "userId": NUMBER, "messageId": "n-2"},  # refused: no event name
        {"type": "track", "anonymousId": NUMBER, "messageId": "n-3", "event": 7},  # refused
        {"type": "track", "previousId": NUMBER, "userId": "x", "event": ["no"]},  # refused
        # Not theirs: a longer number, a number elsewhere than an id, and a number-like string
        # the log shows quoted under another key.
        {"type": "track", "userId": NUMBER * 10, "messageId": "n-4"},
        {"type": "track", "userId": "bob", "messageId": "n-5", "properties": {"n": NUMBER}},
        {"type": "track", "userId": 12, "messageId": "n-6", "properties": {"n": NUMBER}},
    ]
    response = post(client, "/v1/batch", {"batch": batch}, token=issued.token)
    assert len(response.json()["rejected"]) == 6
    theirs = set(RejectedMessage.objects.filter(index__in=[1, 2, 3]).values_list("pk", flat=True))
    actor = Membership.objects.get(user=owner, workspace=workspace)
    person = person_of(workspace, str(NUMBER))
    deleted = person_delete(workspace=workspace, person=person, actor=actor)
    assert not RejectedMessage.objects.filter(pk__in=theirs).exists()
    assert sorted(RejectedMessage.objects.values_list("index", flat=True)) == [4, 5, 6]
    assert deleted.rejections == 3


def test_a_minimal_dead_letter_with_a_numeric_id_is_forgotten(workspace, owner, issued):
    batch_process([message(workspace, "identify", user_id=str(NUMBER))])
    dead_letter_minimal({"workspace_id": workspace.pk, "userId": NUMBER}, reason="boom")
    theirs = DeadLetter.objects.latest("pk")
    dead_letter_minimal({"workspace_id": workspace.pk, "userId": NUMBER * 10}, reason="boom")
    other = DeadLetter.objects.latest("pk")
    actor = Membership.objects.get(user=owner, workspace=workspace)
    person_delete(workspace=workspace, person=person_of(workspace, str(NUMBER)), actor=actor)
    assert not exists(theirs) and exists(other)
