"""Windsor's URLs plus /bench/bare, the benchmark's baseline: the same server's cost of an HTTP
round trip, a JSON parse and a Redis push, without our work. Mounted only by bench/settings.py."""

import orjson
import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

_client: list[redis.Redis] = []


def _redis() -> redis.Redis:
    if not _client:
        _client.append(redis.Redis.from_url(settings.INGEST_REDIS_URL))
    return _client[0]


@csrf_exempt
def bench_bare(request: HttpRequest) -> HttpResponse:
    """What the issue calls the bare view: reads the body, parses it as JSON and pushes it to a
    Redis stream in one XADD (trimmed, so a long run does not fill Redis), then answers like
    ingest. No authentication, no validation, no per-message work."""
    body = request.read(settings.INGEST_MAX_REQUEST_BYTES + 1)
    data = orjson.loads(body)
    count = len(data["batch"]) if isinstance(data, dict) and "batch" in data else 1
    _redis().xadd(
        f"{settings.INGEST_STREAM}:bare", {"n": count, "m": body}, maxlen=1000, approximate=True
    )
    return JsonResponse({"success": True})


urlpatterns = [
    path("bench/bare", bench_bare, name="bench-bare"),
    path("", include("windsor.urls")),
]
