"""The People page (where a filter is built and applied) and saved segments' pages.

One URL, two renders: `/people/` renders the page, or with htmx its results fragment. What it
shows is the filter of the URL: `?filter=` (the compact JSON of segments/filters.py), or a saved
segment's (`?segment=<id>`, overridden by a `filter` beside it: the segment being edited), or the
builder form's fields, which the page turns into `?filter=` (a redirect, or htmx's pushed URL) so
that the address is always the shareable one. The older search and menus (`q`, `group`,
`audience`, `missing_email`) narrow whatever the filter selects.

An untrusted filter (a hand-edited or hostile URL) is refused with its FilterError's message and a
400 before any people are read. The count and the builder's suggestions are fragments the page
loads after itself (`people:count`, `people:builder_options`): the table never waits for a count,
and the page runs a fixed number of queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from accounts.decorators import Capability, WorkspaceRequest, member_required
from accounts.team import NotAllowed
from core.csv_stream import csv_lines, csv_response
from core.paging import Page, keyset_page
from core.params import cursor_param, integer_param, or_none, text_param
from feed.selectors import feed_event_names
from people import selectors
from people.export import people_csv_header, people_csv_rows
from people.models import Group as Company
from people.models import Person
from people.selectors import PeopleFilters
from segments.builder import (
    FIELDS,
    OPERATORS,
    builder_filter,
    builder_from_filter,
    builder_from_query,
)
from segments.filters import EVERYONE, FilterError, Group, filter_dumps, filter_loads, filter_parse
from segments.models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, Segment
from segments.query import people_count, people_matching
from segments.services import SegmentError, segment_create, segment_delete, segment_update

COLUMNS_MAX = 8
COLUMN_KEY_MAX_LENGTH = 200
# The builder's key suggestions: the trait keys of this many of the most recently seen people
# (and companies), so that the suggestion costs the same in a workspace of a million.
KEYS_SAMPLE = 500
KEYS_SHOWN = 300
# Above this, a search or menu beside the filter shows "more than" rather than counting on.
COUNT_CAP = 10_000


@dataclass
class Selection:
    """What a People URL selects: the filter, the segment it came from, and the older filters."""

    filters: PeopleFilters
    tree: Group
    segment: Segment | None
    columns: list[str]
    error: FilterError | None = None

    def query(self) -> QueryDict:
        """The canonical query string: what the address bar and every link of the page carry."""
        query = QueryDict(mutable=True)
        for name, value in (
            ("q", self.filters.q),
            ("group", self.filters.group_id or ""),
            ("audience", self.filters.audience),
            ("missing_email", "1" if self.filters.missing_email else ""),
            ("segment", self.segment.pk if self.segment else ""),
            ("filter", self.filter_text if self.edited else ""),
            ("columns", ",".join(self.columns)),
        ):
            if value:
                query[name] = str(value)
        return query

    @property
    def filter_text(self) -> str:
        return filter_dumps(self.tree)

    @property
    def edited(self) -> bool:
        """Whether the filter is not the open segment's own (or, without one, not everyone)."""
        if self.segment is None:
            return self.tree != EVERYONE
        return self.tree != filter_parse(self.segment.filter)


def _columns(params: QueryDict) -> list[str]:
    text = text_param(params, "columns", max_length=COLUMNS_MAX * (COLUMN_KEY_MAX_LENGTH + 1))
    keys = []
    for key in (part.strip() for part in text.split(",")):
        if key and key not in keys and len(key) <= COLUMN_KEY_MAX_LENGTH:
            keys.append(key)
    return keys[:COLUMNS_MAX]


def _selection(request: WorkspaceRequest) -> tuple[Selection, Any]:
    """The URL's selection, and the builder's rows as typed (None: shown from the filter).
    ParameterError for a malformed older parameter; a bad filter is `Selection.error`."""
    params = request.GET
    filters = PeopleFilters.from_query(params)
    columns = _columns(params)
    segment_id = integer_param(params, "segment")
    segment = None
    if segment_id is not None:
        segment = get_object_or_404(
            Segment.objects.visible_to(request.membership).select_related("created_by"),
            pk=segment_id,
        )
    built = builder_from_query(params)
    selection = Selection(filters=filters, tree=EVERYONE, segment=segment, columns=columns)
    try:
        if built is not None:
            selection.tree = builder_filter(built)
        elif params.get("filter"):
            selection.tree = filter_loads(params["filter"])
        elif segment is not None:
            selection.tree = filter_parse(segment.filter)
    except FilterError as error:
        selection.error = error
    return selection, built


