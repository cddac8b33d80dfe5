"""Every page and fragment state, checked by axe-core (WCAG 2.0 and 2.1, A and AA) in Chromium.

The data comes in as a customer's would: the real Segment SDK posts to the live server, the
Celery worker stores it. The walk visits each state in `STATES`; a state must make the requests
it claims to cover, and every named URL of the root URLconf is covered by a state or exempt
below with its reason, so a new page without an axe case fails here.
"""

import re
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from playwright.sync_api import expect
from segment.analytics import Client

from feed.models import Event
from ingest.models import DeadLetter
from ingest.urls import CALL_PATHS
from people.models import Identity

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}
ARRIVAL_MS = 30_000

# state -> the URL names its requests reach. Fragment endpoints are covered by the state that
# swaps their answer into the page (the axe run sees the page with the fragment in it).
STATES: dict[str, set[str]] = {
    "login": {"login"},
    "login-error": {"login"},
    "signup": {"signup"},
    "signup-errors": {"signup"},
    "signup-done": {"login"},
    "signup-closed": {"signup"},
    "sources-new-workspace": {"sources:list"},
    "people-empty": {"people:list"},
    "feed-empty": {"feed:list"},
    "people": {"people:list"},
    "people-search": {"people:list"},
    "people-filters": {"people:list"},
    "people-no-match": {"people:list"},
    "people-older": {"people:list"},
    "people-builder": {"people:list", "people:count", "people:builder_options"},
    "people-filter-error": {"people:list"},
    "segment-saved": {"people:segment_new", "people:list", "people:count"},
    "segments": {"people:segments", "people:count"},
    "segment-edit": {"people:segment_edit"},
    "segment-deleted": {"people:segment_delete", "people:segments"},
    "person": {"people:detail", "feed:timeline"},
    "person-event-expanded": {"feed:event"},
    "person-hidden-shown": {"feed:timeline-hidden"},
    "person-older": {"feed:timeline"},
    "person-delete": {"people:delete"},
    "person-deleted": {"people:delete", "people:list"},
    "suppressions": {"people:suppressions"},
    "search-settings": {"people:search_settings"},
    "suppression-lifted": {"people:lift", "people:suppressions"},
    "feed": {"feed:list"},
    "feed-row-expanded": {"feed:event"},
    "feed-hidden-shown": {"feed:hidden"},
    "feed-filtered": {"feed:list"},
    "feed-no-match": {"feed:list"},
    "feed-older": {"feed:list"},
    "feed-live-row": {"feed:new"},
    "event": {"feed:event"},
    "sources": {"sources:list"},
    "sources-token": {"sources:add"},
    "sources-add-error": {"sources:add"},
    "sources-rotated": {"sources:rotate"},
    "sources-revoked": {"sources:revoke"},
    "sources-may-erase": {"sources:erasure"},
    "api-keys": {"api-keys:list"},
    "api-keys-created": {"api-keys:add"},
    "api-keys-error": {"api-keys:add"},
    "api-keys-revoked": {"api-keys:revoke"},
    "api-docs": {"api:docs", "api:schema"},
    "api-docs-tried": {"api:people"},
    "status": {"ops:status"},
    "status-stored-again": {"ops:store-again"},
    "logged-out": {"logout"},
    "members": {"members:list"},
    "members-invitation": {"members:invite"},
    "members-invitation-resent": {"members:invitation-resend"},
    "members-invitation-revoked": {"members:invitation-revoke"},
    "audit-log": {"members:audit"},
    "invitation-signup": {"invitation"},
    "invitation-signed-up": {"signup", "login"},
    "members-role-changed": {"members:role"},
    "members-remove-confirm": {"members:remove"},
    "members-removed": {"members:remove"},
    "invitation-accept": {"invitation"},
    "switcher": {"invitation", "people:list"},
    "workspace-switched": {"workspace_switch"},
    "members-left": {"members:leave"},
    "invitation-gone": {"invitation"},
    "password-reset": {"password_reset"},
    "password-reset-sent": {"password_reset_done"},
    "password-reset-confirm": {"password_reset_confirm"},
    "password-reset-complete": {"password_reset_complete"},
}

