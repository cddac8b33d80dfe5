import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from core.templatetags.display import PREVIEW_MAX_DEPTH, ago, json_preview
from feed.models import Event
from feed.templatetags.feed_tags import event_label, event_summary


def event(type: str, name: str = "", properties: dict | None = None, raw: dict | None = None):
    return Event(
        type=type,
        name=name,
        properties=properties or {},
        raw=raw or {},
        message_id="m",
        timestamp=datetime(2026, 11, 23, tzinfo=UTC),
        received_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def test_order_completed_shows_revenue_and_currency_first():
    props = {
        "checkout_id": "c1",
        "order_id": "50314b8e",
        "total": 27.5,
        "revenue": 25.0,
        "currency": "USD",
        "products": [{"sku": "a"}, {"sku": "b"}],
        "coupon": "hasbros",
    }
    assert event_summary(event("track", "Order Completed", props)) == [
        ("revenue", "25.0 USD"),
        ("order", "50314b8e"),
        ("products", "2"),
        ("checkout_id", "c1"),
    ]


def test_plain_track_shows_its_first_scalar_properties():
    parts = event_summary(event("track", "Clicked", {"button": "primary", "meta": {"a": 1}}))
    assert parts == [("button", "primary")]


def test_page_shows_title_else_path():
    title = {"title": "Pricing", "path": "/pricing", "url": "https://x/pricing"}
    assert event_summary(event("page", "Pricing", title)) == [("title", "Pricing")]
    assert event_summary(event("page", "", {"path": "/docs"})) == [("path", "/docs")]
    assert event_label(event("page")) == "Page viewed"


def test_screen_shows_its_name():
    assert event_summary(event("screen", "Home")) == [("screen", "Home")]
    assert event_label(event("screen", "Home")) == "Home"


def test_identify_shows_the_traits_the_call_set():
    raw = {"traits": {"plan": "pro", "email": "a@example.com", "name": "Ada", "logins": 3}}
    assert event_summary(event("identify", raw=raw)) == [
        ("name", "Ada"),
        ("email", "a@example.com"),
        ("plan", "pro"),
        ("logins", "3"),
    ]
    assert event_label(event("identify")) == "Identify"


def test_group_shows_id_and_name_and_alias_shows_both_ids():
    group = event("group", raw={"groupId": "g-1", "traits": {"name": "Acme Inc"}})
    assert event_summary(group) == [("group", "g-1"), ("name", "Acme Inc")]
    alias = event("alias", raw={"previousId": "anon-9", "userId": "user-9"})
    assert event_summary(alias) == [("alias", "anon-9 → user-9")]


def test_long_values_are_cut():
    [(_key, value)] = event_summary(event("track", "X", {"note": "y" * 500}))
    assert len(value) == 80
    assert value.endswith("…")


@pytest.mark.parametrize(
    "raw", [{"a": "<b>"}, {"nested": {"list": [1, None, True], "empty": {}, "none": []}}]
)
def test_json_preview_is_indented_plain_text(raw):
    preview = json_preview(raw)
    assert preview.text == json.dumps(raw, indent=2, ensure_ascii=False)
    assert json.loads(preview.text) == raw
    assert not preview.truncated
    assert not hasattr(preview.text, "__html__")


def test_json_preview_is_cut_in_depth_and_size():
    deep: dict = {"leaf": 1}
    for level in range(900):
        deep = {f"k{level}": deep, "x": [1, 2]}
    preview = json_preview(deep)
    assert preview.truncated
    assert "{…}" in preview.text
    assert max(len(line) - len(line.lstrip()) for line in preview.text.splitlines()) <= (
        2 * PREVIEW_MAX_DEPTH
    )

    wide = {f"key{i}": "v" * 40 for i in range(10_000)}
    preview = json_preview(wide, 4096)
    assert preview.truncated
    assert len(preview.text) < 4096 + 100
    assert preview.text.endswith("(cut at 4 KB)")


def test_relative_time_reads_naturally():
    now = timezone.now()
    assert ago(now) == "just now"
    assert ago(now + timedelta(hours=2)) == "just now"
    assert ago(now - timedelta(hours=3, minutes=5)) == "3\xa0hours ago"


def _sent_with_a_junk_id(client, token: str, settings, fixture: str, index: int) -> Event:
    """One recorded SDK message, its only id the junk a sender's `String(undefined)` gives."""
    from tests.recorded import recorded

    settings.INGEST_REDIS_URL = ""  # the embedded path: the request stores it
    settings.CELERY_TASK_ALWAYS_EAGER = True
    request = [r for r in recorded(fixture) if r.method == "POST"][index].with_token(token)
    message = {**request.messages()[0], "userId": "undefined"}
    message.pop("anonymousId", None)
    message.pop("writeKey", None)
    response = client.post(
        "/v1/batch",
        json.dumps({"batch": [message]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.content
    stored = Event.objects.get(message_id=message["messageId"])
    assert stored.identity is None  # the case at hand: nobody to show
    return stored


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fixture", "index"),
    [("segment-analytics-next-1.84.3-browser", 1), ("segment-analytics-node-3.1.0", 0)],
    ids=["analytics.js track", "analytics-node batch"],
)
def test_an_event_whose_only_id_is_junk_renders_on_every_feed_page(
    owner_client, token, settings, fixture, index
):
    stored = _sent_with_a_junk_id(owner_client, token, settings, fixture, index)
    htmx = {"HX-Request": "true"}
    pages = [
        ("/feed/?hidden=0", {}),
        ("/feed/?hidden=1", {}),
        ("/feed/?hidden=1", htmx),
        (f"/feed/?type={stored.type}&hidden=1", {}),
        (f"/feed/new/?after={stored.pk - 1}&hidden=1", htmx),
        (f"/feed/{stored.pk}/", {}),
        (f"/feed/{stored.pk}/", htmx),
        (f"/feed/{stored.pk}/raw.json", {}),
        ("/feed/export.csv", {}),
        ("/api/v1/events/", {}),
    ]
    for path, headers in pages:
        response = owner_client.get(path, headers=headers)
        assert response.status_code == 200, (path, headers, response.status_code)
    feed = owner_client.get("/feed/?hidden=1").content.decode()
    assert f'id="event-{stored.pk}"' in feed
    assert "Unknown" in feed