def _people(request: WorkspaceRequest, selection: Selection, *, now: Any) -> Any:
    """The people the selection picks, unordered, with the columns the list shows."""
    workspace, filters = request.workspace, selection.filters
    if selection.tree == EVERYONE:
        people = selectors.people_filtered(workspace=workspace, filters=filters)
    else:
        people = people_matching(
            workspace=workspace, filter=selection.tree, now=now, viewer=request.membership
        )
        if filters.q:
            people = selectors.people_search(people, workspace=workspace, q=filters.q)
        if filters.group_id:
            people = people.filter(group_id=filters.group_id)
        if filters.audience:
            people = selectors.people_in_audience(people, filters.audience)
        if filters.missing_email:
            people = selectors.people_without_email(people)
        people = people.select_related("group").only(*selectors.LIST_COLUMNS)
    if selection.columns:
        people = people.only(*selectors.LIST_COLUMNS, "traits")
    return people


def _page(request: WorkspaceRequest, selection: Selection) -> Page:
    after = or_none(cursor_param, request.GET, "after")
    before = or_none(cursor_param, request.GET, "before")
    if selection.tree == EVERYONE and not selection.columns:
        return selectors.people_page(
            workspace=request.workspace, filters=selection.filters, after=after, before=before
        )
    page = keyset_page(
        _people(request, selection, now=timezone.now()),
        moment_field="last_seen",
        nullable=True,
        size=selectors.PEOPLE_PAGE_SIZE,
        after=after,
        before=before,
    )
    for person in page.rows:
        traits = person.traits if selection.columns and isinstance(person.traits, dict) else {}
        person.cells = [_cell(traits.get(key)) for key in selection.columns]
    return page


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _canonical_url(request: WorkspaceRequest, selection: Selection, **extra: str) -> str:
    query = selection.query()
    for key, value in extra.items():
        query[key] = value
    encoded = query.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path


@require_GET
@member_required()
@vary_on_headers("HX-Request")
def people_list(request: WorkspaceRequest) -> HttpResponse:
    selection, built = _selection(request)
    fragment = bool(request.htmx and request.htmx.target == "people-results")
    if built is not None and not fragment and selection.error is None:
        # The builder's form, sent without htmx: to the shareable address of what it says.
        return redirect(_canonical_url(request, selection))
    context: dict[str, Any] = {
        "selection": selection,
        "filters": selection.filters,
        "segment": selection.segment,
        "query": selection.query(),
        "error": selection.error,
        "can_delete": request.membership.can(Capability.DELETE_PEOPLE),
        "can_set_search": request.membership.can(Capability.MANAGE_SOURCES),
        "can_edit_segment": bool(
            selection.segment and selection.segment.editable_by(request.membership)
        ),
    }
    if selection.error is None:
        try:
            page = _page(request, selection)
        except FilterError as error:  # a saved segment it includes is gone or not the viewer's
            selection.error = context["error"] = error
    if selection.error is None:
        context["page"] = page
        first_visit = (
            not page.rows
            and not selection.filters.active
            and selection.tree == EVERYONE
            and "after" not in request.GET
            and "before" not in request.GET
        )
        # Only asked when the page is empty: the one case where "no people at all" matters.
        context["no_people_yet"] = first_visit and not selectors.workspace_has_people(
            request.workspace
        )
    context["ingest_url"] = request.build_absolute_uri(reverse("ingest:batch"))
    context["sources_url"] = reverse("sources:list")
    if fragment:
        response = render(request, "people/_people_results.html", context)
        if selection.error is None:
            # The address bar shows the filter as `?filter=`, without the form's empty fields, so
            # the pushed URL is the one people would share.
            pages = {
                k: request.GET[k]
                for k in ("after", "before")
                if or_none(cursor_param, request.GET, k)
            }
            push_url(response, _canonical_url(request, selection, **pages))
        return response
    context["builder"] = (
        built
        if built is not None
        else builder_from_filter(selection.tree if not selection.error else EVERYONE)
    )
    context["fields"] = FIELDS
    context["operators"] = OPERATORS
    context["groups"] = selectors.group_choices(
        request.workspace, selected=selection.filters.group_id
    )
    context["audiences"] = selectors.audience_choices(request.workspace)
    context["visibilities"] = Segment.Visibility.choices
    context["name_max"], context["description_max"] = NAME_MAX_LENGTH, DESCRIPTION_MAX_LENGTH
    status = 400 if selection.error else 200
    return render(request, "people/person_list.html", context, status=status)


