from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.decorators import Capability, WorkspaceRequest, member_required
from accounts.preferences import hidden_events_preference_set
from people import selectors
from people.deletion import person_delete, suppression_lift
from people.id_limit import person_ids_max
from people.models import Person, Suppression
from people.search_text import (
    SEARCH_TRAITS_MAX,
    SearchTraitsError,
    search_traits_clean,
    search_traits_parse,
    search_traits_set,
)

SUPPRESSIONS_SHOWN = 500


@require_GET
@member_required()
@vary_on_headers("HX-Request")
def person_detail(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    workspace = request.workspace
    person = selectors.person_for_page(workspace, person_id)
    if person is None:
        raise Http404("No such person in this workspace.")
    if person.merged_into_id:
        survivor_id = selectors.merge_survivor_id(workspace, person)
        url = reverse("people:detail", args=[survivor_id])
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)
    context = {
        "person": person,
        "identities": selectors.person_identities_shown(workspace, person),
        "merged_people": selectors.merged_people(workspace, person),
        "traits": selectors.trait_rows(person.traits),
        "group_traits": selectors.trait_rows(person.group.traits) if person.group else [],
        "audiences": selectors.audiences_of(person),
        "can_delete": request.membership.can(Capability.DELETE_PEOPLE),
        "ids_max": person_ids_max(),
    }
    return render(request, "people/person_detail.html", context)


@require_POST
@member_required()
def person_hidden_toggle(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    """Show Hidden Events on a timeline: remembered for the member (the Feed's choice too)."""
    workspace = request.workspace
    person = selectors.person_for_page(workspace, person_id)
    if person is None:
        raise Http404("No such person in this workspace.")
    show = request.POST.get("show") == "1"
    hidden_events_preference_set(user=request.user, workspace=workspace, show=show)
    url = f"{reverse('people:detail', args=[person.pk])}?hidden={int(show)}"
    # With htmx the timeline's toggle posts to feed:timeline-hidden, which swaps the timeline;
    # this is the form's plain POST.
    return redirect(url)


# --- Deleting and suppressing (people/deletion.py holds the rules) ----------------------------


@require_http_methods(["GET", "POST"])
@member_required(Capability.DELETE_PEOPLE)
def person_delete_view(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    """GET: the confirmation naming the person; POST: delete (or delete and suppress)."""
    workspace = request.workspace
    person = selectors.person_for_page(workspace, person_id)
    if person is None or person.merged_into_id:
        raise Http404("No such person in this workspace.")
    if request.method == "GET":
        context = {
            "person": person,
            "identities": selectors.person_identities_shown(workspace, person),
            "merged_count": Person.objects.for_workspace(workspace)
            .filter(merged_into=person)
            .count(),
        }
        return render(request, "people/person_delete.html", context)
    suppress = request.POST.get("suppress") == "1"
    deleted = person_delete(
        workspace=workspace, person=person, actor=request.membership, suppress=suppress
    )
    # Says which person went by number and ids only: the name is what was asked to be forgotten.
    ids = len(deleted.ids)
    done = "deleted and its ids suppressed" if suppress else "deleted"
    messages.success(
        request,
        f"Person #{person_id} {done}: {ids} id{'s' if ids != 1 else ''}, "
        f"{deleted.events} event{'s' if deleted.events != 1 else ''}.",
    )
    return redirect("people:list")


@require_GET
@member_required(Capability.DELETE_PEOPLE)
def suppression_list(request: WorkspaceRequest) -> HttpResponse:
    suppressions = (
        Suppression.objects.for_workspace(request.workspace)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:SUPPRESSIONS_SHOWN]
    )
    return render(
        request,
        "people/suppressions.html",
        {"suppressions": suppressions, "can_lift": request.membership.can(Capability.OWNER)},
    )


@require_POST
@member_required()
def suppression_lift_view(request: WorkspaceRequest, suppression_id: int) -> HttpResponse:
    """Owners only: the service refuses anyone else (a 403), after the 404 of another
    workspace's suppression."""
    suppression = get_object_or_404(
        Suppression.objects.for_workspace(request.workspace), pk=suppression_id
    )
    suppression_lift(workspace=request.workspace, suppression=suppression, actor=request.membership)
    messages.success(request, f"Lifted the suppression of {suppression}.")
    return redirect("people:suppressions")


# --- Search settings (people/search_text.py holds the rules) ----------------------------------


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_SOURCES)
def search_settings(request: WorkspaceRequest) -> HttpResponse:
    """Which text traits the People search finds: owners and admins (who decide what the
    workspace's data says) choose; a change recomputes the people's search text in the
    background."""
    workspace = request.workspace
    text = "\n".join(search_traits_clean(workspace.search_traits or []))
    error = ""
    if request.method == "POST":
        text = request.POST.get("search_traits", "")
        try:
            keys = search_traits_parse(text)
        except SearchTraitsError as refused:
            error = refused.message
        else:
            if search_traits_set(workspace=workspace, keys=keys):
                messages.success(
                    request,
                    "Search traits saved: people are being re-indexed, "
                    "which takes a minute on a large workspace.",
                )
            else:
                messages.info(request, "Search traits unchanged.")
            return redirect("people:search_settings")
    context = {
        "search_traits": text,
        "error": error,
        "traits_max": SEARCH_TRAITS_MAX,
    }
    return render(request, "people/search_settings.html", context, status=400 if error else 200)
