"""Django admin shows people with their identities, read-only."""

import pytest
from django.contrib.auth import get_user_model

from ingest.services import batch_process
from tests.people.conftest import message, person_of

pytestmark = pytest.mark.django_db


def test_admin_lists_people_and_shows_a_merged_person_with_its_ids(client, ws):
    admin = get_user_model().objects.create_superuser("root", "root@x.io", "pw-123456789")
    client.force_login(admin)
    batch_process(
        [
            message(ws, "identify", user_id="u1", anonymous_id="a1", traits={"email": "a@x.io"}),
            message(ws, "alias", previous_id="old-id", user_id="u1", minute=1),
        ]
    )
    person = person_of(ws, "u1")
    listing = client.get("/admin/people/person/?q=a@x.io")
    assert listing.status_code == 200 and b"a@x.io" in listing.content
    page = client.get(f"/admin/people/person/{person.pk}/change/")
    assert page.status_code == 200
    for value in (b"u1", b"a1", b"old-id"):
        assert value in page.content
    assert client.get("/admin/people/identity/").status_code == 200
    assert client.get("/admin/people/group/").status_code == 200
