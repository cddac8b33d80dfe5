"""Named breaks of Windsor's promises, each of which the test suite must catch.

Each mutant is one deliberate break: a file, the exact code to replace, its replacement, and the
tests that guard the promise it breaks. For each, this script copies the repository (the files
git knows, as they are on disk) to a temporary directory, applies that one patch, and runs those
tests there. A mutant the tests do not notice *survives*: the promise is unguarded.

    .venv/bin/python scripts/mutants.py            # every mutant
    .venv/bin/python scripts/mutants.py --list     # names and promises
    .venv/bin/python scripts/mutants.py --only token-hash-from-prefix person-for-page-unscoped
    .venv/bin/python scripts/mutants.py --half today    # CI: a rotating half (day-of-year parity)

Exit status: 0 when every mutant is killed, 1 when one survives, 2 when the check itself cannot
run (a snippet not found exactly once, guard tests that fail without any patch, a pytest error).
A snippet that moved in a refactor must be updated here; it is never skipped.

Each run gets a database of its own (DATABASE_URL's name + `_mutant<n>`, so pytest-django makes
`test_<name>_mutant<n>`, which a Celery worker started by the tests uses too). The guards run on
the embedded ingest path and touch no Redis; a guard that starts a Celery worker flushes the
broker's Redis database, so keep `--jobs 1` (the default) if one is added.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    promise: str
    path: str
    # (exact snippet, replacement) pairs, all in `path`; each snippet must occur exactly once.
    edits: tuple[tuple[str, str], ...]
    # pytest arguments: test files, node ids, `-k` expressions.
    tests: tuple[str, ...]


def mutant(name: str, promise: str, path: str, old: str, new: str, *tests: str) -> Mutant:
    return Mutant(name=name, promise=promise, path=path, edits=((old, new),), tests=tests)


TOKENS = "tests/ingest/test_tokens.py"
ISOLATION = "tests/test_isolation.py"
TEAM = "tests/accounts/test_team.py"
INVITATIONS = "tests/accounts/test_invitations.py"
API_AUTH = "tests/api/test_auth.py"
API_ENDPOINTS = "tests/api/test_endpoints.py"
API_OTHER = "tests/api/test_other_workspace.py"
DELETION = "tests/people/test_deletion.py"
DELETION_VIEWS = "tests/people/test_deletion_views.py"
SEGMENT_DELETES = "tests/ingest/test_deletions.py"
PARALLEL = "tests/people/test_parallel.py"
EVENT_KEYS = "tests/feed/test_event_keys.py"

MUTANTS: list[Mutant] = [
    # --- Storing each message once --------------------------------------------------------------
    mutant(
        "dedupe",
        "a message whose messageId is already stored is skipped",
        "ingest/services.py",
        "new = [m for mid, m in unique.items() if mid not in stored]",
        "new = list(unique.values())",
        "tests/ingest/test_services.py",
    ),
    mutant(
        "dedupe-over-http",
        "a message sent twice over HTTP is stored once, skipped by dedupe (not dead-lettered)",
        "ingest/services.py",
        "new = [m for mid, m in unique.items() if mid not in stored]",
        "new = list(unique.values())",
        "tests/ingest/test_views.py::test_the_same_message_twice_is_stored_once",
    ),
    mutant(
        "dedupe-within-a-batch",
        "a messageId repeated inside one batch is stored once",
        "ingest/services.py",
        "new = [m for mid, m in unique.items() if mid not in stored]",
        "new = [m for m in messages if m.message_id not in stored]",
        "tests/ingest/test_services.py",
        "tests/ingest/test_views.py::test_the_same_message_twice_is_stored_once",
    ),
    mutant(
        "every-accepted-message-kept",
        "every message a 2xx reply accepted is stored (the worker drops none)",
        "ingest/services.py",
        "new = [m for mid, m in unique.items() if mid not in stored]",
        "new = [m for mid, m in unique.items() if mid not in stored][: max(1, len(unique) - 1)]",
        "tests/ingest/test_views.py::test_no_body_gets_a_500_and_every_2xx_message_is_kept",
    ),
    mutant(
        "generated-id-queued",
        "a messageId the edge generated travels with the queued record: an entry read twice is "
        "still each message once",
        "ingest/segment.py",
        "generated[len(queued)] = values[3]",
        "pass",
        "tests/ingest/test_queue.py::test_an_entry_delivered_twice_is_still_each_message_once",
    ),
    mutant(
        "older-records-read",
        "messages queued by an older server (one Message dict each) are still stored",
        "ingest/queue.py",
        "records.messages.append(value)",
        "pass",
        "tests/ingest/test_queue.py::test_records_an_older_server_queued_are_stored_next_to_new_ones",
    ),
    # --- Events and people ----------------------------------------------------------------------
    mutant(
        "page-hiding",
        "page events are stored hidden",
        "feed/services.py",
        'return kind == "page"',
        "return False",
        "tests/ingest/test_services.py",
    ),
    mutant(
        "visible-filter",
        "the Feed and timelines leave hidden events out unless asked",
        "feed/models.py",
        "return self.filter(hidden=False)",
        "return self.all()",
        "tests/feed/test_selectors.py",
        "tests/feed/test_views.py",
    ),
    Mutant(
        name="newest-trait-wins",
        promise="a trait keeps the value of the newest message, whatever the delivery order",
        path="people/identity.py",
        edits=(
            (
                "current = versions.get(key)\n"
                "        if current is None or (current[1], current[2]) < version:",
                "current = versions.get(key)\n        if True:",
            ),
        ),
        tests=("tests/people/test_identity.py",),
    ),
    mutant(
        "alias-merges",
        "an alias between two known people merges them into one",
        "people/identity.py",
        "self._merge(source, target)",
        "pass",
        "tests/people/test_identity.py",
    ),
    mutant(
        "size-limit",
        "a message over the size limit is refused (413 alone, rejected in a batch)",
        "ingest/segment.py",
        "if sent_size > limits.message_bytes and _size(item) > limits.message_bytes:",
        "if False:",
        "tests/ingest/test_segment.py",
        "tests/ingest/test_views.py",
        "-k",
        "size or large or oversize",
    ),
    mutant(
        "hidden-events-preference",
        "the Show Hidden Events choice is remembered per member",
        "accounts/preferences.py",
        "return bool(shown)",
        "return False",
        "tests/feed/test_views.py",
        "tests/people/test_views.py",
        "-k",
        "hidden or remembered",
    ),
    # --- Tokens ---------------------------------------------------------------------------------
    mutant(
        "token-hash-from-prefix",
        "a token is checked whole, not by its visible 12-character prefix",
        "accounts/tokens.py",
        'return hashlib.sha256(token.encode("utf-8")).hexdigest()',
        'return hashlib.sha256(token[:VISIBLE_PREFIX_LENGTH].encode("utf-8")).hexdigest()',
        TOKENS,
    ),
    mutant(
        "token-cache-keyed-by-prefix",
        "the token cache is keyed by the whole token's digest",
        "ingest/authentication.py",
        "key = token_hash(token)",
        "key = token[:12]",
        TOKENS,
    ),
    mutant(
        "token-cache-keyed-by-source",
        "a cached sender is found only by its own token",
        "ingest/authentication.py",
        "cached = _cache.get(key)",
        "cached = next(iter(_cache.values()), None)",
        TOKENS,
    ),
    mutant(
        "revoked-token-accepted",
        "the token of a revoked source is refused",
        "accounts/services.py",
        "or not source.is_active",
        "or False",
        TOKENS,
    ),
    mutant(
        "token-cache-outlives-revoke",
        "revoking a source clears this process's token cache at once",
        "ingest/apps.py",
        "post_save.connect(token_cache_clear,",
        "post_save.connect(lambda **_: None,",
        TOKENS,
    ),
    mutant(
        "token-of-another-workspace-refused",
        "a second workspace's token stores into that workspace",
        "accounts/services.py",
        "if source is None or not token_matches(token, source.token_hash)",
        "if source is None or source.workspace_id != Source.objects.order_by('workspace_id')"
        ".values_list('workspace_id', flat=True).first() or not token_matches(token, "
        "source.token_hash)",
        "tests/ingest/test_views.py::test_a_token_of_another_workspace_stores_into_that_workspace_only",
    ),
    # --- Workspace isolation --------------------------------------------------------------------
    mutant(
        "group-choices-unscoped",
        "the People filter lists only this workspace's groups",
        "people/selectors.py",
        "groups = Group.objects.for_workspace(workspace)",
        "groups = Group.objects.all()",
        ISOLATION,
    ),
    mutant(
        "workspace-has-people-unscoped",
        "an empty workspace says so even when another has people",
        "people/selectors.py",
        "return Person.objects.for_workspace(workspace).exists()",
        "return Person.objects.exists()",
        ISOLATION,
    ),
    mutant(
        "person-for-page-unscoped",
        "another workspace's person is not found",
        "people/selectors.py",
        'Person.objects.for_workspace(workspace).select_related("group").filter(pk=person_id)',
        'Person.objects.select_related("group").filter(pk=person_id)',
        ISOLATION,
    ),
    mutant(
        "person-for-page-unscoped-view-test",
        "another workspace's person is not found (the people view test alone)",
        "people/selectors.py",
        'Person.objects.for_workspace(workspace).select_related("group").filter(pk=person_id)',
        'Person.objects.select_related("group").filter(pk=person_id)',
        "tests/people/test_views.py::test_person_of_another_workspace_is_not_found",
    ),
    mutant(
        "people-list-unscoped",
        "the People list shows only this workspace's people",
        "people/selectors.py",
        "people = Person.objects.for_workspace(workspace).current()\n    if filters.q:",
        "people = Person.objects.current()\n    if filters.q:",
        ISOLATION,
    ),
    mutant(
        "feed-events-unscoped",
        "the Feed and its poll show only this workspace's events",
        "feed/selectors.py",
        "events = Event.objects.for_workspace(workspace)\n    if not filters.show_hidden:",
        "events = Event.objects.all()\n    if not filters.show_hidden:",
        ISOLATION,
    ),
    Mutant(
        # Both scopes at once: the timeline scopes the person's ids and their events, and
        # either alone keeps another workspace's events out.
        name="timeline-unscoped",
        promise="a person's timeline shows only this workspace's events",
        path="feed/selectors.py",
        edits=(
            (
                "Identity.objects.for_workspace(workspace).filter(person=person)",
                "Identity.objects.filter(person=person)",
            ),
            (
                "    events = Event.objects.for_workspace(workspace)\n    if not show_hidden:",
                "    events = Event.objects.all()\n    if not show_hidden:",
            ),
        ),
        tests=(ISOLATION,),
    ),
    mutant(
        "feed-event-unscoped",
        "another workspace's raw event is not found",
        "feed/selectors.py",
        'Event.objects.for_workspace(workspace)\n        .select_related("identity__person")\n'
        "        .filter(pk=event_id)",
        'Event.objects.select_related("identity__person")\n        .filter(pk=event_id)',
        ISOLATION,
    ),
    Mutant(
        name="event-names-unscoped",
        promise="the Feed's name suggestions are this workspace's event names",
        path="feed/selectors.py",
        edits=(
            ("WHERE workspace_id = %s AND name > ''", "WHERE %s > 0 AND name > ''"),
            ("WHERE e.workspace_id = %s AND e.name", "WHERE %s > 0 AND e.name"),
        ),
        tests=(ISOLATION,),
    ),
    mutant(
        "sources-page-unscoped",
        "the Sources page lists only this workspace's sources",
        "accounts/selectors.py",
        "sources = list(Source.objects.for_workspace(workspace))",
        "sources = list(Source.objects.all())",
        ISOLATION,
    ),
    mutant(
        "source-revoke-unscoped",
        "a member cannot revoke another workspace's source",
        "accounts/views.py",
        "Source.objects.for_workspace(request.workspace), pk=source_id)\n"
        "    source_revoke(source=source)",
        "Source.objects.all(), pk=source_id)\n    source_revoke(source=source)",
        ISOLATION,
    ),
    mutant(
        "source-rotate-unscoped",
        "a member cannot rotate another workspace's source",
        "accounts/views.py",
        "Source.objects.for_workspace(request.workspace), pk=source_id)\n"
        "    return _render_sources(request, issued=source_rotate(source=source))",
        "Source.objects.all(), pk=source_id)\n"
        "    return _render_sources(request, issued=source_rotate(source=source))",
        ISOLATION,
    ),
    # --- Tests that used to pass for the wrong reason -------------------------------------------
    Mutant(
        name="source-counts-one-update-per-message",
        promise="a batch bumps each source's counters with one UPDATE, not one per message",
        path="ingest/processing.py",
        edits=(
            (
                "    for source_id, (count, received) in sorted(per_source.items()):\n",
                "    for source_id, (count, received) in sorted(per_source.items()):\n"
                "        for _ in range(count - 1):\n"
                "            Source.objects.filter(pk=source_id).update("
                'accepted_count=F("accepted_count") + 1)\n'
                "        count = 1\n",
            ),
        ),
        tests=("tests/ingest/test_processing.py",),
    ),
    mutant(
        "person-admin-search",
        "Django admin finds a person by email and by any of their ids",
        "people/admin.py",
        'search_fields = ["email", "name", "identities__value"]',
        'search_fields = ["name"]',
        "tests/people/test_identity_admin.py",
    ),
    mutant(
        "inbox-admin-lists-batches",
        "Django admin lists the batches waiting in the inbox",
        "ingest/admin.py",
        'list_display = ["id", "created_at", "message_count"]\n',
        'list_display = ["id", "created_at", "message_count"]\n\n'
        "    def get_queryset(self, request):\n"
        "        return super().get_queryset(request).none()\n",
        "tests/ingest/test_admin.py",
    ),
    mutant(
        "admin-store-again-queues-nothing",
        "the admin's Store again stores the selected dead letters (queued, as on the Status page)",
        "ingest/admin.py",
        'letter_ids=list(queryset.values_list("pk", flat=True))',
        "letter_ids=[]",
        "tests/ingest/test_admin.py",
    ),
    mutant(
        "minimal-dead-letter-requeued",
        "a dead letter that kept only an excerpt is not queued again (nothing to store)",
        "ingest/dead_letters.py",
        'return not any(isinstance(m, dict) and m.get("minimal") for m in letter.messages or [])',
        "return True",
        "tests/ingest/test_admin.py",
    ),
    # --- One typed message past the queue -------------------------------------------------------
    mutant(
        "decoded-time-not-utc",
        "a decoded message's datetimes are in UTC (versions compare their ISO strings)",
        "windsor/messages.py",
        "timestamp = timestamp_parse(sent) if sent else None",
        "timestamp = timestamp_parse(sent, utc=False) if sent else None",
        "tests/windsor/test_messages.py",
    ),
    Mutant(
        name="event-writer-parses-again",
        promise="the event writer reads the decoded datetimes; it parses no timestamp itself",
        path="feed/services.py",
        edits=(
            (
                "from windsor.messages import Message\n",
                "from windsor.messages import Message\n"
                "from windsor.timestamps import timestamp_parse\n",
            ),
            (
                '"timestamp": message.timestamp,',
                '"timestamp": timestamp_parse(message.timestamp.isoformat()),',
            ),
        ),
        tests=("tests/test_layers.py",),
    ),
    mutant(
        "mangled-older-link",
        "a mangled Older link shows the first page",
        "windsor/paging.py",
        "int(ident) > MAX_ID:\n            return None\n",
        'int(ident) > MAX_ID:\n            ident = "0"\n',
        "tests/feed/test_views.py",
    ),
    # --- Team: roles, invitations, workspaces ---------------------------------------------------
    mutant(
        "admin-may-touch-owners",
        "an admin cannot change or remove an owner",
        "accounts/team.py",
        "return actor.is_owner or not target.is_owner",
        "return True",
        TEAM,
    ),
    mutant(
        "admin-may-grant-owner",
        "an admin cannot invite owners or make anyone owner",
        "accounts/team.py",
        "        return [Role.ADMIN, Role.MEMBER]",
        "        return [Role.OWNER, Role.ADMIN, Role.MEMBER]",
        TEAM,
    ),
    mutant(
        "member-may-manage",
        "a member changes nothing on the Members page (403 on every action)",
        "accounts/team.py",
        "if actor.workspace_id != target.workspace_id or not actor.can_manage_members:",
        "if actor.workspace_id != target.workspace_id:",
        TEAM,
    ),
    mutant(
        "last-owner-may-go",
        "the last owner cannot leave or be demoted",
        "accounts/team.py",
        "if target.is_owner and _lock_owners(target.workspace) == [target.pk]:",
        "if False:",
        TEAM,
    ),
    mutant(
        "invitation-reusable",
        "an invitation link works once",
        "accounts/team.py",
        "    if invitation_state(locked) != Invitation.State.PENDING:\n        return None",
        "    if locked.state == 'never':\n        return None",
        INVITATIONS,
    ),
    mutant(
        "invitation-signup-refused-under-invite",
        "WINDSOR_SIGNUP=invite lets the holder of a pending link sign up",
        "accounts/signup.py",
        "    return signup_open() or session_invitation(request) is not None",
        "    return signup_open()",
        INVITATIONS,
    ),
    mutant(
        "member-lookup-unscoped",
        "another workspace's member cannot be re-roled or removed (404)",
        "accounts/team_views.py",
        'Membership.objects.for_workspace(request.workspace).select_related("user")',
        'Membership.objects.select_related("user")',
        ISOLATION,
    ),
    mutant(
        "invitation-lookup-unscoped",
        "another workspace's invitation cannot be re-sent or revoked (404)",
        "accounts/team_views.py",
        "        Invitation.objects.for_workspace(request.workspace),"
        "  # type: ignore[attr-defined]\n        pk=invitation_id,",
        "        Invitation.objects.all(),\n        pk=invitation_id,",
        ISOLATION,
    ),
    mutant(
        "audit-log-unscoped",
        "the audit log shows this workspace's entries only",
        "accounts/audit.py",
        "    entries = AuditEntry.objects.for_workspace(workspace)\n",
        "    entries = AuditEntry.objects.all()\n",
        ISOLATION,
    ),
    mutant(
        "switch-to-any-workspace",
        "the switcher only switches to a workspace the user belongs to",
        "accounts/team_views.py",
        "    if not any(m.workspace_id == workspace_id for m in request.memberships):",
        "    if False:",
        ISOLATION,
        "tests/accounts/test_workspace_switch.py",
    ),
    mutant(
        "password-reset-unthrottled",
        "password-reset requests are throttled per IP and per email",
        "accounts/views.py",
        "        if throttle.throttled(throttle.RESET, ip=ip, account=email):",
        "        if False:",
        "tests/accounts/test_password_reset.py",
    ),
    # --- Read API ---------------------------------------------------------------------------------
    mutant(
        "api-group-unscoped",
        "a key (or session) reads only its own workspace's groups, not another's by id",
        "api/selectors.py",
        'Group.objects.for_workspace(workspace).defer("trait_versions").filter(pk=group_id)',
        'Group.objects.defer("trait_versions").filter(pk=group_id)',
        API_OTHER,
        ISOLATION,
    ),
    mutant(
        "api-session-over-key",
        "a request with a key reads the key's workspace, whatever session rides along",
        "api/views.py",
        "authentication_classes = [ApiKeyAuthentication, WorkspaceSessionAuthentication]",
        "authentication_classes = [WorkspaceSessionAuthentication, ApiKeyAuthentication]",
        API_ENDPOINTS,
    ),
    mutant(
        "api-revoked-key-accepted",
        "a revoked API key is refused at once",
        "api/services.py",
        " or not key.is_active:",
        ":",
        API_AUTH,
        "tests/api/test_keys_page.py",
    ),
    Mutant(
        name="api-key-hash-from-prefix",
        promise="an API key is found by the digest of the whole key, not its visible prefix",
        path="api/services.py",
        edits=(
            (
                ".filter(key_hash=token_hash(secret))",
                ".filter(prefix=token_prefix(secret))",
            ),
            ("if key is None or not token_matches(secret, key.key_hash) or", "if key is None or"),
        ),
        tests=(API_AUTH,),
    ),
    mutant(
        "api-write-allowed",
        "the Read API refuses every write method, for keys and sessions",
        "api/permissions.py",
        "if request.method not in permissions.SAFE_METHODS:",
        "if False:",
        API_AUTH,
    ),
    mutant(
        "api-last-used-every-request",
        "a key's last use is written at most once a minute, not on every request",
        "api/services.py",
        "if last is not None and now - last < LAST_USED_RESOLUTION:",
        "if False:",
        API_ENDPOINTS,
        "tests/api/test_queries.py",
    ),
    # --- Privacy: deleting and suppressing people ----------------------------------------------
    mutant(
        "deletion-leaves-merged-people",
        "deleting a person deletes the person rows merged into them (they hold old names/emails)",
        "people/deletion.py",
        "Q(pk__in=person_ids) | Q(merged_into__in=person_ids)",
        "Q(pk__in=person_ids)",
        DELETION,
    ),
    Mutant(
        name="delete-not-scoped-to-workspace",
        promise="a deletion never touches another workspace's people, ids or events",
        path="people/deletion.py",
        edits=(
            (
                "people = Person.objects.filter(workspace_id=workspace_id).filter(",
                "people = Person.objects.filter(",
            ),
            (
                "identities = Identity.objects.filter(workspace_id=workspace_id, person_id__in=",
                "identities = Identity.objects.filter(person_id__in=",
            ),
            (
                "Person.objects.filter(workspace_id=workspace_id, pk__in=doomed).delete()",
                "Person.objects.filter(pk__in=doomed).delete()",
            ),
        ),
        tests=(DELETION,),
    ),
    mutant(
        "delete-without-the-batch-lock",
        "a deletion takes the workspace's batch lock, so a racing batch never half-undoes it",
        "people/deletion.py",
        "    workspaces_lock([workspace.pk])\n",
        "",
        "tests/people/test_deletion_race.py",
    ),
    # --- Batches of one workspace in parallel (people/locking.py) --------------------------------
    mutant(
        "batches-serialised-per-workspace",
        "two batches of one workspace with no person in common run at once",
        "ingest/services.py",
        "        workspace_store_lock(workspace_id, alone=alone)\n",
        "        workspaces_lock([workspace_id])\n",
        PARALLEL + "::test_a_batch_with_other_ids_commits_while_another_is_open_and_one_sharing_a"
        "_person_waits",
    ),
    mutant(
        "batch-without-person-locks",
        "two batches that touch one person (even through different ids) take turns on it",
        "people/locking.py",
        "        rows_lock(Person, people - locked)\n",
        "",
        PARALLEL,
    ),
    mutant(
        "segment-delete-batch-shares-the-workspace",
        "a batch carrying a Segment `delete` has the workspace alone (other batches wait for it)",
        "ingest/services.py",
        "    deleting = any(m.type == DELETE_TYPE for m in messages)\n",
        "    deleting = False\n",
        PARALLEL + "::test_a_batch_carrying_a_segment_delete_has_the_workspace_alone",
    ),
    mutant(
        "member-may-delete-people",
        "only owners and admins delete people (a member gets 403)",
        "accounts/models.py",
        'deletion.py)."""\n        return self.role in {self.Role.OWNER, self.Role.ADMIN}',
        'deletion.py)."""\n        return True',
        DELETION,
        DELETION_VIEWS,
    ),
    mutant(
        "lift-allowed-to-admins",
        "only an owner lifts a suppression",
        "accounts/models.py",
        'only owners take."""\n        return self.role == self.Role.OWNER',
        'only owners take."""\n        return self.role in {self.Role.OWNER, self.Role.ADMIN}',
        DELETION,
        DELETION_VIEWS,
    ),
    mutant(
        "suppression-check-skipped",
        "messages carrying a suppressed id are dropped, counted and never stored",
        "people/suppression.py",
        "    if not suppressed:\n        return messages\n",
        "    return messages\n",
        "tests/ingest/test_suppression.py",
    ),
    mutant(
        "segment-delete-refused",
        "Segment's forwarded `delete` is accepted on every ingest path",
        "ingest/segment.py",
        '"group", "alias", "delete"})',
        '"group", "alias"})',
        SEGMENT_DELETES,
    ),
    mutant(
        "segment-delete-out-of-order",
        "a `delete` applies where it stands in its batch (what follows it starts a fresh person)",
        "people/deletion.py",
        "            runs.append((run, message))\n            run = []\n",
        "            runs.insert(0, ([], message))\n",
        SEGMENT_DELETES,
    ),
    mutant(
        "deletion-keeps-rollups",
        "deleting a person shrinks the activity rollups by their events (charts = events)",
        "feed/apps.py",
        "        before_erase(rollups_forget_identities)\n",
        "        pass\n",
        DELETION,
    ),
    mutant(
        "deletion-keeps-dead-letters",
        "deleting a person deletes the dead letters holding their ids (ingest registers it)",
        "ingest/apps.py",
        "        before_erase_ids(dead_letters_forget)\n",
        "        pass\n",
        "tests/ingest/test_erasure.py",
    ),
    mutant(
        "deletion-keeps-rejections",
        "deleting a person deletes the source-log rows whose excerpt shows one of their ids",
        "people/deletion.py",
        "    rejections = _rejections_forget(workspace_id=workspace_id, values=values) if values"
        " else 0\n",
        "    rejections = 0\n",
        "tests/ingest/test_erasure.py",
    ),
    # --- Issue 13: search by any word, exports, rollups -----------------------------------------
    Mutant(
        name="search-unscoped",
        promise="the People search (by any word, email or id) finds this workspace's people only",
        path="people/selectors.py",
        edits=(
            (
                "    prefix = q.lower()\n"
                "    people = Person.objects.for_workspace(workspace).current()",
                "    prefix = q.lower()\n    people = Person.objects.current()",
            ),
            (
                "return queryset.filter(pk__in=set(matches))",
                "return Person.objects.filter(pk__in=set(matches))",
            ),
        ),
        tests=(
            "tests/people/test_views.py::test_word_search_is_scoped_to_the_workspace",
            ISOLATION,
        ),
    ),
    mutant(
        "word-search-off",
        "a person is found by the start of any word of their name",
        "people/selectors.py",
        "    if len(q) < WORD_SEARCH_MIN_LENGTH:\n        return None",
        "    if True:\n        return None",
        "tests/people/test_views.py",
    ),
    mutant(
        "walked-word-search-name-start",
        "a broad search (the walking plan) finds any word of the name, not only its first",
        "people/selectors.py",
        'return guard, [f"%{word}%" for word in words]',
        'return guard, [f"{word}%" for word in words]',
        "tests/people/test_views.py::test_both_search_plans_find_the_same_words",
    ),
    mutant(
        "walked-word-search-split-words",
        "a broad search finds the words PostgreSQL's parser splits, as a narrow one does",
        "people/selectors.py",
        "if per_row and all(word.isascii() for word in words):",
        "if per_row:",
        "tests/people/test_views.py::test_both_search_plans_find_the_same_words",
    ),
    mutant(
        "audience-choices-unscoped",
        "the audience filter offers this workspace's audiences only",
        "people/selectors.py",
        'Audience.objects.for_workspace(workspace).order_by("name")',
        'Audience.objects.order_by("name")',
        "tests/people/test_views.py",
        ISOLATION,
    ),
    mutant(
        "people-export-unscoped",
        "the People export holds this workspace's people only",
        "people/export.py",
        "people = people_filtered(workspace=workspace, filters=filters).only(",
        "people = people_filtered(workspace=workspace, filters=filters).model.objects.only(",
        "tests/people/test_export.py",
        ISOLATION,
    ),
    mutant(
        "people-export-ignores-filters",
        "the People export selects what the page's search and filters select",
        "people/export.py",
        "people = people_filtered(workspace=workspace, filters=filters).only(",
        "people = people_filtered(workspace=workspace, filters=PeopleFilters()).only(",
        "tests/people/test_export.py",
    ),
    mutant(
        "feed-export-unscoped",
        "the Feed export holds this workspace's events only",
        "feed/export.py",
        "events = feed_events(workspace=workspace, filters=filters).filter(id__lte=watermark)",
        "events = feed_events(workspace=workspace, filters=filters).model.objects.all()",
        "tests/feed/test_export.py",
        ISOLATION,
    ),
    mutant(
        "feed-export-ignores-filters",
        "the Feed export selects what the Feed's filters select",
        "feed/export.py",
        "events = feed_events(workspace=workspace, filters=filters).filter(id__lte=watermark)",
        "events = feed_events(workspace=workspace, filters=FeedFilters(show_hidden=True))",
        "tests/feed/test_export.py",
    ),
    mutant(
        "export-formula-cells",
        "a CSV cell a spreadsheet would run as a formula gets a leading apostrophe",
        "windsor/csv_stream.py",
        "    if text.startswith(FORMULA_STARTS):",
        "    if False:",
        "tests/people/test_export.py",
        "tests/feed/test_export.py",
    ),
    mutant(
        "inbox-batch-fk-unchecked",
        "inside the inbox's transaction a batch checks its foreign keys itself, so a violation "
        "fails that batch only, not the inbox's COMMIT",
        "ingest/processing.py",
        "    nested = connection.in_atomic_block\n",
        "    nested = False\n",
        "tests/ingest/test_processing.py",
    ),
    mutant(
        "narrow-write-misses-traits",
        "an id whose traits changed gets its whole row and person rewritten, not the narrow "
        "seen-only write",
        "people/identity.py",
        "        ):\n            self.dirty_identities.add(identity.value)\n",
        "        ):\n            pass\n",
        "tests/people/test_identity.py",
    ),
    mutant(
        "narrow-write-person-left",
        "the person an id leaves is recomputed whole, though none of its remaining ids changed",
        "people/identity.py",
        "old.touched = to.touched = old.reshaped = to.reshaped = True",
        "old.touched = to.touched = to.reshaped = True",
        "tests/people/test_identity.py",
    ),
    mutant(
        "rollup-not-in-batch",
        "the event rollups are written with the events, in the batch's transaction",
        "feed/services.py",
        "    rollups_add(rows)",
        "    pass",
        "tests/feed/test_rollups.py",
        "tests/feed/test_charts.py",
    ),
    mutant(
        "source-rollup-not-counted",
        "each accepted message is counted in its source's hourly rollup",
        "ingest/processing.py",
        "    source_activity_add(accepted=accepted)",
        "    (lambda **_: None)(accepted=accepted)",
        "tests/feed/test_rollups.py",
        "tests/ingest/test_processing.py",
    ),
    mutant(
        "feed-chart-unscoped",
        "the Feed's chart counts this workspace's events only",
        "feed/rollups.py",
        "WorkspaceActivity.objects.for_workspace(workspace)\n        .filter(hour__gte=start,",
        "WorkspaceActivity.objects.all()\n        .filter(hour__gte=start,",
        "tests/feed/test_rollups.py",
    ),
    # --- Issue 14: the worker's store path -------------------------------------------------------
    mutant(
        "bulk-update-scans-the-table",
        "bulk_update reads only the rows it updates, whatever the statistics say (no whole-table"
        " scan per statement)",
        "windsor/bulk.py",
        'f" WHERE t.{quote(pk.column)} = ANY(%s::{pk.db_type(connection)}[])",',
        'f" WHERE s.j ? t.{quote(pk.column)}::text AND %s IS NOT NULL",',
        "tests/windsor/test_bulk.py",
    ),
    mutant(
        "depth-mark-trusted-from-anyone",
        "only a message the edge marked as depth-checked at our limit or stricter skips the"
        " worker's depth rule",
        "ingest/segment.py",
        "    return type(limit) is int and limit <= MAX_NESTING",
        "    return limit is not None",
        "tests/ingest/test_processing.py",
        "tests/ingest/test_segment.py",
    ),
    mutant(
        "envelope-depth-mark-dropped",
        "the worker does not walk again the messages an edge as strict as itself checked for depth"
        " (the envelope says at which limit)",
        "ingest/segment.py",
        '    walk = not nesting_trusted(record.get("nesting"))',
        "    walk = True",
        "tests/ingest/test_queue.py",
        "tests/ingest/test_segment.py",
    ),
    mutant(
        "envelope-messages-decoded-twice",
        "the worker builds each message of an envelope once and stores that value (no dict form"
        " in between, decoded again)",
        "ingest/queue.py",
        "        records.messages += messages\n",
        "        records.messages += [m.as_dict() for m in messages]\n",
        "tests/ingest/test_queue.py::test_an_envelopes_messages_are_built_once_and_stored_as_read",
    ),
    mutant(
        "envelope-relayed-time-not-utc",
        "a Message built from an envelope has its times in UTC (versions compare their ISO"
        " strings): a relayed message's receivedAt too",
        "ingest/segment.py",
        "            return received_at if relayed is None else relayed.astimezone(UTC)",
        "            return relayed or received_at",
        "tests/ingest/test_segment.py",
    ),
    mutant(
        "envelope-received-time-not-utc",
        "a Message built from an envelope has its times in UTC (versions compare their ISO"
        " strings): the envelope's received_at too",
        "ingest/segment.py",
        "        received_at = received_at.astimezone(UTC)\n",
        "        pass\n",
        "tests/ingest/test_segment.py",
    ),
    mutant(
        "undecodable-older-message-sinks-its-batch",
        "an older record's message that cannot be decoded is dead-lettered alone where its batch"
        " starts; the rest of the batch is stored together",
        "ingest/processing.py",
        "            undecodable.append((m, traceback.format_exc()))",
        "            messages.append(m)",
        "tests/ingest/test_processing.py::test_a_poison_message_is_dead_lettered_and_the_rest_of"
        "_its_batch_stored",
    ),
    mutant(
        "drain-batches-not-grouped",
        "a drain cuts what it read into batches of one workspace where it can (interleaved"
        " workspaces do not each pay a round of reads per batch)",
        "ingest/processing.py",
        "    messages = sorted(records.messages, key=_workspace_of)",
        "    messages = records.messages",
        "tests/ingest/test_queue.py",
    ),
    mutant(
        "collided-retry-not-alone",
        "a batch that keeps colliding on a messageId with another worker's stores with its"
        " workspace alone, so it cannot collide forever and give up",
        "ingest/services.py",
        "                return _process(workspace_id, messages, alone=attempt > ALONE_AFTER)",
        "                return _process(workspace_id, messages, alone=False)",
        "tests/people/test_parallel.py::"
        "test_a_batch_that_keeps_colliding_on_a_message_id_stores_with_its_workspace_alone",
    ),
    mutant(
        "load-not-the-read-under-the-locks",
        "a batch's identities are read under its locks, once (batch_lock's last read is the load)",
        "ingest/services.py",
        "        return _write(workspace_id, new, loaded=batch_lock(workspace_id, new))",
        "        batch_lock(workspace_id, new)\n        return _write(workspace_id, new)",
        "tests/people/test_identity.py",
    ),
    mutant(
        "dedupe-read-by-the-workspace",
        "the dedupe read descends once per messageId, also in a workspace new since the last"
        " ANALYZE (its workspace condition serves no index)",
        "feed/services.py",
        'one_of("message_id", message_ids), equals_unindexed("workspace_id", workspace_id)',
        'one_of("message_id", message_ids), workspace_id=workspace_id',
        "tests/ingest/test_key_reads.py",
    ),
    mutant(
        "ids-read-by-the-workspace",
        "who holds a batch's ids is read one descent per id, also in a workspace new since the"
        " last ANALYZE (its workspace condition serves no index)",
        "people/locking.py",
        'one_of("value", values), equals_unindexed("workspace_id", workspace_id)',
        'one_of("value", values), workspace_id=workspace_id',
        "tests/ingest/test_key_reads.py",
    ),
    mutant(
        "events-keys-not-locked",
        "a batch that COPYs its events without the per-row foreign-key triggers first locks and"
        " checks every workspace, source and identity they reference",
        "windsor/keyshare.py",
        "        if not values:\n            continue\n",
        "        continue\n",
        f"{EVENT_KEYS}::test_a_row_deleted_before_the_batch_fails_the_batch",
        f"{EVENT_KEYS}::test_a_row_deleted_by_an_open_transaction_makes_the_batch_wait_then_fail",
    ),
    mutant(
        "events-keys-read-not-locked",
        "the rows a batch's events reference are locked FOR KEY SHARE until COMMIT, so a deleter"
        " waits (read without the lock, a deletion committed before the batch's COMMIT orphans"
        " its events)",
        "windsor/keyshare.py",
        "ORDER BY {column} FOR KEY SHARE)",
        "ORDER BY {column})",
        f"{EVENT_KEYS}::test_a_row_deleted_by_an_open_transaction_makes_the_batch_wait_then_fail",
    ),
    Mutant(
        name="events-keys-missing-ignored",
        promise="a batch whose events reference a row that no longer exists fails (IntegrityError)"
        " and never skips the per-row checks",
        path="windsor/keyshare.py",
        edits=(
            ("        if got != wanted:", "        if False:"),
            ("f\"CASE WHEN {complete or 'true'} AND {allowed}\"", 'f"CASE WHEN {allowed}"'),
        ),
        tests=(f"{EVENT_KEYS}::test_a_row_deleted_before_the_batch_fails_the_batch",),
    ),
    mutant(
        "events-keys-privilege-assumed",
        "a role that may not set session_replication_role stores through the checked COPY",
        "windsor/keyshare.py",
        "current_setting('session_replication_role') = 'origin' AND {privilege}",
        "current_setting('session_replication_role') = 'origin'",
        f"{EVENT_KEYS}::test_a_role_that_may_not_skip_triggers_stores_through_the_checked_copy",
    ),
    mutant(
        "events-keys-own-trigger-skipped",
        "the events are COPYed without triggers only when their foreign keys' checks are the only"
        " triggers on INSERT (a trigger or rule of its own keeps the checked COPY)",
        "windsor/keyshare.py",
        "tgenabled <> 'D' AND tgtype & %s <> 0",
        "tgenabled <> 'D' AND tgtype & %s <> 0 AND false",
        f"{EVENT_KEYS}::test_a_trigger_of_its_own_on_the_events_keeps_the_checked_copy",
    ),
    mutant(
        "events-keys-window-left-open",
        "only the events' COPY runs without triggers: the role is back to origin right after it",
        "windsor/keyshare.py",
        '        cursor.execute("SET LOCAL session_replication_role = origin")',
        "        pass",
        f"{EVENT_KEYS}::test_the_fast_path_reads_each_referenced_table_once_per_batch",
    ),
    mutant(
        "events-keys-checked-per-row",
        "the worker's events are checked once per referenced row, not per event, where allowed",
        "feed/services.py",
        "bulk_insert_values(Event, rows, keys_once=True)",
        "bulk_insert_values(Event, rows)",
        f"{EVENT_KEYS}::test_the_fast_path_reads_each_referenced_table_once_per_batch",
        f"{EVENT_KEYS}::test_a_role_granted_set_on_the_parameter_takes_the_fast_path",
    ),
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
    # --- The benchmark harness ------------------------------------------------------------------
    mutant(
        "bench-e2e-leaves-processes",
        "`make bench e2e` stops the gunicorn and Celery processes it started",
        "bench/e2e.py",
        "    def close(self) -> None:\n        self.processes.stop_all()\n",
        "    def close(self) -> None:\n        pass\n",
        "tests/bench/test_bench_e2e.py::test_the_e2e_bench_reports_every_figure_and_stops_its_processes",
    ),
    mutant(
        "bench-e2e-ignores-ctrl-c",
        "an interrupted `make bench e2e` ends soon, also when started with SIGINT ignored (CI)",
        "bench/e2e.py",
        "for sig in (signal.SIGINT, signal.SIGTERM)}",
        "for sig in (signal.SIGTERM,)}",
        "tests/bench/test_bench_e2e.py::"
        "test_an_interrupted_e2e_bench_ends_in_bounded_time_and_stops_its_processes",
    ),
    mutant(
        "bench-e2e-on-test-database",
        "`make bench e2e` refuses to run on a test database",
        "bench/e2e.py",
        'if name.startswith("test_"):',
        "if False:",
        "tests/bench/test_bench_e2e.py::test_the_e2e_bench_refuses_a_test_database",
    ),
    mutant(
        "bench-e2e-drained-early",
        "a drain the e2e bench calls over (from Redis) is already all in PostgreSQL, exactly",
        "bench/e2e.py",
        "if first is not None and (done >= count or left == 0):",
        "if first is not None:",
        "tests/bench/test_bench_e2e.py::test_the_e2e_bench_reports_every_figure_and_stops_its_processes",
    ),
    mutant(
        "bench-cpu-closed-backends-lost",
        "PostgreSQL's CPU in the e2e bench counts backends that closed between its two readings",
        "bench/cpu.py",
        "        total += own + reaped\n",
        "        total += own\n",
        "tests/bench/test_bench_cpu.py::"
        "test_a_server_figure_counts_a_backend_that_closed_between_the_readings",
    ),
    mutant(
        "bench-cpu-closed-backend-forgotten",
        "the e2e bench's database share keeps a closed backend's CPU and counts no other database",
        "bench/cpu.py",
        'every reading so far."""\n',
        'every reading so far."""\n        self.seconds = {}\n',
        "tests/bench/test_bench_cpu.py::"
        "test_a_databases_backends_are_counted_apart_and_kept_once_closed",
    ),
    mutant(
        "bench-cpu-other-database-counted",
        "the e2e bench's database share keeps a closed backend's CPU and counts no other database",
        "bench/cpu.py",
        "if database != self.database:",
        "if False:",
        "tests/bench/test_bench_cpu.py::"
        "test_a_databases_backends_are_counted_apart_and_kept_once_closed",
    ),
    mutant(
        "bench-analyze-every-table",
        "the e2e bench's ANALYZE stand-in analyzes the tables autovacuum's rule says are due, only",
        "bench/e2e.py",
        "for (table,) in cursor.fetchall():",
        "for table in self.tables:",
        "tests/bench/test_bench_cpu.py::"
        "test_the_analyze_stand_in_analyzes_the_tables_autovacuum_would_and_no_other",
    ),
    # --- logins (issue 23): throttle identity and address, mail off the request -----------------
    mutant(
        "throttle-account-raw-text",
        "a locked account stays locked under every spelling Django logs in (NFKC, case, spaces)",
        "accounts/throttle.py",
        'return unicodedata.normalize("NFKC", typed.strip()).strip().casefold()[:254]',
        "return typed.strip().lower()[:254]",
        "tests/accounts/test_login.py",
    ),
    mutant(
        "throttle-ipv6-per-address",
        "IPv6 clients are counted per /64, not per address",
        "accounts/throttle.py",
        "return str(ipaddress.IPv6Network((address, 64), strict=False))",
        "return str(address)",
        "tests/accounts/test_login.py",
    ),
    mutant(
        "throttle-ipv4-mapped-apart",
        "an IPv4-mapped IPv6 address counts as its IPv4 address",
        "accounts/throttle.py",
        "return str(address.ipv4_mapped)",
        "return str(address)",
        "tests/accounts/test_login.py",
    ),
    mutant(
        "proxy-count-trusted-by-default",
        "with no WINDSOR_PROXY_COUNT a deployment ignores X-Forwarded-For (rotating it gets 429)",
        "windsor/settings.py",
        'WINDSOR_PROXY_COUNT = int(os.environ.get("WINDSOR_PROXY_COUNT", "0"))',
        'WINDSOR_PROXY_COUNT = int(os.environ.get("WINDSOR_PROXY_COUNT", '
        '"1" if SECURE_PROXY_SSL_HEADER else "0"))',
        "tests/accounts/test_login.py",
        "tests/windsor/test_settings.py",
    ),
    mutant(
        "client-ip-leftmost-forwarded",
        "behind N proxies the client IP is the Nth X-Forwarded-For entry from the right",
        "accounts/throttle.py",
        "            return hops[-proxies]",
        "            return hops[0]",
        "tests/accounts/test_login.py",
    ),
    mutant(
        "reset-mail-sent-in-request",
        "the reset view looks no account up and sends no mail: the same work for any email",
        "accounts/views.py",
        "        password_reset_mail(\n",
        "        form.save(request=self.request)\n        password_reset_mail(\n",
        "tests/accounts/test_password_reset.py",
    ),
    mutant(
        "deployment-prints-mail",
        "a deployment without EMAIL_URL prints no mail (no reset link in its output)",
        "windsor/email_url.py",
        'return {"EMAIL_BACKEND": CONSOLE if embedded else NOT_CONFIGURED}',
        'return {"EMAIL_BACKEND": CONSOLE}',
        "tests/windsor/test_settings.py",
    ),
    mutant(
        "no-mail-check-silent",
        "manage.py check warns a deployment that cannot send mail",
        "accounts/checks.py",
        'if mail_delivery() != "off":',
        "if True:",
        "tests/accounts/test_mail.py",
    ),
    mutant(
        "console-mail-called-sent",
        "pages never say a mail was sent when it was only printed to the console",
        "accounts/emails.py",
        '    if settings.EMAIL_BACKEND == CONSOLE:\n        return "console"\n',
        "",
        "tests/accounts/test_mail.py",
    ),
    mutant(
        "proxy-hint-silent",
        "the Status page says when requests come through a proxy WINDSOR_PROXY_COUNT ignores",
        "accounts/throttle.py",
        "return settings.WINDSOR_PROXY_COUNT == 0 and bool("
        'request.META.get("HTTP_X_FORWARDED_FOR"))',
        "return False",
        "tests/accounts/test_login.py",
    ),
    mutant(
        "reset-token-logged",
        "password-reset tokens in logged paths are redacted",
        "windsor/log_filters.py",
        'if "/reset" in text:',
        "if False:",
        "tests/windsor/test_log_filters.py",
    ),
    # --- Issue 23, branch erasure: who may erase, the audit log, numeric ids --------------------
    mutant(
        "erasure-any-source",
        "a `delete` is honoured only from a source allowed to erase (off by default)",
        "ingest/erasure_rule.py",
        "    if not sender.may_erase:\n        return NOT_ALLOWED\n",
        "",
        "tests/ingest/test_deletions_allowed.py",
    ),
    mutant(
        "erasure-by-body-write-key",
        "a `delete` is honoured only with the token in the Authorization header (not a body key)",
        "ingest/erasure_rule.py",
        "    if not by_header:\n",
        "    if False:\n",
        "tests/ingest/test_deletions_allowed.py",
    ),
    mutant(
        "erasure-from-a-browser",
        "a `delete` is never honoured from a browser (a request with an Origin header)",
        "ingest/erasure_rule.py",
        "    if from_browser(request):\n        return FROM_BROWSER\n",
        "    if False:\n        return FROM_BROWSER\n",
        "tests/ingest/test_deletions_allowed.py",
    ),
    mutant(
        "erasure-refusal-sinks-the-request",
        "a refused `delete` is refused alone: every other message of its request is stored",
        "ingest/segment.py",
        "                raise InvalidMessage(deletes_refused, code=DELETE_NOT_ALLOWED)\n",
        "                raise IngestError(403, DELETE_NOT_ALLOWED, deletes_refused)\n",
        "tests/ingest/test_deletions_allowed.py",
    ),
    mutant(
        "erasure-unmatched-one-entry-each",
        "Segment deletes for ids nobody holds are counted in one audit entry per source and day",
        "people/deletion.py",
        '        .order_by("-id")\n        .first()\n',
        "        .none()\n        .first()\n",
        "tests/accounts/test_audit_log.py",
    ),
    mutant(
        "erasure-unmatched-resent-erases-again",
        "a re-sent Segment delete (same messageId) is a no-op, also when the first found no one",
        "people/deletion.py",
        "    if DeleteReceipt.objects.filter(workspace_id=workspace_id, message_id=message_id)"
        ".exists():\n",
        "    if False:\n",
        "tests/accounts/test_audit_log.py",
    ),
    mutant(
        "audit-log-unpaged",
        "the audit log is read a page at a time, and every entry is reached by its pages",
        "accounts/audit.py",
        "        size=AUDIT_PAGE_SIZE,\n",
        "        size=AUDIT_PAGE_SIZE * 100,\n",
        "tests/accounts/test_audit_log.py",
    ),
    mutant(
        "audit-log-kind-ignored",
        "the audit log filters by kind of entry (team, erasure, sources)",
        "accounts/audit.py",
        "        entries = entries.filter(action__in=AUDIT_KINDS[kind][1])\n",
        "        pass\n",
        "tests/accounts/test_audit_log.py",
    ),
    mutant(
        "deletion-keeps-numeric-id-rejections",
        "Delete person also deletes the log rows and dead letters that sent its ids as numbers",
        "people/deletion.py",
        "        if _json_number(value):\n",
        "        if False:\n",
        "tests/ingest/test_erasure.py",
    ),
    mutant(
        "plain-delete-audits-the-email",
        "a plain Delete's audit entry holds the person's ids and counts, never their data",
        "people/deletion.py",
        '        detail={"person_id": person.pk, **deleted.audit_detail()},\n',
        '        detail={"person_id": person.pk, **deleted.audit_detail(),'
        ' **({} if suppress else {"email": person.email})},\n',
        DELETION,
    ),
    # --- ops (issue 23): /metrics labels, /readyz, error pages, Store again, gunicorn ----------
    mutant(
        "metrics-method-label-unbounded",
        "a request's made-up HTTP method adds no series to /metrics",
        "ops/middleware.py",
        '            labels["method"] = self._method(request)\n',
        "            pass\n",
        "tests/ops/test_metrics.py::test_requests_with_made_up_methods_add_no_series_to_the_metrics",
    ),
    mutant(
        "readyz-details-for-everyone",
        "/readyz tells who may not read /metrics which check failed and nothing more",
        "ops/views.py",
        "    if metrics_allowed(request):\n",
        "    if True:\n",
        "tests/ops/test_health.py",
    ),
    Mutant(
        name="readyz-database-connection-reused",
        promise="/readyz asks the configured database on every call, on a connection of its own",
        path="ops/health.py",
        edits=(
            (
                "    probe = ConnectionHandler({DEFAULT_DB_ALIAS: _probe_settings()})"
                "[DEFAULT_DB_ALIAS]\n",
                "    probe = connection\n",
            ),
            ("        probe.close()\n", "        pass\n"),
        ),
        tests=("tests/ops/test_health.py",),
    ),
    mutant(
        "readyz-migrations-verdict-outlives-outage",
        "/readyz checks the migrations again once the database answers after an outage",
        "ops/health.py",
        '        _migrated = False\n        return f"unreachable',
        '        return f"unreachable',
        "tests/ops/test_health.py",
    ),
    mutant(
        "error-page-shows-url-passwords",
        "the debug error page hides passwords inside URL-shaped settings and request.META",
        "windsor/error_reports.py",
        "return url_credentials_hidden(cleansed) if isinstance(cleansed, str) else cleansed",
        "return cleansed",
        "tests/windsor/test_error_reports.py",
    ),
    mutant(
        "error-page-shows-url-passwords-in-frames",
        "the debug error page hides passwords inside URLs held by a frame's local variables",
        "windsor/error_reports.py",
        "        return [(name, _hidden(value)) for name, value in variables]\n",
        "        return list(variables)\n",
        "tests/windsor/test_error_reports.py",
    ),
    mutant(
        "store-again-queues-twice",
        "a dead letter stored again is queued once (the messageIds would hide a second entry)",
        "ingest/dead_letters.py",
        "        wake = queue.enqueue(messages, [])\n",
        "        queue.enqueue(messages, [])\n        wake = queue.enqueue(messages, [])\n",
        "tests/ops/test_status.py",
    ),
    mutant(
        "store-again-unlocked",
        "two clicks on Store again at the same moment queue the dead letter once",
        "ingest/dead_letters.py",
        "DeadLetter.objects.select_for_update().filter(pk=letter_id)",
        "DeadLetter.objects.filter(pk=letter_id)",
        "tests/ops/test_status.py::test_two_store_agains_at_once_queue_the_letter_once",
    ),
    mutant(
        "gunicorn-control-socket-per-user",
        "two gunicorns side by side each keep a control socket of their own",
        "gunicorn.conf.py",
        'control_socket = str(_var / "gunicorn" / f"{os.getpid()}.ctl")\n',
        "",
        "tests/ops/test_gunicorn.py",
    ),
    # --- members: removing or demoting a member reaches what they hold; invitation limits ------
    mutant(
        "api-key-creator-unchecked",
        "an API key stops once its creator is no owner or admin of its workspace, however it came",
        "api/services.py",
        "    if key.created_by_id is not None and not key.creator_holds:",
        "    if False:",
        API_AUTH,
    ),
    mutant(
        "api-key-creator-any-workspace",
        "an API key's creator must hold a key role in the key's own workspace",
        "api/services.py",
        'user=OuterRef("created_by"), workspace=OuterRef("workspace"), role__in=KEY_ROLES',
        'user=OuterRef("created_by"), role__in=KEY_ROLES',
        API_AUTH,
    ),
    mutant(
        "removal-keeps-api-keys",
        "removing a member revokes their API keys",
        "accounts/team.py",
        "    holdings.member_keys_revoke(actor=actor.user, target=target, role=None, "
        "reason=reason)",
        "    pass",
        API_AUTH,
    ),
    mutant(
        "demotion-keeps-api-keys",
        "demoting an admin to member revokes their API keys",
        "accounts/team.py",
        "    holdings.member_keys_revoke(actor=actor.user, target=target, role=role, "
        "reason=reason)",
        "    pass",
        API_AUTH,
    ),
    mutant(
        "api-keys-revoked-in-every-workspace",
        "removal revokes the member's keys of that workspace only",
        "api/services.py",
        "    keys = ApiKey.objects.active().filter(workspace_id=workspace_id, "
        "created_by_id=user_id)\n    held = [",
        "    keys = ApiKey.objects.active().filter(created_by_id=user_id)\n    held = [",
        TEAM,
    ),
    mutant(
        "removal-keeps-invitations",
        "removing a member revokes the invitations they sent that are still open",
        "accounts/team.py",
        "keep_roles=[], reason=reason)",
        "keep_roles=list(Role), reason=reason)",
        INVITATIONS,
    ),
    mutant(
        "demotion-keeps-invitations",
        "a demotion revokes the open invitations the new role may not send",
        "accounts/team.py",
        "keep_roles=roles_grantable_by(target), reason=reason",
        "keep_roles=list(Role), reason=reason",
        INVITATIONS,
    ),
    mutant(
        "invitation-sender-unchecked",
        "a link counts as revoked once its sender may no longer invite with its role",
        "accounts/team.py",
        "    if state == Invitation.State.PENDING and not sender_may_invite(invitation):",
        "    if False:",
        INVITATIONS,
    ),
    mutant(
        "invitation-sender-any-role",
        "a sender demoted outside the services no longer vouches for an admin invitation",
        "accounts/team.py",
        "    return sender is not None and invitation.role in roles_grantable_by(sender)",
        "    return sender is not None",
        INVITATIONS,
    ),
    mutant(
        "expired-invitation-opens-for-signed-in",
        "an expired link is refused to a signed-in user too (410, no Join button)",
        "accounts/team_views.py",
        "    if team.invitation_state(invitation) != Invitation.State.PENDING:",
        "    if team.invitation_state(invitation) not in (\n"
        "        Invitation.State.PENDING,\n"
        '        Invitation.State.EXPIRED if user.is_authenticated else "",\n'
        "    ):",
        "tests/accounts/test_invitations.py::test_an_expired_invitation_is_refused_to_a_signed_in_user",
    ),
    mutant(
        "expired-invitation-accepted",
        "accepting re-reads the link and refuses it if it expired since the page showed it",
        "accounts/team.py",
        "    if invitation_state(locked) != Invitation.State.PENDING:\n        return None",
        "    if invitation_state(locked) not in (\n"
        "        Invitation.State.PENDING, Invitation.State.EXPIRED\n    ):\n        return None",
        INVITATIONS,
    ),
    mutant(
        "removal-page-lists-others-sources",
        "the removal page lists the sources the member made, no one else's",
        "accounts/holdings.py",
        "        .filter(created_by_id=target.user_id)\n",
        "",
        TEAM,
    ),
    mutant(
        "removal-page-lists-other-workspaces-sources",
        "the removal page never lists or touches another workspace's sources",
        "accounts/holdings.py",
        "        Source.objects.for_workspace(target.workspace)\n",
        "        Source.objects\n",
        TEAM,
    ),
    mutant(
        "removal-page-for-any-target",
        "an admin gets no removal page for an owner (403)",
        "accounts/team_views.py",
        "    if not team.may_manage(actor, target):\n",
        "    if False:\n",
        TEAM,
    ),
    mutant(
        "invitations-unlimited-per-workspace",
        "a workspace sends a limited number of new invitations per hour",
        "accounts/invitation_limits.py",
        "    _count(per_workspace, str(workspace_id))",
        "    pass",
        INVITATIONS,
    ),
    mutant(
        "invitation-limit-shared-by-workspaces",
        "each workspace counts its own invitations",
        "accounts/invitation_limits.py",
        "    _count(per_workspace, str(workspace_id))",
        '    _count(per_workspace, "all")',
        INVITATIONS,
    ),
    mutant(
        "invitation-address-unlimited",
        "one address gets a limited number of invitation mails a day, from all workspaces",
        "accounts/invitation_limits.py",
        "    _count(per_workspace, str(workspace_id))\n"
        "    _count(_address_limit(), email.strip().lower())",
        "    _count(per_workspace, str(workspace_id))",
        INVITATIONS,
    ),
    mutant(
        "resend-without-interval",
        "an invitation is re-sent no sooner than INVITATION_RESEND_INTERVAL after its last mail",
        "accounts/invitation_limits.py",
        "    if waited < interval:",
        "    if False:",
        INVITATIONS,
    ),
    mutant(
        "resend-unlimited-per-day",
        "one invitation is re-sent a limited number of times a day",
        "accounts/invitation_limits.py",
        "    _count(per_invitation, str(invitation_id))",
        "    pass",
        INVITATIONS,
    ),
    mutant(
        "invitation-mail-name-unquoted",
        "the invitation mail shows the workspace's name as quoted data, links defanged",
        "templates/accounts/invitation_email.txt",
        "{{ invitation.workspace.name|as_data }}",
        "{{ invitation.workspace.name }}",
        INVITATIONS,
    ),
    # --- readback (issue 23): JSON read back exact; pages with junk ids and broken avatars ----
    mutant(
        "readback-jsonb-orjson",
        "the worker reads identities' jsonb back with integers past 64 bits exact",
        "windsor/bulk.py",
        "set_json_loads(json_loads_exact, raw)",
        "set_json_loads(orjson.loads, raw)",
        "tests/ingest/test_processing.py",
        "-k",
        "big_integer or 310_digit or 4300_digits",
    ),
    mutant(
        "readback-long-number-threshold",
        "an integer of 20 digits (2**64) already goes to the exact parser",
        "windsor/json_exact.py",
        '_LONG_NUMBER = b"0" * 20',
        '_LONG_NUMBER = b"0" * 21',
        "tests/ingest/test_processing.py",
        "-k",
        "big_integer",
    ),
    mutant(
        "readback-avatar-unsplittable",
        "an avatar urllib cannot split (https://[::1) is refused, not a 500 on every page",
        "people/avatars.py",
        "    except ValueError:",
        "    except TypeError:",
        "tests/people/test_avatars.py",
    ),
    mutant(
        "readback-avatar-no-person",
        "an event with no identity (its ids were junk) renders on the Feed and its page",
        "people/templatetags/people_tags.py",
        'if getattr(person, "pk", None) is None:',
        "if person is None:",
        "tests/feed/test_feed_tags.py",
        "-k",
        "junk",
    ),
    # --- inputs (issue 23): query parameters, cursor isolation, security headers ---------------
    mutant(
        "param-number-isdigit",
        "a number in a query is ASCII digits: a superscript or Arabic-Indic digit is a 400",
        "windsor/params.py",
        "not set(value) <= ASCII_DIGITS",
        "not value.isdigit()",
        "tests/test_query_params.py",
    ),
    mutant(
        "param-text-keeps-nul",
        "free text in a query holding a NUL is a 400 (PostgreSQL text cannot hold one)",
        "windsor/params.py",
        'if "\\x00" in value:',
        "if False:",
        "tests/test_query_params.py",
    ),
    mutant(
        "param-instant-not-in-utc",
        "an instant in a query must be one in UTC: year 1 at +01:00 is a 400",
        "windsor/params.py",
        "return timestamp_parse(candidate)",
        "return timestamp_parse(candidate, utc=False)",
        "tests/test_query_params.py",
    ),
    mutant(
        "api-groups-cursor-unscoped",
        "a cursor of /api/v1/groups/ (page 2, another workspace's) reads only the caller's groups",
        "api/selectors.py",
        '    groups = Group.objects.for_workspace(workspace).defer("trait_versions")\n',
        "    groups = (\n"
        "        Group.objects.all() if after or before\n"
        "        else Group.objects.for_workspace(workspace)\n"
        '    ).defer("trait_versions")\n',
        API_OTHER,
    ),
    mutant(
        "people-list-cursor-unscoped",
        "the People list's Older/Newer links (page 2, or another workspace's) show only its people",
        "people/selectors.py",
        "        people_filtered(workspace=workspace, filters=filters),\n",
        "        people_filtered(workspace=workspace, filters=filters)\n"
        "        if after is None and before is None\n"
        '        else Person.objects.current().select_related("group").only(*LIST_COLUMNS),\n',
        f"{ISOLATION}::test_another_workspaces_page_links_show_none_of_its_rows",
    ),
    mutant(
        "person-page-without-csp",
        "every HTML response carries the Content-Security-Policy: the person page too",
        "people/views.py",
        '@vary_on_headers("HX-Request")\ndef person_detail(',
        '@vary_on_headers("HX-Request")\n'
        '@__import__("csp.decorators", fromlist=["csp_exempt"]).csp_exempt()\n'
        "def person_detail(",
        "tests/test_security_headers.py",
    ),
    # --- lead (issue 23): what the Status page may store again ---------------------------------
    mutant(
        "store-again-minimal-letter",
        "Store again keeps a dead letter that holds only an excerpt (nothing to store)",
        "ingest/dead_letters.py",
        "        if not dead_letter_storable(letter):\n            raise NotStorable(letter_id)\n",
        "",
        "tests/ops/test_status.py",
    ),
    mutant(
        "timestamp-length-unbounded",
        "a padded timestamp is refused before the parse cache keeps its text",
        "ingest/segment.py",
        "    if len(value) > MAX_TIMESTAMP_LENGTH:\n",
        "    if False:\n",
        "tests/ingest/test_segment.py",
    ),
    mutant(
        "erasure-worker-trusts-the-queue",
        "the worker applies no delete from a source that may no longer erase",
        "people/deletion.py",
        "    if source is not None and not source.may_erase:\n",
        "    if False:\n",
        "tests/ingest/test_deletions_allowed.py",
    ),
    mutant(
        "browser-key-rate-unlimited",
        "what browsers send with a source's key is rate-limited by default",
        "ingest/views.py",
        "source.source_id, len(parsed.queued), browser=from_browser(request)",
        "source.source_id, len(parsed.queued), browser=False",
        "tests/ingest/test_queue.py",
    ),
    mutant(
        "oversize-number-stored-as-text",
        "a message holding a number of more than 4,300 digits is refused alone, never stored",
        "ingest/segment.py",
        "        if _OVERSIZE_NUMBER_JSON in data:\n",
        "        if False:\n",
        "tests/ingest/test_processing.py",
    ),
    # --- manyids: a person with many ids (issue 23) ---------------------------------------------
    mutant(
        "timeline-union-branch-per-id",
        "a person's timeline is one statement whatever their number of ids (a UNION ALL branch per"
        " id was planned in quadratic time)",
        "windsor/paging.py",
        "    ids = _split_ids(queryset, moment_field, ascending, limit, split)\n"
        '    return list(queryset.filter(AnyOf(F("pk"), ids)).order_by(*order)[:limit])\n',
        '    plain = (moment_field, "id") if ascending else (f"-{moment_field}", "-id")\n'
        "    branches = [queryset.filter(**{field: v}).order_by(*plain)[:limit] for v in values]\n"
        "    return list(branches[0].union(*branches[1:], all=True).order_by(*plain)[:limit])\n",
        "tests/feed/test_timeline.py::test_a_timeline_costs_the_same_database_work_for_twice_the_ids",
    ),
    mutant(
        "person-ids-unbounded",
        "a person gathers at most WINDSOR_PERSON_IDS_MAX ids; messages past it are still stored",
        "people/identity.py",
        "return len(person.members) + joining <= self.ids_max",
        "return True",
        "tests/people/test_id_limit.py",
    ),
    mutant(
        "person-ids-merge-counted-as-one",
        "an alias merging two people counts every id the merge would bring against the bound",
        "people/identity.py",
        "joining = 1 if was_free else len(source.members)",
        "joining = 1",
        "tests/people/test_id_limit.py::test_a_merge_of_two_people_past_the_limit_is_refused",
    ),
    mutant(
        "person-ids-refused-on-every-call",
        "an anonymous id refused by the bound is recorded once, not on every call carrying it",
        "people/identity.py",
        "                self._set_link(identity, link)\n            self._refuse(",
        "                pass\n            self._refuse(",
        "tests/people/test_id_limit.py::test_the_same_refused_id_is_recorded_once_not_on_every_call",
    ),
    mutant(
        "person-ids-limit-not-shown",
        "the person page says the person reached the id limit and how many ids were not linked",
        "templates/people/person_detail.html",
        "{% if person.ids_unlinked %}",
        "{% if False %}",
        "tests/people/test_id_limit.py::test_the_person_page_says_the_limit_was_reached",
    ),
    mutant(
        "person-ids-log-without-ids",
        "the source's log row of a refused id shows the ids, so erasing the person erases it",
        "people/id_limit.py",
        "excerpt=r.excerpt(),",
        'excerpt="",',
        "tests/people/test_id_limit.py::"
        "test_erasing_the_person_erases_the_log_rows_naming_their_ids",
    ),
    mutant(
        "api-person-events-reads-identity-rows",
        "the API reads a person's events with their ids as plain numbers, not every identity's row",
        "api/views.py",
        "identity_ids = people_selectors.person_identity_ids(self.workspace, person)",
        "identity_ids = [i.pk for i in people_selectors.person_identities(self.workspace, person)]",
        "tests/api/test_queries.py::"
        "test_a_persons_events_cost_the_same_statements_for_twice_the_ids",
    ),
    mutant(
        "person-page-lists-every-id",
        "a person's pages list a bounded number of ids and count the rest",
        "people/selectors.py",
        "return IdentityList(shown=rows[:limit], total=",
        "return IdentityList(shown=rows, total=",
        "tests/people/test_id_limit.py::test_the_person_page_lists_a_bounded_number_of_ids",
    ),
    # --- parser (issue 23): the deep-nesting cut, integers, writeKey depth, inherited copies ---
    mutant(
        "nesting-cut-past-unterminated-string",
        "the nesting cut stops at an unterminated string (going on is quadratic)",
        "ingest/body.py",
        'raise ValueError(f"unterminated string at byte {start}")',
        "continue",
        "tests/ingest/test_body.py::"
        "test_an_unterminated_string_past_orjson_depth_is_refused_as_not_json[last-string-open]",
    ),
    mutant(
        "nesting-cut-run-opens-at-its-start",
        "a run of opening brackets is cut at the one that opens level CUT_DEPTH + 1",
        "ingest/body.py",
        "opened = end - (level - depth)",
        "opened = start",
        "tests/ingest/test_body.py::test_the_nesting_cut_nulls_only_values_deeper_than_its_depth",
    ),
    mutant(
        "nesting-cut-run-keeps-from-its-end",
        "after a cut value, the closing brackets of the levels kept are kept",
        "ingest/body.py",
        "kept_from = end - (depth - level)",
        "kept_from = end",
        "tests/ingest/test_body.py::test_the_nesting_cut_nulls_only_values_deeper_than_its_depth",
    ),
    mutant(
        "nesting-cut-token-budget-lifted",
        "a body that needs the cut and has a token every few bytes is refused, not cut",
        "ingest/body.py",
        "_BYTES_PER_TOKEN = 6",
        "_BYTES_PER_TOKEN = 1",
        "tests/ingest/test_body.py::test_a_deep_body_dense_with_brackets_is_refused_whole_not_cut",
    ),
    mutant(
        "int-digits-unbounded",
        "an integer of more than 4,300 digits is refused even when Python's own bound is lifted",
        "ingest/body.py",
        "return None if 0 < sys.get_int_max_str_digits() <= MAX_INT_DIGITS else _bounded_int",
        "return None",
        "tests/ingest/test_parser_cost.py::"
        "test_an_integer_costs_at_most_a_bounded_constant_however_python_is_configured",
    ),
    mutant(
        "write-key-depth-skipped",
        "a deep writeKey makes its message too deep (a 4xx for it alone, not a 503)",
        "ingest/segment.py",
        "if isinstance(write_key, dict | list) and too_deep(item):",
        "if False:",
        "tests/ingest/test_hostile.py::test_a_deep_write_key_refuses_its_message_alone_as_too_deep",
    ),
    mutant(
        "inherited-copies-unbounded",
        "a batch's fields copied into its messages add at most twice the request's size",
        "ingest/segment.py",
        "    if added > allowed:",
        "    if False:",
        "tests/ingest/test_hostile.py::"
        "test_batch_fields_copied_into_every_message_cannot_multiply_a_request",
    ),
]


