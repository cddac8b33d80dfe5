"""Ingest paths. Trailing slashes are optional: senders are configured by hand."""

from django.urls import re_path

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
    # Not in Segment's HTTP API: a single-call path for its forwarded user deletions, like the
    # others (a delete is accepted on every path; see ingest/segment.py).
    "delete": "delete",
    "i": "identify",
    "t": "track",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
}

urlpatterns = [
    # One name for the three batch paths; /v1/batch first, the one `reverse` gives.
    re_path(r"^v1/batch/?$", views.ingest, name="batch"),
    re_path(r"^v1/(?:import|b)/?$", views.ingest, name="batch"),
    *[
        re_path(rf"^v1/{name}/?$", views.ingest, {"call_type": call}, name=f"call-{name}")
        for name, call in CALL_PATHS.items()
    ],
    re_path(r"^hook/(?P<token>[^/]+)/?$", views.hook, name="hook"),
]