# --- The page's fragments ---------------------------------------------------------------------


def count_label(n: int, *, exact: bool) -> str:
    """ "1,204 people", or "about 1.2M people" for an estimate."""
    noun = "person" if n == 1 else "people"
    if exact:
        return f"{n:,} {noun}"
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if n >= size:
            return f"about {n / size:.1f}".removesuffix(".0") + f"{suffix} {noun}"
    return f"about {n:,} {noun}"


@require_GET
@member_required()
def people_count_view(request: WorkspaceRequest) -> HttpResponse:
    """How many people the same query selects: the page's count, loaded after the page."""
    selection, _ = _selection(request)
    if selection.error is not None:
        return render(request, "segments/_count.html", {"error": selection.error}, status=400)
    try:
        label = _count_label(request, selection)
    except FilterError as error:
        return render(request, "segments/_count.html", {"error": error}, status=400)
    return render(request, "segments/_count.html", {"label": label})


def _count_label(request: WorkspaceRequest, selection: Selection) -> str:
    now = timezone.now()
    if selection.filters.active:
        # A search or menu beside the filter: counted up to a cap (the search has no estimate).
        found = _people(request, selection, now=now).order_by()[: COUNT_CAP + 1].count()
        label = count_label(min(found, COUNT_CAP), exact=True)
        label = f"more than {label}" if found > COUNT_CAP else label
    else:
        counted = people_count(
            workspace=request.workspace, filter=selection.tree, now=now, viewer=request.membership
        )
        label = count_label(counted.n, exact=counted.exact)
    return label


def trait_keys(request: WorkspaceRequest) -> tuple[list[str], list[str]]:
    """The trait keys of the most recently seen people, and of the most recently updated
    companies (a sample: see KEYS_SAMPLE)."""
    people = (
        Person.objects.for_workspace(request.workspace)
        .current()
        .order_by("-last_seen", "-id")
        .values_list("traits", flat=True)[:KEYS_SAMPLE]
    )
    companies = (
        Company.objects.for_workspace(request.workspace)
        .order_by("-updated_at", "-id")
        .values_list("traits", flat=True)[:KEYS_SAMPLE]
    )

    def keys(rows: Any) -> list[str]:
        found = {str(k) for traits in rows if isinstance(traits, dict) for k in traits}
        return sorted(found, key=str.lower)[:KEYS_SHOWN]

    return keys(people), keys(companies)


@require_GET
@member_required()
def builder_options(request: WorkspaceRequest) -> HttpResponse:
    """The builder's suggestions (trait keys, company trait keys, audiences, events, segments),
    loaded after the page."""
    people_keys, company_keys = trait_keys(request)
    context = {
        "trait_keys": people_keys,
        "group_keys": [
            "name",
            "group_id",
            *[k for k in company_keys if k not in ("name", "group_id")],
        ],
        "audiences": selectors.audience_choices(request.workspace),
        "events": feed_event_names(workspace=request.workspace),
        "segments": Segment.objects.visible_to(request.membership)
        .order_by("name", "id")
        .values_list("pk", "name")[:KEYS_SHOWN],
    }
    return render(request, "segments/_builder_options.html", context)


# --- Saved segments ---------------------------------------------------------------------------