# URL names with no axe case, and why. A prefix ending in ":" exempts a whole namespace.
EXEMPT: dict[str, str] = {
    "admin:": "Django's stock admin (staff only, Django's own templates), not Windsor's UI",
    "ingest:batch": "the Segment-compatible ingest API: JSON in, JSON out",
    **{
        f"ingest:call-{name}": "the Segment-compatible ingest API: JSON in, JSON out"
        for name in CALL_PATHS
    },
    "ingest:hook": "the webhook ingest endpoint: JSON in, JSON out",
    "feed:event-raw": "a JSON download of one raw message, no page",
    "people:export": "a CSV download of the People list, no page (its link is on people:list)",
    "feed:export": "a CSV download of the Feed, no page (its link is on feed:list)",
    "people:hidden_toggle": "the timeline toggle's no-script POST: a redirect to people:detail "
    "(with htmx the toggle posts to feed:timeline-hidden)",
    "ops:healthz": "a JSON health probe, no page",
    "ops:readyz": "a JSON readiness probe, no page",
    "ops:metrics": "Prometheus text, no page",
    **{
        f"api:{name}": "a Read API endpoint: JSON, no page (tests/api, tests/test_isolation.py)"
        for name in ("person", "person-events", "events", "groups", "group", "segments", "segment")
    },
}


