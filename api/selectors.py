"""The Read API's reads: the People page's and the Feed's own selectors, and the keyset pager,
composed for JSON. Nothing here filters people or events on its own: search and filters are
people/selectors.py's, event filters feed/selectors.py's, so the API and the pages cannot differ.

Every read starts from the caller's workspace and costs a fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.models import Workspace
from api.errors import InvalidParameter
from core.paging import Cursor, Page, keyset_page
from core.params import instant_param
from feed.models import Event
from feed.selectors import FeedFilters, feed_events
from people import selectors as people_selectors
from people.models import Group, Person
from people.selectors import PeopleFilters

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
