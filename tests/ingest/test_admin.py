"""Dead letters and inbox batches in Django admin: visible, and storable again."""

import pytest
from django.contrib.auth import get_user_model

from feed.models import Event
from ingest.models import DeadLetter, InboxBatch
from tests.factories import queued_message as message

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("root@example.com", "root@example.com", "pw")
    client.force_login(admin)
    return client


def test_dead_letters_show_their_error_and_can_be_stored_again(
    admin_client, issued, embedded, django_capture_on_commit_callbacks
):
    letter = DeadLetter.objects.create(
        messages=[message(issued.source, "dl-1")],
        error="Traceback ...\nValueError: <b>bad</b> timestamp",
        attempts=2,
    )
    page = admin_client.get("/admin/ingest/deadletter/").content.decode()
    assert "ValueError: &lt;b&gt;bad&lt;/b&gt; timestamp" in page

    # Queued again like the Status page's "Store again"; the embedded default drains on commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/ingest/deadletter/",
            {"action": "retry_dead_letters", "_selected_action": [letter.pk]},
        )
    assert response.status_code == 302
    assert list(Event.objects.values_list("message_id", flat=True)) == ["dl-1"]
    assert not DeadLetter.objects.exists()
    assert (
        "1 messages queued to be stored again."
        in admin_client.get(response["Location"]).content.decode()
    )


def test_a_dead_letter_of_only_an_excerpt_is_kept(
    admin_client, issued, embedded, django_capture_on_commit_callbacks
):
    minimal = DeadLetter.objects.create(
        messages=[{"minimal": True, "message_id": "gone", "excerpt": "{..."}], error="x", attempts=1
    )
    whole = DeadLetter.objects.create(messages=[message(issued.source, "dl-2")], error="x")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/ingest/deadletter/",
            {"action": "retry_dead_letters", "_selected_action": [minimal.pk, whole.pk]},
        )
    assert list(Event.objects.values_list("message_id", flat=True)) == ["dl-2"]
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [minimal.pk]
    page = admin_client.get(response["Location"]).content.decode()
    assert "1 dead letters hold only an excerpt and were kept." in page


def test_inbox_batches_are_listed(admin_client, issued):
    batch = InboxBatch.objects.create(messages=[message(issued.source, "ib-1")], rejections=[])
    page = admin_client.get("/admin/ingest/inboxbatch/")
    assert page.status_code == 200
    # The row itself (the page title says "inbox batches" with or without rows).
    html = page.content.decode()
    assert f'href="/admin/ingest/inboxbatch/{batch.pk}/change/"' in html
    assert '<td class="field-message_count">1</td>' in html
    assert (
        "ib-1" in admin_client.get(f"/admin/ingest/inboxbatch/{batch.pk}/change/").content.decode()
    )
