"""Mutants in ingest/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant
from mutants.guards import PARALLEL, SEGMENT_DELETES, TOKENS

MUTANTS: list[Mutant] = [
    # --- Storing each message once --------------------------------------------------------------
    mutant(
        "dedupe",
        "a message whose messageId is already stored is skipped",
        "ingest/store.py",
        "new = [m for mid, m in unique.items() if mid not in stored]",
        "new = list(unique.values())",
        "tests/ingest/test_batch_process.py",
    ),
    mutant(
        "dedupe-over-http",
        "a message sent twice over HTTP is stored once, skipped by dedupe (not dead-lettered)",
        "ingest/store.py",
        "new = [m for mid, m in unique.items() if mid not in stored]",
        "new = list(unique.values())",
        "tests/ingest/test_views.py::test_the_same_message_twice_is_stored_once",
    ),
    mutant(
        "dedupe-within-a-batch",
        "a messageId repeated inside one batch is stored once",
        "ingest/store.py",
        "new = [m for mid, m in unique.items() if mid not in stored]",
        "new = [m for m in messages if m.message_id not in stored]",
        "tests/ingest/test_batch_process.py",
        "tests/ingest/test_views.py::test_the_same_message_twice_is_stored_once",
    ),
    mutant(
        "every-accepted-message-kept",
        "every message a 2xx reply accepted is stored (the worker drops none)",
        "ingest/store.py",
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
        "ingest/older_records.py",
        "records.messages.append(message_decode(value))",
        "pass",
        "tests/ingest/test_queue.py::test_records_an_older_server_queued_are_stored_next_to_new_ones",
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
        "token-cache-keyed-by-prefix",
        "the token cache is keyed by the whole token's digest",
        "ingest/authentication.py",
        "key = secret_digest(token)",
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
        "token-cache-outlives-revoke",
        "revoking a source clears this process's token cache at once",
        "ingest/apps.py",
        "post_save.connect(token_cache_clear,",
        "post_save.connect(lambda **_: None,",
        TOKENS,
    ),
    # --- Tests that used to pass for the wrong reason -------------------------------------------
    Mutant(
        name="source-counts-one-update-per-message",
        promise="a batch bumps each source's counters with one UPDATE, not one per message",
        path="ingest/source_counts.py",
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
        tests=("tests/ingest/test_store.py",),
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
    # --- Batches of one workspace in parallel (people/locking.py) --------------------------------
    mutant(
        "batches-serialised-per-workspace",
        "two batches of one workspace with no person in common run at once",
        "core/locks.py",
        'locks += ["pg_advisory_xact_lock_shared(%s, %s)", f"{storing}(%s, %s)"]',
        'locks += ["pg_advisory_xact_lock(%s, %s)", f"{storing}(%s, %s)"]',
        PARALLEL + "::test_a_batch_with_other_ids_commits_while_another_is_open_and_one_sharing_a"
        "_person_waits",
    ),
    mutant(
        "segment-delete-batch-shares-the-workspace",
        "a batch carrying a Segment `delete` has the workspace alone (other batches wait for it)",
        "ingest/store.py",
        "    deleting = {m.workspace_id for m in messages if m.type == DELETE_TYPE}\n",
        "    deleting = set()\n",
        PARALLEL + "::test_a_batch_carrying_a_segment_delete_has_the_workspace_alone",
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
        "deletion-keeps-dead-letters",
        "deleting a person deletes the dead letters holding their ids (ingest answers the signal)",
        "ingest/apps.py",
        "        person_ids_erasing.connect(dead_letters_forget,"
        ' dispatch_uid="ingest.dead_letters_forget")\n',
        "        pass\n",
        "tests/ingest/test_erasure.py",
    ),
    mutant(
        "inbox-batch-fk-unchecked",
        "inside the inbox's transaction a batch checks its foreign keys itself, so a violation "
        "fails that batch only, not the inbox's COMMIT",
        "ingest/store.py",
        'if not outermost and connection.vendor == "postgresql":',
        "if False:",
        "tests/ingest/test_store.py",
    ),
    mutant(
        "source-rollup-not-counted",
        "each accepted message is counted in its source's hourly rollup",
        "ingest/source_counts.py",
        "    source_activity_add(accepted=accepted)",
        "    (lambda **_: None)(accepted=accepted)",
        "tests/feed/test_rollups.py",
        "tests/ingest/test_store.py",
    ),
    mutant(
        "depth-mark-trusted-from-anyone",
        "only a message the edge marked as depth-checked at our limit or stricter skips the"
        " worker's depth rule",
        "ingest/segment.py",
        "    return type(limit) is int and limit <= MAX_NESTING",
        "    return limit is not None",
        "tests/ingest/test_store.py",
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
        "ingest/older_records.py",
        "        records.undecodable.append((value, traceback.format_exc()))",
        "        records.messages.append(value)",
        "tests/ingest/test_store.py::test_a_poison_message_is_dead_lettered_and_the_rest_of"
        "_its_batch_stored",
    ),
    mutant(
        "drain-batches-not-grouped",
        "a drain cuts what it read into batches of one workspace where it can (interleaved"
        " workspaces do not each pay a round of reads per batch)",
        "ingest/drain.py",
        "    messages = sorted(records.messages, key=lambda m: m.workspace_id)",
        "    messages = records.messages",
        "tests/ingest/test_queue.py",
    ),
    mutant(
        "collided-retry-not-alone",
        "a batch that keeps colliding on a messageId with another worker's stores with its"
        " workspace alone, so it cannot collide forever and give up",
        "ingest/store.py",
        "        self.alone = number > ALONE_AFTER",
        "        self.alone = False",
        "tests/people/test_parallel.py::"
        "test_a_batch_that_keeps_colliding_on_a_message_id_stores_with_its_workspace_alone",
    ),
    mutant(
        "load-not-the-read-under-the-locks",
        "a batch's identities are read under its locks, once (batch_lock's last read is the load)",
        "ingest/store.py",
        "    loaded = None if deleting else batch_lock(workspace_id, new)",
        "    loaded = None\n    None if deleting else batch_lock(workspace_id, new)",
        "tests/people/test_identity.py",
    ),
    # --- Storing one batch: one retry loop, locks once (ingest/store.py) -------------------------
    mutant(
        "conflict-not-retried",
        "a batch that loses a deadlock or a serialization failure is retried whole and stored"
        " once, not taken apart and dead-lettered",
        "ingest/store.py",
        'CONFLICTS = frozenset({"40P01", "40001", "23505"})',
        'CONFLICTS = frozenset({"23505"})',
        "tests/ingest/test_store.py::test_a_batch_that_loses_a_conflict_is_retried_whole_and_stored"
        "_once",
    ),
    mutant(
        "any-failure-retried",
        "only write conflicts are retried: a poison message goes straight to one-by-one and its"
        " dead letter",
        "ingest/store.py",
        "        if self.number < ATTEMPTS and conflicted(error):\n",
        "        if self.number < ATTEMPTS:\n",
        "tests/ingest/test_store.py::test_a_poison_message_is_dead_lettered_alone_without_a_retry",
    ),
    mutant(
        "conflict-retried-forever",
        "a batch that keeps conflicting is given up after ATTEMPTS tries and dead-lettered",
        "ingest/store.py",
        "        if self.number < ATTEMPTS and conflicted(error):\n",
        "        if conflicted(error):\n",
        "tests/ingest/test_store.py::test_a_batch_that_keeps_conflicting_gives_up_after_the_attempts"
        "_and_dead_letters",
    ),
    mutant(
        "workspace-locks-asked-per-workspace",
        "a batch asks for its workspace locks once, in one statement",
        "ingest/store.py",
        "    if not new:\n        return 0\n",
        "    if not new:\n        return 0\n    workspaces_store_lock([workspace_id])\n",
        "tests/ingest/test_store.py::test_a_batch_asks_for_its_workspace_locks_once",
    ),
    mutant(
        "outage-acknowledged",
        "a database outage leaves the records unacknowledged, to be read again",
        "ingest/store.py",
        "        if database_down(exc):\n            raise\n        error = traceback.format_exc()",
        "        error = traceback.format_exc()",
        "tests/ingest/test_queue.py::test_a_database_outage_leaves_the_records_unacknowledged",
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
        "tests/ingest/test_store.py",
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
