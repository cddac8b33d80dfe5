"""Every HTML response carries the project's security headers: on every URL name of the URLconf
(tests/url_names.py, the isolation test's list), signed in and signed out, GET and POST.

The headers are the ones windsor/settings.py sets through its middleware: the Content-Security-
Policy (django-csp, CONTENT_SECURITY_POLICY), X-Content-Type-Options, Referrer-Policy,
Cross-Origin-Opener-Policy and, over https in production, Strict-Transport-Security (Django's
SecurityMiddleware), and X-Frame-Options (XFrameOptionsMiddleware). A view can drop one for itself
(`@csp_exempt`, `@xframe_options_exempt`) without any other page noticing; this test notices.

Each URL name is classified below: a page (its signed-in GET must be a 200 HTML page, so that it
cannot pass by answering something else), a form or button that answers POST, or not HTML (with
why). A new URL name fails test_every_url_name_is_classified until it is added to one of them.
"""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client

from accounts import team
from accounts.models import Membership
from segments.models import Segment
from tests.url_names import BASE, url_for, url_names
from tests.world import world_build

pytestmark = pytest.mark.django_db

# Signed-in GETs that are pages (or htmx fragments of one) and must answer 200 HTML.
PAGES = {
    "people:list",
    "people:count",
    "people:builder_options",
    "people:segments",
    "people:segment_edit",
    "people:detail",
    "people:delete",
    "people:suppressions",
    "people:search_settings",
    "feed:list",
    "feed:new",
    "feed:event",
    "feed:timeline",
    "members:list",
    "members:audit",
    "sources:list",
    "api-keys:list",
    "api:docs",
    "ops:status",
    "invitation",
    "login",
    "signup",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
# Signed-out GETs that are pages too (the rest redirect to the login page).
PUBLIC_PAGES = {
    "login",
    "signup",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "invitation",
    "api:docs",
    "route:admin/login/",
}
# Views that answer POST only (a GET is a 405): their POST answers are checked.
POSTED = {
    "logout",
    "workspace_switch",
    "people:hidden_toggle",
    "people:lift",
    "people:segment_new",
    "people:segment_delete",
    "feed:hidden",
    "feed:timeline-hidden",
    "members:invite",
    "members:invitation-resend",
    "members:invitation-revoke",
    "members:role",
    "members:remove",
    "members:leave",
    "sources:add",
    "sources:rotate",
    "sources:revoke",
    "sources:erasure",
    "api-keys:add",
    "api-keys:revoke",
    "ops:store-again",
}
NOT_HTML = {
    "route:": "the root: a redirect to people:list (checked: redirects are HTML responses)",
    "people:export": "CSV",
    "feed:export": "CSV",
    "feed:event-raw": "the raw message as a JSON file",
    "api:people": "the Read API: JSON",
    "api:person": "the Read API: JSON",
    "api:person-events": "the Read API: JSON",
    "api:events": "the Read API: JSON",
    "api:groups": "the Read API: JSON",
    "api:group": "the Read API: JSON",
    "api:segments": "the Read API: JSON",
    "api:segment": "the Read API: JSON",
    "api:schema": "the OpenAPI document",
    "ops:healthz": "JSON for load balancers",
    "ops:readyz": "JSON for orchestrators",
    "ops:metrics": "Prometheus text",
    "admin:jsi18n": "the admin's translations, as JavaScript",
}
NOT_HTML_NAMESPACES = {"ingest": "senders' JSON endpoints (the ingest shortcut skips the pages' "
                       "middleware on purpose)"}  # fmt: skip
# Django's admin: every GET of a superuser is an HTML page, a redirect or an error page.
HTML_NAMESPACES = {"admin"}
# Views that widen the policy for themselves, and how.
CSP_ADDITIONS = {"api:docs": {"img-src": ["data:"]}}

HSTS = 365 * 24 * 3600  # production's default (settings.SECURE_HSTS_SECONDS, debug off)


@pytest.fixture
def production_headers(settings) -> None:
    """Production's https settings; the tests run in debug, which leaves HSTS off."""
    settings.SECURE_HSTS_SECONDS = HSTS
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True


def namespace(name: str) -> str:
    return name.partition(":")[0] if ":" in name and not name.startswith("route:") else ""


def policy(header: str) -> dict[str, list[str]]:
    directives = (d.strip().split() for d in header.split(";") if d.strip())
    return {d[0]: sorted(d[1:]) for d in directives}


def expected_policy(name: str) -> dict[str, list[str]]:
    expected = {k: list(v) for k, v in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()}
    for directive, sources in CSP_ADDITIONS.get(name, {}).items():
        expected[directive] = expected.get(directive, []) + sources
    return {k: sorted(v) for k, v in expected.items()}


def missing_headers(name: str, response) -> list[str]:
    """What an HTML response lacks of the project's headers (empty when it has them all)."""
    wanted = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": settings.X_FRAME_OPTIONS,
        "Referrer-Policy": settings.SECURE_REFERRER_POLICY,
        "Cross-Origin-Opener-Policy": settings.SECURE_CROSS_ORIGIN_OPENER_POLICY,
        "Strict-Transport-Security": f"max-age={HSTS}; includeSubDomains; preload",
    }
    missing = [f"{k}: {response.get(k)!r}" for k, v in wanted.items() if response.get(k) != v]
    csp = response.get("Content-Security-Policy")
    if csp is None or policy(csp) != expected_policy(name):
        missing.append(f"Content-Security-Policy: {csp!r}")
    return missing


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


