"""Two owners demoting each other at the same moment: one wins, the workspace keeps an owner."""

import threading

import pytest
from django.db import connection

from accounts import team
from accounts.models import Membership

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_owners_demoting_each_other_leave_one_owner(workspace, owner, django_user_model):
    first = Membership.objects.get(user=owner)
    user = django_user_model.objects.create_user(username="o2@example.com", email="o2@example.com")
    second = Membership.objects.create(user=user, workspace=workspace, role="owner")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor_id: int, target_id: int) -> None:
        # Each request loads rows of its own, as two real requests would.
        actor = Membership.objects.select_related("user", "workspace").get(pk=actor_id)
        target = Membership.objects.select_related("user", "workspace").get(pk=target_id)
        try:
            barrier.wait()
            team.member_role_change(actor=actor, target=target, role="member")
            outcomes.append("done")
        except team.LastOwner:
            outcomes.append("refused")
        except Exception as error:  # reported in the assertion, not lost in a thread
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first.pk, second.pk)),
        threading.Thread(target=demote, args=(second.pk, first.pk)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["done", "refused"]
    assert Membership.objects.filter(workspace=workspace, role="owner").count() == 1
