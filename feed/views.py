"""The Feed page: one URL, two renders (the page, or its htmx fragment), plus its fragments."""

import json
from functools import partial

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from accounts.decorators import WorkspaceRequest, member_required
from accounts.preferences import hidden_events_preference, hidden_events_preference_set
from core.csv_stream import csv_lines, csv_response
from core.paging import Cursor
from core.params import cursor_param, integer_param, or_none
from feed import selectors
from feed.charts import feed_chart
from feed.export import EVENTS_CSV_HEADER, events_csv_rows
from feed.models import Event
from feed.selectors import FeedFilters
from people.models import Person
from people.selectors import person_for_page


def _filters(request: WorkspaceRequest) -> FeedFilters:
    # The saved preference is read only when the URL does not say; a link carries ?hidden=.
    if request.GET.get("hidden") in {"0", "1"}:
        return FeedFilters.from_query(request.GET, default_show_hidden=False)
    shown = hidden_events_preference(user=request.user, workspace=request.workspace)
    return FeedFilters.from_query(request.GET, default_show_hidden=shown)


def _poll_query(filters: FeedFilters, *, seen: int, previous: int) -> str:
    """The next poll: everything above the previous poll's watermark (re-reading one interval,
    for worker transactions that commit out of id order), remembering what this one saw."""
    return filters.querystring(since=min(previous, seen), after=seen)


def _list_context(
    request: WorkspaceRequest, filters: FeedFilters, before: Cursor | None, upto: int | None = None
) -> dict:
    page = selectors.feed_page(
        workspace=request.workspace, filters=filters, before=before, upto=upto
    )
    return {
        "filters": filters,
        "events": page.events,
        "page": page,
        "older_query": page.older and filters.querystring(before=page.older, upto=page.watermark),
        "poll_query": _poll_query(filters, seen=page.watermark, previous=page.watermark),
        "types": Event.Type.choices,
        # Called by the template only where the filter form is drawn (not for "Older" rows).
        "event_names": partial(selectors.feed_event_names, workspace=request.workspace),
    }


@require_GET
@member_required()
@vary_on_headers("HX-Request")
def feed_list(request: WorkspaceRequest) -> HttpResponse:
    filters = _filters(request)
    if "hidden" not in request.GET and not request.htmx:
        # Put the remembered choice in the URL, so that the address bar reproduces the view.
        keep = {k: request.GET[k] for k in ("before", "upto") if k in request.GET}
        return redirect(f"{request.path}?{filters.querystring(**keep)}")
    before = or_none(cursor_param, request.GET, "before")
    # A malformed watermark only loses the cut: the page is still right, a poll may repeat.
    upto = or_none(integer_param, request.GET, "upto")
    context = _list_context(request, filters, before, upto)
    if request.htmx and before is not None:
        # "Older": the rows to append, and the next Older link swapped out of band.
        return render(request, "feed/_event_page.html", context)
    if request.htmx:
        # The canonical address of this view (no empty fields), for the address bar.
        response = render(request, "feed/_event_list.html", context)
        return push_url(response, f"{request.path}?{filters.querystring()}")
    context["activity_chart"] = feed_chart(workspace=request.workspace, now=timezone.now())
    return render(request, "feed/feed.html", context)


@require_GET
@member_required()
def feed_export(request: WorkspaceRequest) -> StreamingHttpResponse:
    """The Feed as CSV: every event the Feed's filters select, newest first, streamed."""
    rows = events_csv_rows(workspace=request.workspace, filters=_filters(request))
    return csv_response("events.csv", csv_lines(EVENTS_CSV_HEADER, rows))


@require_POST
@member_required()
def feed_hidden_toggle(request: WorkspaceRequest) -> HttpResponse:
    show = request.POST.get("show") == "1"
    hidden_events_preference_set(user=request.user, workspace=request.workspace, show=show)
    filters = FeedFilters.from_query(request.POST, default_show_hidden=show).with_hidden(show)
    url = f"{reverse('feed:list')}?{filters.querystring()}"
    if not request.htmx:
        return redirect(url, permanent=False)
    response = render(request, "feed/_event_list.html", _list_context(request, filters, None))
    return push_url(response, url)


