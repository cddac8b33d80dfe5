"""The Feed's reads: one page of events, the events received since a poll, the event names.

Rules, stated once:
- Every query starts from the workspace (`Event.objects.for_workspace`).
- Pages are keyset-paginated on (timestamp, id), newest first (`core.paging`); never OFFSET.
- Live updates poll by id, not timestamp (senders deliver late); the page is cut at the same id,
  the watermark: the highest id of the workspace's own events.
- Each poll reads the interval before it again, as ids are handed out before their commit.

Design: docs/design/feed.md
"""

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Case, JSONField, Max, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.http import QueryDict

from accounts.models import Workspace
from core.paging import Cursor, Page, keyset_page
from core.params import text_param
from feed.models import Event, EventQuerySet
from people.models import Identity, Person

PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 30
# A poll returns at most this many rows; the rest follow on the next polls, without a gap.
POLL_LIMIT = 100
NAME_SUGGESTIONS = 100
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class FeedFilters:
    """What the viewer asked to see; the same filters drive the page, "Older" and the poll."""

    show_hidden: bool = False
    type: str = ""
    name: str = ""

    @classmethod
    def from_query(cls, query: QueryDict, *, default_show_hidden: bool) -> "FeedFilters":
        """The filters of a URL or form: an unknown type or hidden value is ignored, a name with a
        NUL in it is a ParameterError (a 400; core.params)."""
        hidden = query.get("hidden")
        event_type = query.get("type", "")
        return cls(
            show_hidden=default_show_hidden if hidden not in {"0", "1"} else hidden == "1",
            type=event_type if event_type in Event.Type.values else "",
            name=text_param(query, "name", max_length=MAX_NAME_LENGTH),
        )

    @property
    def hides_everything_asked(self) -> bool:
        """Page events asked for by type while hidden events are hidden: nothing can match."""
        return self.type == Event.Type.PAGE and not self.show_hidden

    def querystring(self, **extra: str | int) -> str:
        """The URL query that reproduces this view (hidden always explicit, so links keep it)."""
        params: dict[str, str | int] = {"hidden": int(self.show_hidden)}
        if self.type:
            params["type"] = self.type
        if self.name:
            params["name"] = self.name
        params.update(extra)
        return urlencode(params)

    def with_hidden(self, show_hidden: bool) -> "FeedFilters":
        return replace(self, show_hidden=show_hidden)


@dataclass(frozen=True)
class FeedPage:
    events: list[Event]
    # The encoded cursor of "Older" (core.paging), or None on the last page.
    older: str | None
    # The id up to which this page looked; the poll continues from here.
    watermark: int


@dataclass(frozen=True)
class FeedUpdate:
    events: list[Event]
    watermark: int


def feed_events(*, workspace: Workspace, filters: FeedFilters) -> EventQuerySet:
    """The workspace's events the filters allow, with what a row shows, in no order yet."""
    events = Event.objects.for_workspace(workspace)
    if not filters.show_hidden:
        events = events.visible()
    if filters.type:
        events = events.filter(type=filters.type)
    if filters.name:
        events = events.filter(name=filters.name)
    # A Feed row shows the person's name, email and avatar: their trait and audience blobs,
    # and the identity's trait versions, stay in the database.
    return (
        _for_rows(events)
        .select_related("identity__person")
        .defer(
            "identity__trait_versions",
            "identity__group_version",
            "identity__person__traits",
            "identity__person__audiences",
        )
    )


def _for_rows(events: EventQuerySet) -> EventQuerySet:
    # The raw message stays in the database until a row is expanded; only the few keys the
    # one-line summary of identify/group/alias needs are read, and only for those types (the
    # CASE keeps PostgreSQL from de-TOASTing raw for the track and page rows).
    def raw_key(key: str, *types: str, text: bool = True) -> Case:
        transform = KeyTextTransform(key, "raw") if text else KeyTransform(key, "raw")
        return Case(
            When(type__in=types, then=transform),
            default=Value(None),
            output_field=TextField() if text else JSONField(),
        )

    return events.defer("raw", "context").annotate(
        raw_traits=raw_key("traits", Event.Type.IDENTIFY, Event.Type.GROUP, text=False),
        raw_user_id=raw_key("userId", Event.Type.ALIAS),
        raw_previous_id=raw_key("previousId", Event.Type.ALIAS),
        raw_group_id=raw_key("groupId", Event.Type.GROUP),
    )