@pytest.fixture
def walk(owner_client, owner, workspace, issued, production_headers, settings) -> Iterator[dict]:
    """The clients and an address for every URL name: Acme's person, event, group and a pending
    invitation's link, so that the pages answer with themselves rather than a 404."""
    settings.WINDSOR_SIGNUP = "open"  # the signup form, not the page saying it is closed
    world = world_build(workspace, issued)
    owner.is_staff = owner.is_superuser = True  # the admin's and the status page's own pages
    owner.save()
    invitation = team.invitation_create(
        actor=Membership.objects.get(workspace=workspace), email="new@acme.example", role="member"
    )
    values = {
        "person_id": world.person.pk,
        "event_id": world.event.pk,
        "group_id": world.group.pk,
        "token": invitation.token,
        "segment_id": Segment.objects.filter(workspace=workspace).values_list("pk", flat=True)[0],
    }
    owner_client.raise_request_exception = False
    yield {
        "signed_in": owner_client,
        "signed_out": Client(raise_request_exception=False),
        "urls": {name: url_for(name, values) for name in sorted(set(url_names()))},
    }


def test_every_html_response_carries_the_security_headers(walk):
    failures, statuses = [], {}
    # GETs first (a POST may delete the person a page shows, or sign the client out).
    for who in ("signed_in", "signed_out"):
        for name, url in walk["urls"].items():
            response = walk[who].get(url, BASE.get(name, {}), secure=True)
            statuses[(who, name)] = response
            if is_html(response) and (missing := missing_headers(name, response)):
                failures.append((who, "GET", name, response.status_code, missing))
    for who in ("signed_out", "signed_in"):
        # Signing out last; the admin's POSTs change its objects and are the admin's own.
        for name, url in sorted(walk["urls"].items(), key=lambda item: item[0] == "logout"):
            if namespace(name) == "admin":
                continue
            response = walk[who].post(url, secure=True)
            statuses[(f"{who} POST", name)] = response
            if is_html(response) and (missing := missing_headers(name, response)):
                failures.append((who, "POST", name, response.status_code, missing))
    assert not failures, "\n".join(map(str, failures))

    # The classification holds: pages are pages, and what is not HTML is not.
    wrong = []
    for name in walk["urls"]:
        signed_in, signed_out = statuses[("signed_in", name)], statuses[("signed_out", name)]
        if name in PAGES and not (signed_in.status_code == 200 and is_html(signed_in)):
            wrong.append(f"{name}: a page, but its GET answered {signed_in.status_code}")
        if name in PUBLIC_PAGES and not (signed_out.status_code == 200 and is_html(signed_out)):
            wrong.append(f"{name}: a public page, but answered {signed_out.status_code}")
        if name in POSTED and not is_html(statuses[("signed_in POST", name)]):
            wrong.append(f"{name}: its POST answered {statuses[('signed_in POST', name)]}")
        not_html = name in NOT_HTML or namespace(name) in NOT_HTML_NAMESPACES
        if not_html and name != "route:" and is_html(signed_in):
            wrong.append(f"{name}: listed as not HTML, but answers HTML: list it as a page")
        if namespace(name) in HTML_NAMESPACES and name not in NOT_HTML and not is_html(signed_in):
            wrong.append(f"{name}: an admin page that answered {signed_in['Content-Type']}")
    assert not wrong, "\n".join(wrong)


def test_every_url_name_is_classified():
    classified = PAGES | PUBLIC_PAGES | POSTED | set(NOT_HTML)
    names = set(url_names())
    unclassified = sorted(
        name
        for name in names
        if name not in classified
        and namespace(name) not in HTML_NAMESPACES | set(NOT_HTML_NAMESPACES)
    )
    assert not unclassified, (
        f"classify these URL names in tests/test_security_headers.py (PAGES, POSTED or NOT_HTML "
        f"with why), so that their responses' security headers are checked: {unclassified}"
    )
    stale = sorted(classified - names)
    assert not stale, f"classified names that no longer exist: {stale}"
