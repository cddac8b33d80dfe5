from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.decorators import workspace_required
from people.models import Person


@workspace_required
def person_list(request: HttpRequest) -> HttpResponse:
    people = Person.objects.for_workspace(request.workspace).current().order_by("-last_seen")[:50]
    return render(request, "people/person_list.html", {"people": people})


@workspace_required
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.for_workspace(request.workspace), pk=person_id)
    return render(request, "people/person_detail.html", {"person": person})
