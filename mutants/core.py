"""Mutants in core/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant
from mutants.guards import API_AUTH, EVENT_KEYS, TOKENS

MUTANTS: list[Mutant] = [
    # --- Tokens ---------------------------------------------------------------------------------
    mutant(
        "token-hash-from-prefix",
        "a token is checked whole, not by its visible 12-character prefix",
        "core/secrets.py",
        'return hashlib.sha256(secret.encode("utf-8")).hexdigest()',
        'return hashlib.sha256(secret[:VISIBLE_PREFIX_LENGTH].encode("utf-8")).hexdigest()',
        TOKENS,
        "tests/core/test_secrets.py",
    ),
    mutant(
        "secret-kind-prefix-ignored",
        "each kind of secret starts with its own prefix (an API key is not a source token)",
        "core/secrets.py",
        "secret = kind.prefix + secrets.token_urlsafe(32)",
        "secret = SecretKind.SOURCE_TOKEN.prefix + secrets.token_urlsafe(32)",
        "tests/core/test_secrets.py",
        API_AUTH,
    ),
    # --- One typed message past the queue -------------------------------------------------------
    mutant(
        "decoded-time-not-utc",
        "a decoded message's datetimes are in UTC (versions compare their ISO strings)",
        "core/messages.py",
        "timestamp = timestamp_parse(sent) if sent else None",
        "timestamp = timestamp_parse(sent, utc=False) if sent else None",
        "tests/core/test_messages.py",
    ),
    mutant(
        "mangled-older-link",
        "a mangled Older link shows the first page",
        "core/paging.py",
        "int(ident) > MAX_ID:\n            return None\n",
        'int(ident) > MAX_ID:\n            ident = "0"\n',
        "tests/feed/test_views.py",
    ),
    mutant(
        "export-formula-cells",
        "a CSV cell a spreadsheet would run as a formula gets a leading apostrophe",
        "core/csv_stream.py",
        "    if text.startswith(FORMULA_STARTS):",
        "    if False:",
        "tests/people/test_export.py",
        "tests/feed/test_export.py",
    ),
    # --- Issue 14: the worker's store path -------------------------------------------------------
    mutant(
        "bulk-update-narrow-rows-blanked",
        "bulk_update's narrow rows keep the columns they do not carry (a person's seen-only row"
        " shares the whole rows' statement)",
        "core/bulk.py",
        "        if f.column in every_row\n",
        "        if True\n",
        "tests/core/test_bulk.py",
    ),
    mutant(
        "bulk-update-scans-the-table",
        "bulk_update reads only the rows it updates, whatever the statistics say (no whole-table"
        " scan per statement)",
        "core/bulk.py",
        'f" WHERE t.{quote(pk.column)} = ANY(%s::{pk.db_type(connection)}[])",',
        'f" WHERE s.j ? t.{quote(pk.column)}::text AND %s IS NOT NULL",',
        "tests/core/test_bulk.py",
    ),
    mutant(
        "events-keys-not-locked",
        "a batch that COPYs its events without the per-row foreign-key triggers first locks and"
        " checks every workspace, source and identity they reference",
        "core/keyshare.py",
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
        "core/keyshare.py",
        "ORDER BY {column} FOR KEY SHARE)",
        "ORDER BY {column})",
        f"{EVENT_KEYS}::test_a_row_deleted_by_an_open_transaction_makes_the_batch_wait_then_fail",
    ),
    Mutant(
        name="events-keys-missing-ignored",
        promise="a batch whose events reference a row that no longer exists fails (IntegrityError)"
        " and never skips the per-row checks",
        path="core/keyshare.py",
        edits=(
            ("        if got != wanted:", "        if False:"),
            ("f\"CASE WHEN {complete or 'true'} AND {allowed}\"", 'f"CASE WHEN {allowed}"'),
        ),
        tests=(f"{EVENT_KEYS}::test_a_row_deleted_before_the_batch_fails_the_batch",),
    ),
    mutant(
        "events-keys-privilege-assumed",
        "a role that may not set session_replication_role stores through the checked COPY",
        "core/keyshare.py",
        "current_setting('session_replication_role') = 'origin' AND {privilege}",
        "current_setting('session_replication_role') = 'origin'",
        f"{EVENT_KEYS}::test_a_role_that_may_not_skip_triggers_stores_through_the_checked_copy",
    ),
    mutant(
        "events-keys-own-trigger-skipped",
        "the events are COPYed without triggers only when their foreign keys' checks are the only"
        " triggers on INSERT (a trigger or rule of its own keeps the checked COPY)",
        "core/keyshare.py",
        "tgenabled <> 'D' AND tgtype & %s <> 0",
        "tgenabled <> 'D' AND tgtype & %s <> 0 AND false",
        f"{EVENT_KEYS}::test_a_trigger_of_its_own_on_the_events_keeps_the_checked_copy",
    ),
    mutant(
        "events-keys-window-left-open",
        "only the events' COPY runs without triggers: the role is back to origin right after it",
        "core/keyshare.py",
        '        cursor.execute("SET LOCAL session_replication_role = origin")',
        "        pass",
        f"{EVENT_KEYS}::test_the_fast_path_reads_each_referenced_table_once_per_batch",
    ),
    mutant(
        "deployment-prints-mail",
        "a deployment without EMAIL_URL prints no mail (no reset link in its output)",
        "core/email_url.py",
        'return {"EMAIL_BACKEND": CONSOLE if embedded else NOT_CONFIGURED}',
        'return {"EMAIL_BACKEND": CONSOLE}',
        "tests/windsor/test_settings.py",
    ),
    mutant(
        "reset-token-logged",
        "password-reset tokens in logged paths are redacted",
        "core/log_filters.py",
        'if "/reset" in text:',
        "if False:",
        "tests/core/test_log_filters.py",
    ),
    mutant(
        "secret-outside-path-logged",
        "a secret of any kind is redacted wherever a logged line holds it, not only in paths",
        "core/log_filters.py",
        "    if any(prefix in text for prefix in _PREFIXES):",
        "    if False:",
        "tests/core/test_log_filters.py",
        "-k",
        "any_kind",
    ),
    mutant(
        "error-page-shows-url-passwords",
        "the debug error page hides passwords inside URL-shaped settings and request.META",
        "core/error_reports.py",
        "return url_credentials_hidden(cleansed) if isinstance(cleansed, str) else cleansed",
        "return cleansed",
        "tests/core/test_error_reports.py",
    ),
    mutant(
        "error-page-shows-url-passwords-in-frames",
        "the debug error page hides passwords inside URLs held by a frame's local variables",
        "core/error_reports.py",
        "        return [(name, _hidden(value)) for name, value in variables]\n",
        "        return list(variables)\n",
        "tests/core/test_error_reports.py",
    ),
    # --- readback (issue 23): JSON read back exact; pages with junk ids and broken avatars ----
    mutant(
        "readback-jsonb-orjson",
        "the worker reads identities' jsonb back with integers past 64 bits exact",
        "core/bulk.py",
        "set_json_loads(json_loads_exact, raw)",
        "set_json_loads(orjson.loads, raw)",
        "tests/ingest/test_store.py",
        "-k",
        "big_integer or 310_digit or 4300_digits",
    ),
    mutant(
        "readback-long-number-threshold",
        "an integer of 20 digits (2**64) already goes to the exact parser",
        "core/json_exact.py",
        '_LONG_NUMBER = b"0" * 20',
        '_LONG_NUMBER = b"0" * 21',
        "tests/ingest/test_store.py",
        "-k",
        "big_integer",
    ),
    # --- inputs (issue 23): query parameters, cursor isolation, security headers ---------------
    mutant(
        "param-number-isdigit",
        "a number in a query is ASCII digits: a superscript or Arabic-Indic digit is a 400",
        "core/params.py",
        "not set(value) <= ASCII_DIGITS",
        "not value.isdigit()",
        "tests/test_query_params.py",
    ),
    mutant(
        "param-text-keeps-nul",
        "free text in a query holding a NUL is a 400 (PostgreSQL text cannot hold one)",
        "core/params.py",
        'if "\\x00" in value:',
        "if False:",
        "tests/test_query_params.py",
    ),
    mutant(
        "param-instant-not-in-utc",
        "an instant in a query must be one in UTC: year 1 at +01:00 is a 400",
        "core/params.py",
        "return timestamp_parse(candidate)",
        "return timestamp_parse(candidate, utc=False)",
        "tests/test_query_params.py",
    ),
    # --- manyids: a person with many ids (issue 23) ---------------------------------------------
    mutant(
        "timeline-union-branch-per-id",
        "a person's timeline is one statement whatever their number of ids (a UNION ALL branch per"
        " id was planned in quadratic time)",
        "core/paging.py",
        "    ids = _split_ids(queryset, moment_field, ascending, limit, split)\n"
        '    return list(queryset.filter(AnyOf(F("pk"), ids)).order_by(*order)[:limit])\n',
        '    plain = (moment_field, "id") if ascending else (f"-{moment_field}", "-id")\n'
        "    branches = [queryset.filter(**{field: v}).order_by(*plain)[:limit] for v in values]\n"
        "    return list(branches[0].union(*branches[1:], all=True).order_by(*plain)[:limit])\n",
        "tests/feed/test_timeline.py::test_a_timeline_costs_the_same_database_work_for_twice_the_ids",
    ),
    # --- One base for tenant scoping (issue 24) -------------------------------------------------
    mutant(
        "for-workspace-unscoped",
        "Model.objects.for_workspace(ws) returns that workspace's rows only, for every model",
        "core/querysets.py",
        "        return self.filter(**{self.workspace_field: workspace})\n",
        "        return self.all()\n",
        "tests/core/test_querysets.py",
    ),
]
