import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from accounts.services import workspace_create
from feed.models import Event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
XSS_NAME = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def row_names(html: str) -> list[str]:
    return re.findall(r'<span class="event-name">(.*?)</span>', html)


def test_feed_puts_the_remembered_hidden_choice_in_the_url(owner_client, owner, workspace):
    assert owner_client.get("/feed/")["Location"] == "/feed/?hidden=0"
    Membership.objects.filter(user=owner).update(show_hidden_events=True)
    assert owner_client.get("/feed/?type=track")["Location"] == "/feed/?hidden=1&type=track"


def test_feed_shows_visible_events_and_hides_page_views(owner_client, send):
    send("track", event="Order Completed", properties={"revenue": 99.5, "currency": "EUR"})
    send("page", name="Pricing", properties={"title": "Pricing page", "path": "/pricing"})
    send("screen", name="Home")

    html = owner_client.get("/feed/?hidden=0").content.decode()
    assert row_names(html) == ["Home", "Order Completed"]
    assert "99.5 EUR" in html
    assert "Show Hidden Events" in html

    html = owner_client.get("/feed/?hidden=1").content.decode()
    assert row_names(html) == ["Home", "Pricing", "Order Completed"]
    assert "Pricing page" in html
    assert "Hide Hidden Events" in html


def test_a_link_with_hidden_does_not_change_the_saved_choice(owner_client, owner, workspace):
    owner_client.get("/feed/?hidden=1")
    assert not Membership.objects.get(user=owner).show_hidden_events


def test_toggle_saves_the_choice_and_keeps_the_filters(owner_client, owner, send):
    send("page", name="Pricing")
    response = owner_client.post("/feed/hidden/", {"show": "1", "type": "page"})
    assert response.status_code == 302
    assert response["Location"] == "/feed/?hidden=1&type=page"
    assert Membership.objects.get(user=owner).show_hidden_events
    # A later visit without the parameter comes back to the saved choice.
    assert owner_client.get("/feed/")["Location"] == "/feed/?hidden=1"

    response = owner_client.post("/feed/hidden/", {"show": "0"}, **HTMX)
    assert response["HX-Push-Url"] == "/feed/?hidden=0"
    assert "Show Hidden Events" in response.content.decode()
    assert not Membership.objects.get(user=owner).show_hidden_events


def test_toggle_needs_post(owner_client, owner, workspace):
    assert owner_client.get("/feed/hidden/", {"show": "1"}).status_code == 405
    assert not Membership.objects.get(user=owner).show_hidden_events


def test_one_url_two_renders(owner_client, send):
    send("track", event="Clicked")
    page = owner_client.get("/feed/?hidden=0")
    fragment = owner_client.get("/feed/?hidden=0", **HTMX)
    assert "<html" in page.content.decode()
    assert "<html" not in fragment.content.decode()
    assert 'id="feed-rows"' in fragment.content.decode()
    assert "HX-Request" in page["Vary"]
    assert "HX-Request" in fragment["Vary"]


