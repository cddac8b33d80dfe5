"""Windsor's URLs plus /bench/bare, the benchmark's baseline: the same server's cost of an HTTP
round trip without our work. Mounted only by bench/settings.py."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bench_bare(request: HttpRequest) -> HttpResponse:
    """Reads the body and answers like ingest, doing nothing else."""
    request.read(settings.INGEST_MAX_REQUEST_BYTES + 1)
    return JsonResponse({"success": True})


urlpatterns = [
    path("bench/bare", bench_bare, name="bench-bare"),
    path("", include("windsor.urls")),
]
