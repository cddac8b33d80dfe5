"""Django admin shows people with their identities, read-only."""

import pytest
from django.contrib.auth import get_user_model

from ingest.store import batch_process
from people.models import Identity
from tests.factories import person_of, stored_message

pytestmark = pytest.mark.django_db


def test_admin_lists_people_and_shows_a_merged_person_with_its_ids(client, ws):
    admin = get_user_model().objects.create_superuser("root", "root@x.io", "pw-123456789")
    client.force_login(admin)
    batch_process(
        [
            stored_message(
                ws, "identify", user_id="u1", anonymous_id="a1", traits={"email": "a@x.io"}
            ),
            stored_message(ws, "alias", previous_id="old-id", user_id="u1", minute=1),
        ]
    )
    person = person_of(ws, "u1")
    change_url = f"/admin/people/person/{person.pk}/change/"
    # The search box echoes the query, so look for the result row: a link to the person.
    for query in ("a@x.io", "old-id", "a1"):
        listing = client.get("/admin/people/person/", {"q": query})
        assert listing.status_code == 200
        assert change_url.encode() in listing.content, query
    assert change_url.encode() not in client.get("/admin/people/person/?q=nobody").content
    page = client.get(change_url)
    assert page.status_code == 200
    # Each id as a row of the identities inline (its change link), not just somewhere on the page.
    for identity in Identity.objects.filter(value__in=["u1", "a1", "old-id"]):
        assert identity.person_id == person.pk
        assert f"/admin/people/identity/{identity.pk}/change/" in page.content.decode()
    assert Identity.objects.filter(person=person).count() == 3
    assert client.get("/admin/people/identity/").status_code == 200
    assert client.get("/admin/people/group/").status_code == 200
