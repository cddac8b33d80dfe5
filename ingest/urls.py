"""Ingest paths. Trailing slashes are optional: senders are configured by hand."""

from django.conf import settings
from django.urls import path, re_path

from ingest import views

app_name = "ingest"

# Segment's HTTP API names and analytics.js's short browser paths.
CALL_PATHS = {
    "identify": "identify",
    "track": "track",
    "page": "page",
    "screen": "screen",
    "group": "group",
    "alias": "alias",
    "i": "identify",
    "t": "track",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
}

urlpatterns = [
    re_path(r"^v1/(?:batch|import|b)/?$", views.ingest, name="batch"),
    *[
        re_path(rf"^v1/{name}/?$", views.ingest, {"call_type": call}, name=f"call-{name}")
        for name, call in CALL_PATHS.items()
    ],
    re_path(r"^hook/(?P<token>[^/]+)/?$", views.hook, name="hook"),
]

if settings.INGEST_BENCH_VIEWS:
    # Only for `make bench`: the same server's cost of an HTTP round trip without our work.
    urlpatterns.append(path("bench/bare", views.bench_bare, name="bench-bare"))
