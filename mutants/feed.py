"""Mutants in feed/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant
from mutants.guards import DELETION, EVENT_KEYS, ISOLATION

MUTANTS: list[Mutant] = [
    # --- Events and people ----------------------------------------------------------------------
    mutant(
        "page-hiding",
        "page events are stored hidden",
        "feed/services.py",
        'return kind == "page"',
        "return False",
        "tests/ingest/test_batch_process.py",
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
    Mutant(
        name="event-writer-parses-again",
        promise="the event writer reads the decoded datetimes; it parses no timestamp itself",
        path="feed/services.py",
        edits=(
            (
                "from core.messages import Message\n",
                "from core.messages import Message\nfrom core.timestamps import timestamp_parse\n",
            ),
            (
                '"timestamp": message.timestamp,',
                '"timestamp": timestamp_parse(message.timestamp.isoformat()),',
            ),
        ),
        tests=("tests/test_layers.py",),
    ),
    mutant(
        "deletion-keeps-rollups",
        "deleting a person shrinks the activity rollups by their events (charts = events)",
        "feed/apps.py",
        "        person_erasing.connect(rollups_forget_identities,"
        ' dispatch_uid="feed.rollups_forget")\n',
        "        pass\n",
        DELETION,
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
        "rollup-not-in-batch",
        "the event rollups are written with the events, in the batch's transaction",
        "feed/services.py",
        "    rollups_add(rows)",
        "    pass",
        "tests/feed/test_rollups.py",
        "tests/feed/test_charts.py",
    ),
    mutant(
        "feed-chart-unscoped",
        "the Feed's chart counts this workspace's events only",
        "feed/rollups.py",
        "WorkspaceActivity.objects.for_workspace(workspace)\n        .filter(hour__gte=start,",
        "WorkspaceActivity.objects.all()\n        .filter(hour__gte=start,",
        "tests/feed/test_rollups.py",
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
    # --- Behaviour (feed/behaviour.py and the day counts) ---------------------------------------
    mutant(
        "day-counts-not-kept",
        "the per-identity, per-name, per-day counts are kept with the events, in their batch",
        "feed/rollups.py",
        "rows={key: (n,) for key, n in per_day.items()},",
        "rows={},",
        "tests/feed/test_behaviour.py",
    ),
    mutant(
        "behaviour-window-off-by-one",
        "'in the last D days' is today (UTC) and the D - 1 days before it",
        "feed/behaviour.py",
        "return now.astimezone(UTC).date() - timedelta(days=days - 1)",
        "return now.astimezone(UTC).date() - timedelta(days=days)",
        "tests/feed/test_behaviour.py",
    ),
    mutant(
        "behaviour-at-most-needs-rows",
        "'at most N times' includes the people who never did it",
        "feed/behaviour.py",
        "return ~Q(pk__in=people(total__gt=value))",
        "return Q(pk__in=people(total__lte=value))",
        "tests/feed/test_behaviour.py",
    ),
    mutant(
        "behaviour-per-person-at-most-needs-rows",
        "the per-person form counts a person without rows as 0 (at most, exactly 0, did not)",
        "feed/behaviour.py",
        "return Q(_lookup(Coalesce(Subquery(own), 0), lookup, value))",
        "return Q(_lookup(Subquery(own), lookup, value))",
        "tests/feed/test_behaviour.py",
    ),
    mutant(
        "behaviour-per-person-unscoped",
        "the per-person form counts only that person's rows",
        "feed/behaviour.py",
        'rows.filter(identity__person_id=OuterRef("pk"))',
        "rows",
        "tests/feed/test_behaviour.py",
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
]
