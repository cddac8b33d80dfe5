"""The Read API's reads: the People page's and the Feed's own selectors, and the keyset pager,
composed for JSON. Nothing here filters people or events on its own: search and filters are
people/selectors.py's, segment filters segments/query.py's, event filters feed/selectors.py's,
so the API, the pages and the CSV export cannot differ.

Every read starts from the caller's workspace and costs a fixed number of queries."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Membership, Workspace
from api.errors import InvalidFilter, InvalidParameter
from core.paging import Cursor, Page, keyset_page
from core.params import ParameterError, instant_param, integer_param
from feed.models import Event
from feed.selectors import FeedFilters, feed_events
from people import selectors as people_selectors
from people.models import Group, Person
from people.selectors import PEOPLE_PAGE_SIZE, PeopleFilters, people_filtered
from segments import filters as segment_filters
from segments.models import Segment
from segments.query import PeopleCount, people_count, people_matching

# Members shown inline on a group; the rest through /api/v1/people/?group=<id>.
GROUP_MEMBERS_SHOWN = 50


@dataclass(frozen=True)
class EventFilters:
    """The Feed's filters (type, name, hidden shown) and a time range [since, until)."""

    feed: FeedFilters
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_query(cls, params: Any) -> "EventFilters":
        event_type = params.get("type", "")
        if event_type and event_type not in Event.Type.values:
            raise InvalidParameter(f"type must be one of {', '.join(Event.Type.values)}.")
        hidden = params.get("hidden", "0")
        if hidden not in {"0", "1", "true", "false"}:
            raise InvalidParameter("hidden must be 1 (include hidden events) or 0.")
        # Hidden events (page views) are left out unless asked for, as on the Feed.
        feed = FeedFilters.from_query(params, default_show_hidden=False).with_hidden(
            hidden in {"1", "true"}
        )
        since, until = instant_param(params, "since"), instant_param(params, "until")
        return cls(feed=feed, since=since, until=until)


def _in_range(events: Any, filters: EventFilters) -> Any:
    if filters.since is not None:
        events = events.filter(timestamp__gte=filters.since)
    if filters.until is not None:
        events = events.filter(timestamp__lt=filters.until)
    return events


def events_page(
    *,
    workspace: Workspace,
    filters: EventFilters,
    after: Cursor | None,
    before: Cursor | None,
    size: int,
) -> Page:
    """A page of the workspace's events, newest first (one query)."""
    if filters.feed.hides_everything_asked:
        return Page(rows=[])
    events = _in_range(feed_events(workspace=workspace, filters=filters.feed), filters)
    return keyset_page(
        events, moment_field="timestamp", nullable=False, size=size, after=after, before=before
    )


def person_events_page(
    *,
    workspace: Workspace,
    person: Person,
    identity_ids: list[int],
    filters: EventFilters,
    after: Cursor | None,
    before: Cursor | None,
    size: int,
) -> Page:
    """A page of one person's events, newest first: one ordered, limited scan per identity
    (core.paging's split, as on the person's timeline), so a heavy customer costs what
    anyone else does, and one statement whatever their number of ids. The rows carry their
    identity (the Feed's join): only the page's identities are read as rows."""
    if filters.feed.hides_everything_asked or not identity_ids:
        return Page(rows=[])
    events = _in_range(feed_events(workspace=workspace, filters=filters.feed), filters)
    return keyset_page(
        events.defer("warnings"),
        moment_field="timestamp",
        nullable=False,
        size=size,
        after=after,
        before=before,
        split=("identity_id", identity_ids),
    )


def person_resolved(workspace: Workspace, person_id: int) -> Person | None:
    """The person with that id, or the survivor a merged id now lives in (with the group)."""
    person = people_selectors.person_for_page(workspace, person_id)
    if person is None or not person.merged_into_id:
        return person
    survivor_id = people_selectors.merge_survivor_id(workspace, person)
    return people_selectors.person_for_page(workspace, survivor_id)


def groups_page(
    *, workspace: Workspace, after: Cursor | None, before: Cursor | None, size: int
) -> Page:
    """The workspace's groups, newest first."""
    groups = Group.objects.for_workspace(workspace).defer("trait_versions")
    return keyset_page(
        groups, moment_field="created_at", nullable=False, size=size, after=after, before=before
    )


def group_for_api(workspace: Workspace, group_id: int) -> Group | None:
    return (
        Group.objects.for_workspace(workspace).defer("trait_versions").filter(pk=group_id).first()
    )


