from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import workspace_required
from feed.models import Event


@workspace_required
def feed_list(request: HttpRequest) -> HttpResponse:
    events = Event.objects.for_workspace(request.workspace).visible().newest_first()[:50]
    return render(request, "feed/feed.html", {"events": events})