def test_older_appends_rows_and_replaces_the_older_link(owner_client, send_many):
    send_many(60)
    html = owner_client.get("/feed/?hidden=0").content.decode()
    assert len(row_names(html)) == 50
    older = re.search(r'id="feed-older"[^>]*hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")

    fragment = owner_client.get(older, **HTMX).content.decode()
    assert len(row_names(fragment)) == 10
    assert 'id="feed-more" class="feed-more" hx-swap-oob="true"' in fragment
    assert 'id="feed-older"' not in fragment

    # Without htmx the same link is a full page starting there.
    assert len(row_names(owner_client.get(older).content.decode())) == 10


def test_poll_returns_new_rows_and_the_next_poller(owner_client, send):
    send("track", event="First")
    html = owner_client.get("/feed/?hidden=0").content.decode()
    poll = re.search(r'id="feed-poller" hidden hx-get="([^"]+)"', html).group(1)
    poll = poll.replace("&amp;", "&")

    send("track", event="Arrived late", timestamp=timezone.now() - timedelta(days=2))
    send("page", name="Hidden page")
    fragment = owner_client.get(poll, **HTMX).content.decode()
    assert row_names(fragment) == ["Arrived late"]
    assert 'id="feed-poller" hidden hx-swap-oob="true"' in fragment
    next_poll = re.search(r'hx-get="(/feed/new/[^"]+)"', fragment).group(1).replace("&amp;", "&")

    # The next poll reads that interval again (the page drops rows it shows), then moves on.
    fragment = owner_client.get(next_poll, **HTMX).content.decode()
    assert row_names(fragment) == ["Arrived late"]
    last_poll = re.search(r'hx-get="(/feed/new/[^"]+)"', fragment).group(1).replace("&amp;", "&")
    assert row_names(owner_client.get(last_poll, **HTMX).content.decode()) == []


@pytest.mark.parametrize("query", ["after=abc", "after=-1", "after=" + "9" * 30, "since=1"])
def test_poll_rejects_a_bad_cursor(owner_client, workspace, query):
    assert owner_client.get(f"/feed/new/?hidden=0&{query}").status_code == 400


@pytest.mark.parametrize(
    "query,rows",
    [
        # A cursor we cannot read shows the first page.
        ("before=x.y", ["Clicked"]),
        ("before=1." + "9" * 25, ["Clicked"]),
        ("before=" + "9" * 40 + ".1", ["Clicked"]),
        ("before=.", ["Clicked"]),
        # A readable cursor with a mangled watermark still pages below the cursor (here, 1970).
        ("before=5.5&upto=-3", []),
    ],
)
def test_a_mangled_older_link_still_answers(owner_client, send, query, rows):
    send("track", event="Clicked")
    response = owner_client.get(f"/feed/?hidden=0&{query}", **HTMX)
    assert response.status_code == 200
    assert row_names(response.content.decode()) == rows


def test_filters_by_type_and_name(owner_client, send):
    send("track", event="Order Completed")
    send("track", event="Clicked")
    send("screen", name="Home")
    send("identify", traits={"email": "a@example.com"})
    html = owner_client.get("/feed/?hidden=0&type=track").content.decode()
    assert row_names(html) == ["Clicked", "Order Completed"]
    html = owner_client.get("/feed/?hidden=0&name=Order+Completed").content.decode()
    assert row_names(html) == ["Order Completed"]
    html = owner_client.get("/feed/?hidden=0&type=identify").content.decode()
    assert row_names(html) == ["Identify"]
    html = owner_client.get("/feed/?hidden=0&type=page").content.decode()
    assert row_names(html) == []
    assert "Page events are hidden events" in html


def test_row_expands_to_the_raw_message_escaped(owner_client, send):
    msg = send("track", event=XSS_NAME, properties={"note": "</pre><script>alert(1)</script>"})
    event = Event.objects.get(message_id=msg["message_id"])
    fragment = owner_client.get(f"/feed/{event.pk}/", **HTMX).content.decode()
    assert "<script>" not in fragment
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    assert f"&quot;messageId&quot;: &quot;{msg['message_id']}&quot;" in fragment
    assert "<html" not in fragment
    assert "<html" in owner_client.get(f"/feed/{event.pk}/").content.decode()


def test_names_and_properties_are_escaped_in_the_list(owner_client, send):
    send("track", event=XSS_NAME, properties={"plan": '"><script>alert(1)</script>'})
    html = owner_client.get("/feed/?hidden=0").content.decode()
    assert "<script>window.__xss" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_another_workspaces_event_is_not_found(owner_client, send):
    user = get_user_model().objects.create_user(username="o@example.com", password="x" * 12)
    other = workspace_create(name="Other", owner=user)
    msg = send("track", event="Secret", into=other, user_id="spy")
    event = Event.objects.get(message_id=msg["message_id"])
    assert owner_client.get(f"/feed/{event.pk}/").status_code == 404
    assert "Secret" not in owner_client.get("/feed/?hidden=1").content.decode()
    assert "Secret" not in owner_client.get("/feed/new/?hidden=1&after=0&since=0").content.decode()


def test_feed_needs_a_login(client):
    assert client.get("/feed/").status_code == 302
    assert "/accounts/login/" in client.get("/feed/")["Location"]


@pytest.mark.parametrize("n", [3, 80])
def test_a_page_runs_a_fixed_number_of_queries(
    owner_client, send_many, send, django_assert_max_num_queries, n
):
    send_many(n)
    for i in range(3):
        send("identify", user_id=f"user-{i}", traits={"name": f"Person {i}"})
        send("group", user_id=f"user-{i}", group_id="g1", traits={"name": "Acme"})
        send("alias", user_id=f"user-{i}", previous_id=f"anon-{i}")
    # session, user, workspace, watermark, events (people joined in), event names, the chart's
    # rollup rows
    with django_assert_max_num_queries(7):
        html = owner_client.get("/feed/?hidden=0").content.decode()
    older = re.search(r'id="feed-older"[^>]*hx-get="([^"]+)"', html)
    assert (older is not None) == (n + 9 > 50)
    if older:
        # No event names for the filter form here: only rows are drawn.
        with django_assert_max_num_queries(5):
            owner_client.get(older.group(1).replace("&amp;", "&"), **HTMX)
    # session, user, workspace, watermark, events
    with django_assert_max_num_queries(5):
        owner_client.get("/feed/new/?hidden=0&after=0&since=0", **HTMX)


def test_poll_catches_an_event_whose_transaction_committed_after_a_higher_id(
    owner_client, workspace, send
):
    html = owner_client.get("/feed/?hidden=0").content.decode()
    first_poll = re.search(r'id="feed-poller" hidden hx-get="([^"]+)"', html).group(1)
    user = get_user_model().objects.create_user(username="o@example.com", password="x" * 12)
    elsewhere = workspace_create(name="Other", owner=user)
    # A slow worker transaction took the lower id but is not committed yet (invisible here)...
    slow = send("track", event="Slow batch", into=elsewhere, user_id="late")
    send("track", event="Fast batch")
    fragment = owner_client.get(first_poll.replace("&amp;", "&"), **HTMX).content.decode()
    assert row_names(fragment) == ["Fast batch"]
    # ...and commits after the poll that saw the higher id.
    Event.objects.filter(message_id=slow["message_id"]).update(workspace=workspace)

    next_poll = re.search(r'hx-get="(/feed/new/[^"]+)"', fragment).group(1).replace("&amp;", "&")
    fragment = owner_client.get(next_poll, **HTMX).content.decode()
    # The previous interval is read again (the page drops the row it already shows).
    assert sorted(row_names(fragment)) == ["Fast batch", "Slow batch"]
    last_poll = re.search(r'hx-get="(/feed/new/[^"]+)"', fragment).group(1).replace("&amp;", "&")
    assert row_names(owner_client.get(last_poll, **HTMX).content.decode()) == []


def test_the_toggle_is_protected_against_cross_site_posts(owner, workspace):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post("/feed/hidden/", {"show": "1"}).status_code == 403
    assert not Membership.objects.get(user=owner).show_hidden_events


def poller(html: str) -> str:
    return re.search(r'id="feed-poller"[^>]*hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_the_live_poll_carries_nothing_of_another_workspaces_traffic(
    owner_client, send, other_workspace
):
    send("track", event="Mine")
    page = owner_client.get("/feed/?hidden=0").content.decode()
    poll = poller(page)
    quiet = owner_client.get(poll, **HTMX).content.decode()

    for n in range(5):
        send("track", event=f"Theirs {n}", into=other_workspace, user_id="x")

    # The same page, the same next poll, the same answer: nothing tells that B was busy.
    assert poller(owner_client.get("/feed/?hidden=0").content.decode()) == poll
    busy = owner_client.get(poll, **HTMX).content.decode()
    assert busy == quiet
    assert row_names(busy) == []


def hostile_properties(depth: int = 400, width: int = 12) -> dict:
    """About 30 KB of JSON nested `depth` levels, each level `width` items wide: indented in
    full, the nesting alone renders megabytes of spaces."""
    node: dict = {"leaf": True}
    for level in range(depth):
        node = {"n": node, "w": [f"w{level}"[:4]] * width}
    return node


def test_a_hostile_raw_message_renders_a_small_page_and_downloads_whole(owner_client, send):
    properties = hostile_properties()
    msg = send("track", event="Hostile", properties=properties)
    assert len(json.dumps(msg["raw"], separators=(",", ":"))) < 64 * 1024
    event = Event.objects.get(message_id=msg["message_id"])
    download_url = f"/feed/{event.pk}/raw.json"

    for url, headers in (
        (f"/feed/{event.pk}/", {}),
        (f"/feed/{event.pk}/", HTMX),
    ):
        page = owner_client.get(url, **headers)
        assert page.status_code == 200
        assert len(page.content) < 100 * 1024, (url, len(page.content))
        assert f'href="{download_url}"' in page.content.decode()
        assert "show all" in page.content.decode().lower()

    # The person's timeline shows the same rows as the Feed: the raw loads when a row is expanded.
    timeline = owner_client.get(f"/feed/people/{event.identity.person_id}/?hidden=1")
    assert timeline.status_code == 200 and len(timeline.content) < 100 * 1024
    assert f'hx-get="/feed/{event.pk}/"' in timeline.content.decode()

    download = owner_client.get(download_url)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/json")
    assert download["Content-Disposition"] == f'attachment; filename="event-{event.pk}.json"'
    assert json.loads(download.content)["properties"] == properties


def test_the_raw_download_is_scoped_to_the_workspace(owner_client, send):
    user = get_user_model().objects.create_user(username="o@example.com", password="x" * 12)
    other = workspace_create(name="Other", owner=user)
    msg = send("track", event="Secret", into=other, user_id="spy")
    event = Event.objects.get(message_id=msg["message_id"])
    assert owner_client.get(f"/feed/{event.pk}/raw.json").status_code == 404
    assert Client().get(f"/feed/{event.pk}/raw.json").status_code == 302
    other_client = Client()
    other_client.force_login(user)
    assert other_client.get(f"/feed/{event.pk}/raw.json").status_code == 200