def group_members(workspace: Workspace, group: Group) -> Page:
    """The group's most recently seen members: the People list filtered by the group."""
    return people_selectors.people_page(
        workspace=workspace, filters=PeopleFilters(group_id=group.pk), size=GROUP_MEMBERS_SHOWN
    )


# --- Segments -----------------------------------------------------------------------------------


def segments_visible(workspace: Workspace, viewer: Membership | None) -> QuerySet:
    """The saved segments the viewer may read: the workspace's team segments and their own
    private ones (a key an operator made, with no viewer: the team segments)."""
    if viewer is not None and viewer.workspace_id == workspace.pk:
        segments = Segment.objects.visible_to(viewer)
    else:
        segments = Segment.objects.for_workspace(workspace).filter(
            visibility=Segment.Visibility.TEAM
        )
    return segments.select_related("created_by")


def segment_visible(
    workspace: Workspace, viewer: Membership | None, segment_id: int
) -> Segment | None:
    return segments_visible(workspace, viewer).filter(pk=segment_id).first()


def segments_page(
    *,
    workspace: Workspace,
    viewer: Membership | None,
    after: Cursor | None,
    before: Cursor | None,
    size: int,
) -> Page:
    """The visible segments, newest first."""
    return keyset_page(
        segments_visible(workspace, viewer),
        moment_field="created_at",
        nullable=False,
        size=size,
        after=after,
        before=before,
    )


def segment_counts(
    *, workspace: Workspace, viewer: Membership | None, segments: list[Segment], now: datetime
) -> dict[int, PeopleCount]:
    """Each segment's count (one query each; an estimate where an exact count would be slow)."""
    return {
        segment.pk: people_count(
            workspace=workspace, filter=segment_tree(segment), now=now, viewer=viewer
        )
        for segment in segments
    }


def segment_tree(segment: Segment) -> segment_filters.Group:
    """A saved segment's filter, parsed again (it may name a segment since deleted)."""
    try:
        return segment_filters.filter_parse(segment.filter)
    except segment_filters.FilterError as error:
        raise InvalidFilter(error, param="segment") from None


@dataclass(frozen=True)
class PeopleQuery:
    """What /api/v1/people/ selects: the People page's search and filters, and a filter tree
    (`?segment=` and `?filter=` ANDed; None for neither)."""

    filters: PeopleFilters
    tree: segment_filters.Group | None = None

    @classmethod
    def from_query(
        cls, params: Any, *, workspace: Workspace, viewer: Callable[[], Membership | None]
    ) -> "PeopleQuery":
        """The query of a URL. `?filter=` is parsed before anything is read from the database:
        a hostile filter costs no query. A segment the viewer may not see is a 404."""
        filters = PeopleFilters.from_query(params)
        text = params.get("filter") or ""
        if "\x00" in text:
            raise ParameterError("filter", "filter must not contain a NUL character.")
        parts = []
        if text:
            try:
                parts.append(segment_filters.filter_loads(text))
            except segment_filters.FilterError as error:
                raise InvalidFilter(error, param="filter") from None
        segment_id = integer_param(params, "segment")
        if segment_id is not None:
            segment = segment_visible(workspace, viewer(), segment_id)
            if segment is None:
                raise Http404
            parts.insert(0, segment_tree(segment))
        if not parts:
            return cls(filters=filters)
        tree = parts[0] if len(parts) == 1 else segment_filters.Group("and", tuple(parts))
        return cls(filters=filters, tree=tree)


def people_selected(
    *, workspace: Workspace, query: PeopleQuery, viewer: Membership | None, now: datetime
) -> QuerySet:
    """The People list's rows for the query, unordered: the page's search and filters, ANDed
    with the filter tree's people (one WHERE, so the list's index walk still serves the page)."""
    people = people_filtered(workspace=workspace, filters=query.filters)
    if query.tree is None:
        return people
    return people & people_matching(workspace=workspace, filter=query.tree, now=now, viewer=viewer)


def people_selected_page(
    *,
    workspace: Workspace,
    query: PeopleQuery,
    viewer: Membership | None,
    now: datetime,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int | None = None,
) -> Page:
    """One page of the People list for the query, in the list's order: one query."""
    return keyset_page(
        people_selected(workspace=workspace, query=query, viewer=viewer, now=now),
        moment_field="last_seen",
        nullable=True,
        size=size or PEOPLE_PAGE_SIZE,
        after=after,
        before=before,
    )