@require_GET
@member_required()
def feed_new(request: WorkspaceRequest) -> HttpResponse:
    """Polled by the page every few seconds: the rows stored since, for the top of the list."""
    after = integer_param(request.GET, "after")
    since = integer_param(request.GET, "since") if "since" in request.GET else after
    if after is None or since is None:
        return HttpResponse("since and after must be event ids", status=400)
    since = min(since, after)
    filters = _filters(request)
    update = selectors.feed_updates(workspace=request.workspace, filters=filters, since=since)
    context = {
        "events": update.events,
        "filters": filters,
        "poll_query": _poll_query(filters, seen=update.watermark, previous=after),
    }
    return render(request, "feed/_event_new.html", context)


@require_GET
@member_required()
@vary_on_headers("HX-Request")
def event_detail(request: WorkspaceRequest, event_id: int) -> HttpResponse:
    """The full raw message of one event: the expanded row, or a page of its own."""
    event = selectors.feed_event(workspace=request.workspace, event_id=event_id)
    if event is None:
        raise Http404("No such event in this workspace.")
    template = "feed/_event_raw.html" if request.htmx else "feed/event_detail.html"
    return render(request, template, {"event": event})


@require_GET
@member_required()
def event_raw_download(request: WorkspaceRequest, event_id: int) -> HttpResponse:
    """The whole raw message as a JSON file: "Show all" where the page shows a capped preview."""
    event = selectors.feed_event(workspace=request.workspace, event_id=event_id)
    if event is None:
        raise Http404("No such event in this workspace.")
    body = json.dumps(event.raw, indent=2, ensure_ascii=False, default=str)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.json"'
    return response


# --- A person's timeline ----------------------------------------------------------------------
# The person page (people:detail) loads this fragment with htmx: the events are the feed's, and
# the page keeps its URL, so the pager and the toggle push the person page's address.


def _timeline_show_hidden(request: WorkspaceRequest) -> bool:
    """`?hidden=1|0` when the URL says (a shared link shows what its sender saw), else the
    member's remembered choice, shared with the Feed."""
    asked = request.GET.get("hidden")
    if asked in {"0", "1"}:
        return asked == "1"
    return hidden_events_preference(user=request.user, workspace=request.workspace)


def _timeline_render(
    request: WorkspaceRequest, person: Person, *, show_hidden: bool, paged: bool
) -> HttpResponse:
    query = request.GET if paged else {}
    timeline = selectors.timeline_page(
        request.workspace,
        person,
        show_hidden=show_hidden,
        after=or_none(cursor_param, query, "after"),
        before=or_none(cursor_param, query, "before"),
    )
    context = {"person": person, "timeline": timeline, "show_hidden": show_hidden}
    return render(request, "feed/_timeline.html", context)


@require_GET
@member_required()
def timeline(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    """One page of a person's events, for the person page."""
    person = person_for_page(request.workspace, person_id)
    if person is None:
        raise Http404("No such person in this workspace.")
    return _timeline_render(request, person, show_hidden=_timeline_show_hidden(request), paged=True)


@require_POST
@member_required()
def timeline_hidden_toggle(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    """Show Hidden Events on a timeline: remembered for the member (the Feed's choice too).
    Without htmx the form posts to people:hidden_toggle, which redirects."""
    person = person_for_page(request.workspace, person_id)
    if person is None:
        raise Http404("No such person in this workspace.")
    show = request.POST.get("show") == "1"
    hidden_events_preference_set(user=request.user, workspace=request.workspace, show=show)
    url = f"{reverse('people:detail', args=[person.pk])}?hidden={int(show)}"
    response = _timeline_render(request, person, show_hidden=show, paged=False)
    return push_url(response, url)