def feed_watermark(*, workspace: Workspace) -> int:
    """The highest id of the workspace's own events (one probe of the `event_workspace_id`
    index; the poll then scans only the workspace's ids above it, which is what arrived since).

    Never the table's highest id: a page and its polls carry this number, and a global one would
    let a tenant watch every other workspace's volume go by."""
    return Event.objects.for_workspace(workspace).aggregate(top=Max("id"))["top"] or 0


def feed_page(
    *,
    workspace: Workspace,
    filters: FeedFilters,
    before: Cursor | None = None,
    upto: int | None = None,
    limit: int = PAGE_SIZE,
) -> FeedPage:
    """One page newest first by event timestamp: the first page, or the one below `before`,
    cut at the first page's watermark `upto` (so rows that arrived since are left to the poll)."""
    if before is not None and upto is not None:
        watermark = upto
    else:
        # Read before the page, so that anything stored while the page is read has a higher id
        # and is left to the poll instead of being shown twice.
        watermark = feed_watermark(workspace=workspace)
    if filters.hides_everything_asked:
        return FeedPage(events=[], older=None, watermark=watermark)
    events = feed_events(workspace=workspace, filters=filters).filter(id__lte=watermark)
    page = keyset_page(
        events, moment_field="timestamp", nullable=False, size=limit, after=before, before=None
    )
    return FeedPage(events=page.rows, older=page.older, watermark=watermark)


def feed_updates(
    *, workspace: Workspace, filters: FeedFilters, since: int, limit: int = POLL_LIMIT
) -> FeedUpdate:
    """The events with ids above `since`, newest first, and the watermark they reach."""
    top = feed_watermark(workspace=workspace)
    if top <= since or filters.hides_everything_asked:
        return FeedUpdate(events=[], watermark=max(top, since))
    # Oldest ids first so that when more than `limit` arrived, the next poll resumes exactly
    # where this one stopped; shown newest first.
    events = feed_events(workspace=workspace, filters=filters).filter(id__gt=since, id__lte=top)
    rows = list(events.order_by("id")[:limit])
    watermark = rows[-1].id if len(rows) == limit else top
    rows.sort(key=lambda event: (event.timestamp, event.id), reverse=True)
    return FeedUpdate(events=rows, watermark=watermark)


def feed_event_names(*, workspace: Workspace, limit: int = NAME_SUGGESTIONS) -> list[str]:
    """Distinct event names of the workspace, for the name filter's suggestions.

    A loose index scan on `event_name` (workspace, name, ...): one index probe per distinct name,
    instead of DISTINCT over every event. Works on PostgreSQL and SQLite alike.
    """
    table = connection.ops.quote_name(Event._meta.db_table)
    sql = f"""
        WITH RECURSIVE names(name) AS (
            SELECT MIN(name) FROM {table} WHERE workspace_id = %s AND name > ''
            UNION ALL
            SELECT (SELECT MIN(e.name) FROM {table} e
                    WHERE e.workspace_id = %s AND e.name > names.name)
            FROM names WHERE names.name IS NOT NULL
        )
        SELECT name FROM names WHERE name IS NOT NULL LIMIT %s
    """  # noqa: S608 - the only interpolation is our own table name
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace.pk, workspace.pk, limit])
        return [row[0] for row in cursor.fetchall()]


def feed_event(*, workspace: Workspace, event_id: int) -> Event | None:
    """One event with its raw message, for the expanded row."""
    return (
        Event.objects.for_workspace(workspace)
        .select_related("identity__person")
        .filter(pk=event_id)
        .first()
    )


def timeline_page(
    workspace: Workspace,
    person: Person,
    *,
    show_hidden: bool,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int | None = None,
) -> Page:
    """A person's events, newest first: the events of all their identities, with the rows the
    Feed shows (the raw message stays in the database until a row is expanded).

    Each identity gets its own ordered, limited scan of `event_identity` (see
    `core.paging.keyset_page`'s split), in one statement whatever the number of identities: a
    person with a million events costs what one with thirty does, and one with 6,000 ids costs
    about 100 ms (one UNION ALL branch per id took 13-19 s)."""
    identity_ids = list(
        Identity.objects.for_workspace(workspace).filter(person=person).values_list("pk", flat=True)
    )
    events = Event.objects.for_workspace(workspace)
    if not show_hidden:
        events = events.visible()
    return keyset_page(
        _for_rows(events).defer("warnings"),
        moment_field="timestamp",
        nullable=False,
        size=size or TIMELINE_PAGE_SIZE,
        after=after,
        before=before,
        split=("identity_id", identity_ids),
    )