def url_names(patterns: list, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def exempt(name: str) -> bool:
    return name in EXEMPT or any(
        prefix.endswith(":") and name.startswith(prefix) for prefix in EXEMPT
    )


def test_every_named_url_has_an_axe_state_or_a_reason_to_have_none():
    covered = set().union(*STATES.values())
    missing = sorted(n for n in url_names(get_resolver().url_patterns) if n not in covered)
    missing = [n for n in missing if not exempt(n)]
    assert missing == [], f"URL names with no accessibility state in STATES: {missing}"


# --- axe ------------------------------------------------------------------------------------

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""


def axe_violations(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN, WCAG_TAGS)


class Walk:
    """Runs axe on each state and keeps what it found, and which URL names each state reached."""

    def __init__(self, live_server):
        self.live_server = live_server
        self.results: dict[str, list[dict]] = {}
        self.reached: dict[str, set[str]] = {}
        self._since: set[str] = set()

    def watch(self, page) -> None:
        page.on("request", self._request)

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if not request.url.startswith(self.live_server.url) or parts.path.startswith("/static/"):
            return
        try:
            self._since.add(resolve(parts.path).view_name)
        except Exception:  # a path no view answers: nothing to cover
            return

    def check(self, page, state: str) -> None:
        assert state in STATES, f"{state} is not in STATES"
        page.wait_for_load_state("networkidle")
        self.results[state] = axe_violations(page)
        self.reached[state] = self._since
        self._since = set()

    def failures(self) -> list[str]:
        lines = []
        for state, violations in self.results.items():
            for v in violations:
                if v["impact"] in FAILING_IMPACTS:
                    targets = "; ".join(n["target"] for n in v["nodes"][:6])
                    more = f" (+{len(v['nodes']) - 6} more)" if len(v["nodes"]) > 6 else ""
                    lines.append(
                        f"{state}: {v['id']} [{v['impact']}] x{len(v['nodes'])}: {v['help']}\n"
                        f"    {targets}{more}\n    {v['nodes'][0]['summary']}"
                    )
        return lines

    def summary(self) -> str:
        rows = []
        for state, violations in self.results.items():
            found = ", ".join(f"{v['id']}[{v['impact']}] x{len(v['nodes'])}" for v in violations)
            rows.append(f"{state:24} {found or 'none'}")
        return "\n".join(rows)


# --- data -----------------------------------------------------------------------------------

TEAM = [
    # name, email, group, audiences
    ("Ada Lovelace", "ada@analytical.io", "analytical", {"power_users": True, "churned": False}),
    ("Grace Hopper", "grace@cobol.dev", "navy", {"power_users": True, "beta": True}),
    ("Alan Turing", "alan@bletchley.org", "analytical", {}),
    ("Katherine Johnson", "katherine@nasa.gov", "nasa", {"beta": True}),
    ("Dennis Ritchie", None, None, {}),
    ("Radia Perlman", "radia@spanning.net", None, {"beta": True}),
]
GROUPS = {
    "analytical": ("Analytical Engines Ltd", "enterprise"),
    "navy": ("US Navy Labs", "growth"),
    "nasa": ("NASA Langley", "enterprise"),
}


@pytest.fixture
def sdk(live_server, issued):
    errors: list = []
    client = Client(
        write_key=issued.token,
        host=live_server.url,
        sync_mode=True,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    yield client
    assert errors == []


def stored(workspace, count: int) -> None:
    """Wait until the worker has stored `count` events (the SDK's reply only says queued)."""
    deadline = time.monotonic() + ARRIVAL_MS / 1000
    while time.monotonic() < deadline:
        if Event.objects.filter(workspace=workspace).count() >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} events stored within {ARRIVAL_MS} ms")


def seed(sdk, workspace) -> int:
    """A small team with groups, audiences, an avatar, one person without email, and a trail of
    track, page and screen calls for Grace. Returns how many events were sent."""
    sent = 0
    for name, email, group, audiences in TEAM:
        user_id = "usr_" + name.split()[0].lower()
        traits = {"name": name, "plan": "pro"}
        if email:
            traits["email"] = email
        if name == "Ada Lovelace":
            # An unreachable image: the <img> is drawn with its alt, as when a CDN is down.
            traits["avatar"] = "http://127.0.0.1:9/ada.png"
        sdk.identify(user_id, traits)
        sent += 1
        if audiences:
            # An Engage audience sync (context.personas): booleans are audiences only from one.
            sync = {"personas": {"computation_class": "audience", "space_id": "spa_1"}}
            sdk.identify(user_id, audiences, context=sync)
            sent += 1
        if group:
            group_name, plan = GROUPS[group]
            sdk.group(user_id, f"grp_{group}", {"name": group_name, "plan": plan})
            sent += 1
    for n in range(4):
        sdk.track("usr_grace", "Order Completed", {"revenue": 40 + n, "currency": "USD"})
        sdk.page("usr_grace", "Docs", f"Pricing {n}", {"path": "/pricing", "title": "Pricing"})
        sdk.screen("usr_grace", "App", f"Settings {n}")
        sent += 3
    sdk.track("usr_ada", "Signed Up", {"plan": "pro", "source": "ads"})
    sent += 1
    stored(workspace, sent)
    return sent


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of a few rows, so that the Older/Newer links appear with a small team."""
    from feed import selectors as feed_selectors
    from people import selectors as people_selectors

    monkeypatch.setattr(people_selectors, "PEOPLE_PAGE_SIZE", 4)
    monkeypatch.setattr(feed_selectors, "TIMELINE_PAGE_SIZE", 5)
    monkeypatch.setattr(feed_selectors, "feed_page", partial(feed_selectors.feed_page, limit=6))


def new_context(browser):
    # Our CSP allows only same-origin scripts; the injected axe needs the policy bypassed.
    return browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/people/")


# --- the walk -------------------------------------------------------------------------------


def test_every_page_state_passes_axe_wcag_21_aa(
    browser,
    live_server,
    celery_worker,
    sdk,
    workspace,
    issued,
    owner,
    password,
    small_pages,
    settings,
):
    settings.WINDSOR_SIGNUP = "open"
    seed(sdk, workspace)
    # One rejected message, so that Sources shows its "Recent rejected messages" disclosure.
    requests.post(
        f"{live_server.url}/v1/batch",
        auth=(issued.token, ""),
        json={
            "batch": [
                {"type": "identify", "userId": "usr_ada"},
                {"type": "track", "userId": "usr_ada"},
            ]
        },
        timeout=10,
    )
    walk = Walk(live_server)
    base = live_server.url

    # Anonymous: log in, sign up, and a new workspace's empty pages.
    context = new_context(browser)
    page = context.new_page()
    page.set_default_timeout(10_000)
    walk.watch(page)
    page.goto(f"{base}/accounts/login/")
    walk.check(page, "login")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator("p.error")).to_be_visible()
    walk.check(page, "login-error")
    page.goto(f"{base}/accounts/signup/")
    walk.check(page, "signup")
    page.fill("input[name=email]", owner.username)
    page.fill("input[name=password]", "password")
    page.fill("input[name=workspace_name]", "Other")
    page.click("button[type=submit]")
    expect(page.locator("p.error").first).to_be_visible()
    walk.check(page, "signup-errors")
    page.fill("input[name=email]", "newcomer@example.com")
    page.fill("input[name=password]", password)
    page.fill("input[name=workspace_name]", "Newcomer Inc")
    page.click("button[type=submit]")
    # Signing up does not log in (the reply is the same whether the email was taken or not).
    page.wait_for_url(re.compile(r"/accounts/login/"))
    walk.check(page, "signup-done")
    log_in(page, live_server, "newcomer@example.com", password)
    page.goto(f"{base}/sources/")
    walk.check(page, "sources-new-workspace")
    page.goto(f"{base}/people/")
    expect(page.locator("#people-empty")).to_be_visible()
    walk.check(page, "people-empty")
    page.goto(f"{base}/feed/")
    expect(page.locator(".feed-empty")).to_be_visible()
    walk.check(page, "feed-empty")
    context.close()

    # The owner, with the seeded team.
    context = new_context(browser)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    walk.watch(page)
    log_in(page, live_server, owner.username, password)
    rows = page.locator("tr.person-row")
    expect(rows).to_have_count(4)
    walk.check(page, "people")
    page.locator("#people-search").fill("ra")
    page.wait_for_url(re.compile(r"q=ra"))
    # What the search found is said politely to screen readers (a status message, WCAG 4.1.3).
    expect(page.locator("#people-status")).to_have_text(re.compile(r"^Showing \d+ (person|people)"))
    walk.check(page, "people-search")
    page.locator("#people-search").fill("")
    page.wait_for_url(f"{base}/people/")
    page.select_option("select[name=group]", label="Analytical Engines Ltd")
    page.wait_for_url(re.compile(r"group=\d+"))
    page.locator("input[name=audience]").fill("power_users")
    page.locator("input[name=audience]").press("Enter")
    page.wait_for_url(re.compile(r"audience=power_users"))
    expect(rows).to_have_count(1)
    walk.check(page, "people-filters")
    page.check("input[name=missing_email]")
    page.locator("#people-search").fill("nobody-by-this-name")
    page.wait_for_url(re.compile(r"q=nobody"))
    expect(page.locator(".no-match")).to_be_visible()
    expect(page.locator("#people-status")).to_have_text("No one matches.")
    walk.check(page, "people-no-match")
    page.goto(f"{base}/people/")
    page.click("a[rel=next]")
    expect(page.locator("a[rel=prev]")).to_be_visible()
    walk.check(page, "people-older")

    # The filter builder: a condition typed in, a group added, a bad filter, saved segments.
    page.goto(f"{base}/people/")
    first = page.locator("#builder-conditions .builder-row").first
    first.locator(".row-field").select_option("trait")
    first.locator(".row-key").fill("plan")
    first.locator(".row-operator").select_option("equals")
    first.locator(".row-value").fill("pro")
    page.click("#builder-add-group")
    page.locator("#builder-columns").fill("plan")
    page.click("#builder-apply")
    page.wait_for_url(re.compile(r"filter="))
    expect(page.locator("#people-count")).to_have_text(re.compile(r"\d+ (person|people)"))
    walk.check(page, "people-builder")
    page.goto(f"{base}/people/?filter=%7Bnot-json")
    expect(page.locator("#filter-error")).to_be_visible()
    walk.check(page, "people-filter-error")
    pro = '{"field":"trait","key":"plan","operator":"equals","value":"pro"}'
    page.goto(f'{base}/people/?filter={{"op":"and","conditions":[{pro}]}}')
    page.click("#segment-save-box summary")
    page.fill("#segment-name", "Pro plan")
    page.click("#segment-save-button")
    page.wait_for_url(re.compile(r"segment=\d+"))
    expect(page.locator("#segment-banner")).to_contain_text("Pro plan")
    walk.check(page, "segment-saved")
    page.goto(f"{base}/people/segments/")
    expect(page.locator("tr.segment-row").first.locator("td.count")).to_have_text(re.compile(r"\d"))
    walk.check(page, "segments")
    page.click("tr.segment-row:has-text('Pro plan') >> text=Edit")
    walk.check(page, "segment-edit")
    page.goto(f"{base}/people/segments/")
    page.click("tr.segment-row:has-text('Pro plan') button.danger")
    expect(page.locator(".messages")).to_contain_text("Deleted")
    walk.check(page, "segment-deleted")

    page.goto(f"{base}/people/?hidden=0")
    page.locator("#people-search").fill("Grace")
    expect(rows).to_have_count(1)
    page.click("a.person-link >> text=Grace Hopper")
    page.wait_for_url(re.compile(r"/people/\d+/"))
    walk.check(page, "person")
    page.locator("#timeline li.event").first.locator("summary").click()
    expect(page.locator("#timeline li.event").first.locator("pre")).to_be_visible()
    walk.check(page, "person-event-expanded")
    page.click("#hidden-toggle")
    expect(page.locator("#hidden-toggle")).to_have_text("Hide Hidden Events")
    walk.check(page, "person-hidden-shown")
    page.click("#timeline a[rel=next]")
    expect(page.locator("#timeline a[rel=prev]")).to_be_visible()
    walk.check(page, "person-older")

    page.goto(f"{base}/feed/?hidden=0")
    walk.check(page, "feed")
    first = page.locator("#feed-rows .event").first
    first.locator("summary").click()
    expect(first.locator(".raw-message")).to_be_visible()
    walk.check(page, "feed-row-expanded")
    page.click("#toggle-hidden")
    expect(page.locator("#toggle-hidden")).to_have_text("Hide Hidden Events")
    walk.check(page, "feed-hidden-shown")
    page.select_option("#filter-type", "screen")
    page.wait_for_url(re.compile(r"type=screen"))
    expect(page.locator("#feed-announcer")).to_have_text("Showing 4 events.")
    walk.check(page, "feed-filtered")
    page.fill("#filter-name", "nothing-is-called-this")
    page.click("#apply-filters")
    expect(page.locator(".feed-empty")).to_be_visible()
    expect(page.locator("#feed-announcer")).to_have_text("No events match these filters.")
    walk.check(page, "feed-no-match")
    page.goto(f"{base}/feed/?hidden=1")
    before = page.locator("#feed-rows .event").count()
    page.click("#feed-older")
    expect(page.locator("#feed-rows .event")).not_to_have_count(before)
    walk.check(page, "feed-older")
    page.goto(f"{base}/feed/?hidden=0")
    page.focus("#filter-name")
    sdk.track("usr_ada", "Trial Started", {"plan": "pro"})
    expect(page.locator("#feed-rows .event").first).to_contain_text(
        "Trial Started", timeout=ARRIVAL_MS
    )
    # Announced politely, and the user's focus is where they left it.
    expect(page.locator("#feed-announcer")).to_have_text("New event: Ada Lovelace, Trial Started")
    expect(page.locator("#feed-announcer")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#filter-name")).to_be_focused()
    walk.check(page, "feed-live-row")
    event = Event.objects.filter(workspace=workspace, name="Order Completed").first()
    page.goto(f"{base}/feed/{event.pk}/")
    walk.check(page, "event")

    page.goto(f"{base}/sources/")
    expect(page.locator("tr.rejections")).to_be_visible()
    page.locator("tr.rejections summary").click()
    walk.check(page, "sources")
    page.click("#generate-token")
    expect(page.locator("#token-value")).to_be_visible()
    walk.check(page, "sources-token")
    page.fill("input[name=name]", " ")
    page.click("#generate-token")
    expect(page.locator("p.error")).to_be_visible()
    walk.check(page, "sources-add-error")
    page.locator("form[action$='/rotate/'] button").first.click()
    expect(page.locator("#token-value")).to_be_visible()
    walk.check(page, "sources-rotated")
    page.locator("form[action$='/revoke/'] button").first.click()
    page.wait_for_url(f"{base}/sources/")
    expect(page.locator(".badge", has_text="revoked")).to_be_visible()
    walk.check(page, "sources-revoked")
    page.locator("form[action$='/erasure/'] button").first.click()
    page.wait_for_url(f"{base}/sources/")
    expect(page.locator("[data-may-erase]").first).to_contain_text("yes")
    walk.check(page, "sources-may-erase")
    # The People search settings (an owner's People page links to them).
    page.goto(f"{base}/people/")
    page.click("#search-settings-link")
    page.wait_for_url(f"{base}/people/search-settings/")
    walk.check(page, "search-settings")
    # The API keys page (the owner's header links to it), and the docs it links to.
    page.click("#api-link")
    page.wait_for_url(f"{base}/api-keys/")
    walk.check(page, "api-keys")
    page.fill("input[name=name]", "Support tool")
    page.click("#create-key")
    expect(page.locator("#key-value")).to_be_visible()
    walk.check(page, "api-keys-created")
    page.fill("input[name=name]", " ")
    page.click("#create-key")
    expect(page.locator("p.error")).to_be_visible()
    walk.check(page, "api-keys-error")
    page.locator("form[action$='/revoke/'] button").first.click()
    page.wait_for_url(f"{base}/api-keys/")
    expect(page.locator(".badge", has_text="revoked")).to_be_visible()
    walk.check(page, "api-keys-revoked")
    page.click("a:has-text('API docs')")
    expect(page.locator("#operations-people-people_list")).to_be_visible()
    walk.check(page, "api-docs")
    page.click("#operations-people-people_list .opblock-summary")
    page.click("#operations-people-people_list button.execute")
    expect(
        page.locator("#operations-people-people_list .response .response-col_status").first
    ).to_have_text("200")
    walk.check(page, "api-docs-tried")
    # The Status page, for staff (the owner is made staff here), with a dead letter to store again.
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    DeadLetter.objects.create(
        messages=[{"type": "track", "workspace_id": workspace.pk, "message_id": "dead-1"}],
        error="ValueError: for the axe walk",
    )
    page.goto(f"{base}/status/")
    expect(page.locator("#status-dead-letters button")).to_be_visible()
    walk.check(page, "status")
    page.locator("#status-dead-letters button").first.click()
    page.wait_for_url(f"{base}/status/")
    walk.check(page, "status-stored-again")
    # Deleting a person: the confirmation, Delete and suppress, the suppression list, Lift.
    radia = Identity.objects.get(workspace=workspace, value="usr_radia").person
    page.goto(f"{base}/people/{radia.pk}/")
    page.click("#delete-person")
    expect(page.locator("#delete-person-name")).to_have_text("Radia Perlman")
    walk.check(page, "person-delete")
    page.check("#delete-suppress")
    page.click("#delete-confirm")
    page.wait_for_url(f"{base}/people/")
    expect(page.locator(".messages")).to_contain_text(f"Person #{radia.pk} deleted")
    walk.check(page, "person-deleted")
    page.click("#suppressions-link")
    expect(page.locator("tr.suppression-row")).to_have_count(1)
    walk.check(page, "suppressions")
    page.locator("tr.suppression-row button").first.click()
    page.wait_for_url(f"{base}/people/suppressions/")
    expect(page.locator("tr.suppression-row")).to_have_count(0)
    walk.check(page, "suppression-lifted")
    page.click("text=Log out")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    walk.check(page, "logged-out")
    context.close()

    # The team: the owner invites, resends, revokes and reads the audit log. (Re-sending at once
    # after inviting is refused in production: INVITATION_RESEND_INTERVAL.)
    settings.INVITATION_RESEND_INTERVAL = 0
    context = new_context(browser)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    walk.watch(page)
    log_in(page, live_server, owner.username, password)
    page.goto(f"{base}/members/")
    walk.check(page, "members")
    page.fill("input[name=email]", "teammate@example.com")
    page.select_option("select[name=role]", "admin")
    page.click("#send-invitation")
    expect(page.locator("#invitation-link")).to_be_visible()
    walk.check(page, "members-invitation")
    page.locator(".invitation-row form[action$='/resend/'] button").first.click()
    teammate_link = page.locator("#invitation-link").inner_text().strip()
    walk.check(page, "members-invitation-resent")
    page.fill("input[name=email]", "newcomer@example.com")
    page.select_option("select[name=role]", "member")
    page.click("#send-invitation")
    newcomer_link = page.locator("#invitation-link").inner_text().strip()
    page.fill("input[name=email]", "changed-my-mind@example.com")
    page.click("#send-invitation")
    page.locator(".invitation-row", has_text="changed-my-mind").locator(
        "form[action$='/revoke/'] button"
    ).click()
    page.wait_for_url(f"{base}/members/")
    expect(page.locator(".invitation-row", has_text="changed-my-mind")).to_have_count(0)
    walk.check(page, "members-invitation-revoked")
    page.click("#audit-link")
    expect(page.locator("tr.audit-row").first).to_be_visible()
    walk.check(page, "audit-log")

    # A teammate signs up from the link in a browser of their own (signup by invitation only).
    settings.WINDSOR_SIGNUP = "invite"
    invited = new_context(browser)
    mate = invited.new_page()
    mate.set_default_timeout(10_000)
    walk.watch(mate)
    mate.goto(teammate_link)
    walk.check(mate, "invitation-signup")
    mate.fill("input[name=password]", password)
    mate.click("#invited-signup")
    mate.wait_for_url(re.compile(r"/accounts/login/"))
    walk.check(mate, "invitation-signed-up")
    mate.fill("input[name=username]", "teammate@example.com")
    mate.fill("input[name=password]", password)
    mate.click("button[type=submit]")
    mate.wait_for_url(f"{base}/people/")
    invited.close()
    page.goto(f"{base}/members/")
    mate_row = page.locator("tr.member-row", has_text="teammate@example.com")
    mate_row.locator("select").select_option("member")
    mate_row.locator("button", has_text="Change").click()
    page.wait_for_url(f"{base}/members/")
    expect(mate_row).to_contain_text("Member")
    walk.check(page, "members-role-changed")
    mate_row.locator("a", has_text="Remove").click()
    expect(page.locator("#remove-confirm")).to_be_visible()
    walk.check(page, "members-remove-confirm")
    page.click("#remove-confirm")
    page.wait_for_url(f"{base}/members/")
    expect(mate_row).to_have_count(0)
    walk.check(page, "members-removed")
    context.close()

    # Someone with a workspace of their own accepts after logging in, then switches and leaves.
    context = new_context(browser)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    walk.watch(page)
    log_in(page, live_server, "newcomer@example.com", password)
    page.goto(newcomer_link)
    expect(page.locator("#accept-invitation")).to_be_visible()
    walk.check(page, "invitation-accept")
    page.click("#accept-invitation")
    page.wait_for_url(f"{base}/people/")
    expect(page.locator("#workspace-switcher")).to_be_visible()
    walk.check(page, "switcher")
    page.select_option("#workspace-select", label="Newcomer Inc")
    page.click("#workspace-switch")
    page.wait_for_url(f"{base}/people/")
    expect(page.locator("#workspace-select option:checked")).to_have_text("Newcomer Inc")
    walk.check(page, "workspace-switched")
    page.select_option("#workspace-select", label="Acme")
    page.click("#workspace-switch")
    page.wait_for_url(f"{base}/people/")
    page.goto(f"{base}/members/")
    page.click("#leave-workspace")
    page.wait_for_url(f"{base}/people/")
    walk.check(page, "members-left")
    page.goto(newcomer_link)
    expect(page.locator("#invitation-state")).to_be_visible()
    walk.check(page, "invitation-gone")
    context.close()

    # Password reset by email, with Django's views. The mail task runs in this process (as in the
    # embedded default), whose outbox the test reads, not in the Celery worker.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    context = new_context(browser)
    page = context.new_page()
    page.set_default_timeout(10_000)
    walk.watch(page)
    page.goto(f"{base}/accounts/login/")
    page.click("#forgot-password")
    walk.check(page, "password-reset")
    page.fill("input[name=email]", owner.username)
    page.click("#send-reset")
    expect(page.locator("#reset-sent")).to_be_visible()
    walk.check(page, "password-reset-sent")
    reset_link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.outbox[-1].body).group(0)
    page.goto(reset_link)
    expect(page.locator("#set-password")).to_be_visible()
    walk.check(page, "password-reset-confirm")
    page.fill("input[name=new_password1]", "a-brand-new-phrase")
    page.fill("input[name=new_password2]", "a-brand-new-phrase")
    page.click("#set-password")
    expect(page.locator("#reset-complete")).to_be_visible()
    walk.check(page, "password-reset-complete")
    context.close()

    # Signup by invitation only (the default of a deployment): the page that says so.
    settings.WINDSOR_SIGNUP = "invite"
    context = new_context(browser)
    page = context.new_page()
    walk.watch(page)
    page.goto(f"{base}/accounts/signup/")
    walk.check(page, "signup-closed")
    context.close()

    print("\naxe (WCAG 2.0/2.1 A+AA) per state:\n" + walk.summary())
    assert set(walk.results) == set(STATES), "every state in STATES is visited"
    unreached = {s: STATES[s] - walk.reached[s] for s in STATES if STATES[s] - walk.reached[s]}
    assert unreached == {}, f"states that never requested the URL names they claim: {unreached}"
    failures = walk.failures()
    assert failures == [], "serious or critical axe violations:\n" + "\n".join(failures)


# --- keyboard only ----------------------------------------------------------------------------

FOCUSED_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, text: (el.textContent || "").trim().slice(0, 40),
    outline: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor,
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0,
  };
}"""
ACCENT = "rgb(59, 91, 219)"


def focused(page) -> dict:
    return page.evaluate(FOCUSED_RING)


def tab_to(page, selector: str, *, back: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until `selector` has focus, checking that every element passed
    on the way shows the focus ring."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        ring = focused(page)
        assert ring["tag"] != "body", "focus fell off the page"
        assert ring["outline"] == "solid" and ring["width"] >= 2 and ring["color"] == ACCENT, (
            f"no visible focus ring on {ring}"
        )
        assert ring["onScreen"], f"focused element not drawn: {ring}"
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} not reached with {'Shift+' if back else ''}Tab")


def focused_expanded(page) -> bool | None:
    """The expanded state Chromium gives assistive technology for the focused element."""
    cdp = page.context.new_cdp_session(page)
    try:
        element = cdp.send("Runtime.evaluate", {"expression": "document.activeElement"})
        tree = cdp.send(
            "Accessibility.getPartialAXTree",
            {"objectId": element["result"]["objectId"], "fetchRelatives": False},
        )
    finally:
        cdp.detach()
    [node] = [n for n in tree["nodes"] if not n.get("ignored")]
    props = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
    assert props.get("focused"), node
    return props.get("expanded")


def test_keyboard_only_walk_through_the_main_flows(
    browser, live_server, celery_worker, sdk, workspace, owner, password, small_pages, screenshot
):
    seed(sdk, workspace)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    keys = page.keyboard

    # Log in: the email field has focus on arrival.
    page.goto(f"{base}/accounts/login/")
    expect(page.locator("input[name=username]")).to_be_focused()
    keys.type(owner.username)
    tab_to(page, "input[name=password]")
    keys.type(password)
    keys.press("Enter")
    page.wait_for_url(f"{base}/people/")

    # The first Tab offers the skip link; following it lands in the page, past the menu.
    keys.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    expect(page.locator(".skip-link")).to_be_in_viewport()
    keys.press("Enter")
    # Page through the people: where the link pressed is gone, focus stays in the results.
    tab_to(page, "#people-older")
    keys.press("Enter")
    expect(page.locator("#people-newer")).to_be_visible()
    expect(page.locator("#people-results")).to_be_focused()
    tab_to(page, "#people-newer")
    keys.press("Enter")
    expect(page.locator("#people-newer")).to_have_count(0)
    expect(page.locator("#people-results")).to_be_focused()
    tab_to(page, "#people-search", back=True)
    keys.type("Grace")
    expect(page.locator("tr.person-row")).to_have_count(1)
    tab_to(page, "a.person-link")
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/people/\d+/$"))
    expect(page.locator("h1.person-title")).to_have_text("Grace Hopper")

    # Show hidden events: the button keeps focus across the swap.
    events = page.locator("#timeline li.event")
    expect(events).to_have_count(5)
    tab_to(page, "#hidden-toggle")
    keys.press("Space")
    expect(page.locator("#hidden-toggle")).to_have_text("Hide Hidden Events")
    expect(page.locator("#timeline")).to_contain_text("Pricing")
    expect(page.locator("#hidden-toggle")).to_be_focused()
    screenshot(page, "keyboard-person-hidden-shown")

    # Expand an event.
    tab_to(page, "#timeline summary")
    assert focused_expanded(page) is False
    keys.press("Enter")
    expect(events.first.locator("pre.raw")).to_be_visible()
    assert focused_expanded(page) is True
    tab_to(page, "#timeline-older")
    keys.press("Enter")
    expect(page.locator("#timeline-newer")).to_be_visible()

    # The Feed through the menu: expand a row, beside its person link, and load older rows.
    tab_to(page, ".nav a[href='/feed/']", back=True)
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/feed/\?hidden="))
    tab_to(page, "#feed-rows .event a.person-link")
    tab_to(page, "#feed-rows .event summary")
    row = page.locator("#feed-rows .event").first
    assert focused_expanded(page) is False
    keys.press("Enter")
    expect(row.locator(".raw-message")).to_be_visible()
    assert focused_expanded(page) is True
    screenshot(page, "keyboard-feed-row-expanded")
    count = page.locator("#feed-rows .event").count()
    tab_to(page, "#feed-older")
    keys.press("Enter")
    expect(page.locator("#feed-rows .event")).not_to_have_count(count)
    # The next Older link keeps the focus, so the keyboard user can go on reading down.
    expect(page.locator("#feed-older")).to_be_focused()
    # Filter by name, then hide the hidden events again: focus stays on the toggle.
    tab_to(page, "#filter-name", back=True)
    keys.type("Order Completed")
    keys.press("Enter")
    page.wait_for_url(re.compile(r"name=Order\+Completed"))
    expect(page.locator("#feed-rows .event")).to_have_count(4)
    tab_to(page, "#toggle-hidden", back=True)
    keys.press("Space")
    expect(page.locator("#toggle-hidden")).to_have_text("Show Hidden Events")
    expect(page.locator("#toggle-hidden")).to_be_focused()

    # Sources: generate a token, copy it, rotate it and revoke it, from the keyboard.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    tab_to(page, ".nav a[href='/sources/']", back=True)
    keys.press("Enter")
    page.wait_for_url(f"{base}/sources/")
    tab_to(page, "#generate-token")
    keys.press("Enter")
    expect(page.locator("#token-value")).to_be_visible()
    first_token = page.locator("#token-value").inner_text()
    tab_to(page, "#copy-token")
    keys.press("Enter")
    expect(page.locator("#copy-token")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == first_token
    tab_to(page, "form[action$='/rotate/'] button")
    keys.press("Enter")
    expect(page.locator("#token-value")).not_to_have_text(first_token)
    screenshot(page, "keyboard-sources-rotated")
    tab_to(page, "form[action$='/revoke/'] button")
    keys.press("Enter")
    expect(page.locator("#issued-token")).to_have_count(0)
    expect(page.locator(".badge", has_text="revoked")).to_have_count(1)
    context.close()


# --- reflow (WCAG 1.4.10) -----------------------------------------------------------------------

NARROW = {"width": 320, "height": 640}
# The outermost elements that stick out of the viewport, to say what to fix.
WIDEST = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > innerWidth + 1)
  .filter((el) => el.parentElement.getBoundingClientRect().right <= innerWidth + 1)
  .slice(0, 5).map((el) => el.tagName.toLowerCase() + "." + el.className)"""


def test_pages_reflow_at_320_css_pixels_without_sideways_scrolling(
    browser, live_server, celery_worker, sdk, workspace, owner, password, screenshot
):
    """At 320 CSS px (a 1280 px window zoomed to 400%) nothing needs a sideways scroll of the page;
    wide data tables scroll inside their own card, which WCAG allows for tables."""
    seed(sdk, workspace)
    base = live_server.url
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server, owner.username, password)
    grace = Event.objects.filter(workspace=workspace, name="Order Completed").first()
    pages = {
        "people": "/people/",
        "person": f"/people/{grace.identity.person_id}/?hidden=1",
        "feed": "/feed/?hidden=1",
        "event": f"/feed/{grace.pk}/",
        "sources": "/sources/",
        "api-keys": "/api-keys/",
    }
    wide = {}
    for name, path in pages.items():
        page.goto(base + path)
        if name == "person":
            expect(page.locator("#timeline li.event").first).to_be_visible()
        if name == "feed":
            page.locator("#feed-rows .event summary").first.press("Enter")
            expect(page.locator("#feed-rows .raw-message").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            wide[name] = (width, page.evaluate(WIDEST))
        screenshot(page, f"narrow-{name}")
    context.close()
    assert wide == {}, f"pages wider than {NARROW['width']} px: {wide}"