# --- Running ------------------------------------------------------------------------------------


class CheckError(Exception):
    """The check cannot run as asked: a loud failure, never a skipped mutant."""


def repository_files() -> list[str]:
    """Tracked and new (not ignored) files, as they are on disk now."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def patched(m: Mutant) -> str:
    """The mutant's file with its edits applied; CheckError unless each snippet occurs once."""
    path = ROOT / m.path
    if not path.is_file():
        raise CheckError(f"{m.name}: {m.path} does not exist; update the mutant")
    text = path.read_text()
    for old, new in m.edits:
        count = text.count(old)
        if count != 1:
            raise CheckError(
                f"{m.name}: the snippet occurs {count} times in {m.path} (expected exactly once); "
                f"update the mutant in scripts/mutants.py:\n{old}"
            )
        text = text.replace(old, new)
    return text


def database_url(suffix: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return ""  # the embedded default: each copy has its own SQLite under its var/
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path=f"/{name}_{suffix}"[:60]))


def run_tests(label: str, suffix: str, tests: tuple[str, ...], files: list[str], patch=None):
    """Copy the repository, apply `patch` (path, text), run `tests`; (returncode, output, s)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"windsor-{label}-") as tmp:
        for name in files:
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
        if patch is not None:
            Path(tmp, patch[0]).write_text(patch[1])
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        url = database_url(suffix)
        if url:
            env["DATABASE_URL"] = url
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
        command += ["--create-db", "--hypothesis-profile=mutants", *tests]
        result = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def first_failure(output: str) -> str:
    failed = [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return failed[0].split(" ", 1)[1].split(" - ")[0] if failed else "?"


def tail(output: str, lines: int = 25) -> str:
    return "\n".join("    " + line for line in output.strip().splitlines()[-lines:])


def chosen(args: argparse.Namespace) -> list[Mutant]:
    names = [m.name for m in MUTANTS]
    if len(set(names)) != len(names):
        raise CheckError("two mutants share a name")
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            raise CheckError(f"no mutant named {', '.join(sorted(unknown))}")
        return [m for m in MUTANTS if m.name in args.only]
    if args.half == "all":
        return list(MUTANTS)
    parity = dt.date.today().timetuple().tm_yday % 2 if args.half == "today" else int(args.half)
    return [m for i, m in enumerate(MUTANTS) if i % 2 == parity]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
    parser.add_argument(
        "--half",
        choices=["all", "today", "0", "1"],
        default="all",
        help="all mutants, or a half: 'today' alternates by day-of-year parity (for CI)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (at most 2)")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip running the guards without a patch"
    )
    args = parser.parse_args()
    try:
        selected = chosen(args)
        # Every snippet is checked before anything runs, the mutants not selected too.
        patches = {m.name: (m.path, patched(m)) for m in MUTANTS}
    except CheckError as error:
        print(f"mutants: {error}", file=sys.stderr)
        return 2
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:40} {m.promise}\n{'':40} {m.path}; guards: {' '.join(m.tests)}")
        return 0

    files = repository_files()
    started = time.monotonic()
    print(f"mutants: {len(selected)} of {len(MUTANTS)} mutants, {len(files)} files copied each")
    if not args.no_baseline:
        # The guards must pass without a patch; otherwise every mutant would look killed.
        guard_files = sorted({t for m in selected for t in m.tests if t.startswith("tests/")})
        code, output, seconds = run_tests("baseline", "mutant_base", tuple(guard_files), files)
        print(f"  baseline  {'passed' if code == 0 else 'FAILED'}  {seconds:5.0f} s")
        if code != 0:
            print(tail(output), file=sys.stderr)
            print(
                "mutants: the guard tests fail without any patch; fix them first", file=sys.stderr
            )
            return 2

    jobs = max(1, min(args.jobs, 2))
    databases: queue.Queue[str] = queue.Queue()
    for n in range(jobs):
        databases.put(f"mutant{n}")  # one test database per concurrent run

    def one(m: Mutant) -> tuple[Mutant, int, str, float]:
        database = databases.get()
        try:
            code, output, seconds = run_tests(m.name, database, m.tests, files, patches[m.name])
        finally:
            databases.put(database)
        return m, code, output, seconds

    survivors, errors = [], []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for m, code, output, seconds in pool.map(one, selected):
            if code == 1:
                verdict = "killed"
            elif code == 0:
                verdict = "SURVIVED"
                survivors.append(m)
            else:
                verdict = f"ERROR (pytest exit {code})"
                errors.append(m)
            print(f"  {verdict:9} {seconds:5.0f} s  {m.name}: {m.promise}", flush=True)
            if code == 1:
                print(f"{'':20} caught by {first_failure(output)}", flush=True)
            if code != 1:
                print(tail(output), file=sys.stderr)
    total = time.monotonic() - started
    killed = len(selected) - len(survivors) - len(errors)
    print(
        f"mutants: {killed} killed, {len(survivors)} survived, {len(errors)} errors"
        f" in {total:.0f} s"
    )
    for m in survivors:
        print(f"  survivor: {m.name} ({m.path}); guards: {' '.join(m.tests)}", file=sys.stderr)
    if errors:
        return 2
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
