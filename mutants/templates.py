"""Mutants in templates/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant
from mutants.guards import INVITATIONS

MUTANTS: list[Mutant] = [
    # --- Issue 16: the Feed's swaps in the browser -----------------------------------------------
    mutant(
        "swap-live-only-after-settle",
        "a control htmx swaps in is live the moment it is drawn (no settle timer in between)",
        "templates/base.html",
        '"defaultSettleDelay": 0}',
        '"defaultSettleDelay": 20}',
        "tests/e2e/test_feed.py::test_a_control_swapped_in_is_live_the_moment_it_is_drawn",
    ),
    mutant(
        "stale-poll-swapped-in",
        "a poll still on the way when the whole Feed list is swapped does not replace its poller",
        "static/feed.js",
        'htmx.trigger(asker, "htmx:abort");',
        "void asker;",
        "tests/e2e/test_feed.py::test_a_poll_still_on_the_way_when_the_list_is_swapped_changes_nothing",
    ),
    mutant(
        "invitation-mail-name-unquoted",
        "the invitation mail shows the workspace's name as quoted data, links defanged",
        "templates/accounts/invitation_email.txt",
        "{{ invitation.workspace.name|as_data }}",
        "{{ invitation.workspace.name }}",
        INVITATIONS,
    ),
    mutant(
        "person-ids-limit-not-shown",
        "the person page says the person reached the id limit and how many ids were not linked",
        "templates/people/person_detail.html",
        "{% if person.ids_unlinked %}",
        "{% if False %}",
        "tests/people/test_id_limit.py::test_the_person_page_says_the_limit_was_reached",
    ),
]