@require_GET
@member_required()
def segment_list(request: WorkspaceRequest) -> HttpResponse:
    segments = (
        Segment.objects.visible_to(request.membership)
        .select_related("created_by", "updated_by")
        .order_by("builtin", "name", "id")
    )
    rows = [(segment, segment.editable_by(request.membership)) for segment in segments]
    return render(request, "segments/segment_list.html", {"rows": rows})


def _form(request: WorkspaceRequest) -> dict[str, str]:
    post = request.POST
    return {
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "visibility": post.get("visibility", Segment.Visibility.PRIVATE),
        "filter": post.get("filter", ""),
    }


def _filter_of(text: str) -> Group:
    return filter_loads(text) if text.strip() else EVERYONE


@require_POST
@member_required()
def segment_new(request: WorkspaceRequest) -> HttpResponse:
    """Save the People page's filter as a segment; then open it."""
    form = _form(request)
    try:
        segment = segment_create(
            actor=request.membership,
            name=form["name"],
            description=form["description"],
            visibility=form["visibility"],
            filter=_filter_of(form["filter"]),
        )
    except (FilterError, SegmentError) as error:
        return _form_page(request, form, error=str(getattr(error, "message", error)), status=400)
    messages.success(request, f"Saved the segment “{segment.name}”.")
    return redirect(f"{reverse('people:list')}?segment={segment.pk}")


def _form_page(
    request: WorkspaceRequest,
    form: dict[str, str],
    *,
    segment: Segment | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "segment": segment,
        "error": error,
        "visibilities": Segment.Visibility.choices,
        "name_max": NAME_MAX_LENGTH,
        "description_max": DESCRIPTION_MAX_LENGTH,
    }
    return render(request, "segments/segment_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@member_required()
def segment_edit(request: WorkspaceRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment.objects.visible_to(request.membership), pk=segment_id)
    if request.method == "GET":
        if not segment.editable_by(request.membership):
            raise NotAllowed("Only its maker, an owner or an admin may change this segment.")
        form = {
            "name": segment.name,
            "description": segment.description,
            "visibility": segment.visibility,
            "filter": json.dumps(segment.filter, ensure_ascii=False),
        }
        return _form_page(request, form, segment=segment)
    form = _form(request)
    try:
        segment_update(
            segment=segment,
            actor=request.membership,
            name=form["name"],
            description=form["description"],
            visibility=form["visibility"],
            filter=_filter_of(form["filter"]),
        )
    except (FilterError, SegmentError) as error:
        message = str(getattr(error, "message", error))
        return _form_page(request, form, segment=segment, error=message, status=400)
    messages.success(request, f"Saved the segment “{segment.name}”.")
    return redirect(f"{reverse('people:list')}?segment={segment.pk}")


@require_POST
@member_required()
def segment_delete_view(request: WorkspaceRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment.objects.visible_to(request.membership), pk=segment_id)
    name = segment.name
    segment_delete(segment=segment, actor=request.membership)
    messages.success(request, f"Deleted the segment “{name}”.")
    return redirect("people:segments")


@require_GET
@member_required()
def people_export(request: WorkspaceRequest) -> HttpResponse:
    """The People list as CSV: everyone the page's URL selects (its filter or saved segment, its
    search and menus), streamed, with a column per trait of its `columns` (people/export.py).
    A filter refused is a 400 with its message, as on the page."""
    selection, _ = _selection(request)
    matching = None
    if selection.error is None and selection.tree != EVERYONE:
        try:
            matching = people_matching(
                workspace=request.workspace,
                filter=selection.tree,
                now=timezone.now(),
                viewer=request.membership,
            )
        except FilterError as error:  # a saved segment it includes is gone or not the viewer's
            selection.error = error
    if selection.error is not None:
        return HttpResponse(
            f"{selection.error.message} ({selection.error.path})",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    rows = people_csv_rows(
        workspace=request.workspace,
        filters=selection.filters,
        matching=matching,
        columns=selection.columns,
    )
    return csv_response("people.csv", csv_lines(people_csv_header(selection.columns), rows))
