import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template

from people.avatars import (
    AVATAR_SATURATION,
    avatar_for,
    initials_for,
    readable_lightness,
    safe_image_url,
    white_contrast,
)


@pytest.mark.parametrize(
    "value",
    [
        "https://avatar.example.com/u/1.png",
        "http://cdn.example.com/a.jpg?size=64",
        "  https://example.com/padded.png  ",
    ],
)
def test_http_urls_become_images(value):
    assert safe_image_url(value) == value.strip()


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "vbscript:msgbox(1)",
        "//evil.example.com/a.png",
        "/relative.png",
        "https:///no-host",
        "https://" + "a" * 2100 + ".com",
        "",
        None,
        42,
        {"url": "https://example.com/a.png"},
    ],
)
def test_anything_else_is_refused(value):
    assert safe_image_url(value) is None


def test_initials_from_name_then_email_then_id():
    assert initials_for("Ada Lovelace", "x@example.com", "7") == "AL"
    assert initials_for("ada", None, "7") == "A"
    assert initials_for(None, "grace@example.com", "7") == "G"
    assert initials_for("  ", "", "7") == "7"


def test_generated_avatar_is_stable_per_person_and_differs_between_people():
    first = avatar_for(key="1", name="Ada", email=None, avatar=None)
    assert first == avatar_for(key="1", name="Ada", email=None, avatar=None)
    hues = {avatar_for(key=str(i), name="Ada", email=None, avatar=None).hue for i in range(20)}
    assert len(hues) > 10


class Row:
    def __init__(self, pk, name=None, email=None, avatar=None):
        self.pk, self.name, self.email, self.avatar = pk, name, email, avatar


def render(person) -> str:
    return Template("{% load people_tags %}{% avatar person %}").render(Context({"person": person}))


def test_avatar_tag_renders_an_image_only_for_safe_urls():
    html = render(Row(1, name="Ada", avatar="https://example.com/a.png?x=1&y=2"))
    assert '<img class="avatar-image"' in html
    assert 'src="https://example.com/a.png?x=1&amp;y=2"' in html
    # The initials lie beneath the picture, for when it fails to load.
    assert ">A</span><img" in html

    html = render(Row(1, name="Ada", avatar="javascript:alert(1)"))
    assert "<img" not in html
    assert "javascript" not in html
    assert ">A</span>" in html


def test_avatar_tag_escapes_the_name_used_as_alt_text():
    html = render(Row(1, name='"><script>alert(1)</script>', avatar="https://example.com/a.png"))
    assert "<script>" not in html
    assert "&quot;&gt;&lt;script&gt;" in html


def test_white_initials_meet_wcag_aa_contrast_on_every_hue():
    for hue in range(360):
        assert white_contrast(hue, readable_lightness(hue)) >= 4.5, f"hue {hue}"
    # Blues were readable already and keep their look; a yellow goes darker.
    assert readable_lightness(230) == 48
    assert readable_lightness(60) < 48


def test_every_avatar_colour_class_in_the_stylesheet_is_readable():
    # The page draws generated avatars with these classes (the CSP allows no inline style).
    css = (Path(settings.BASE_DIR) / "static" / "windsor.css").read_text()
    shades = {
        int(h): (int(s), int(lightness))
        for h, s, lightness in re.findall(
            r"\.avatar\.hue-(\d+) \{ background: hsl\(\1, (\d+)%, (\d+)%\); \}", css
        )
    }
    hues = {avatar_for(key=str(i), name="A", email=None, avatar=None).hue for i in range(2000)}
    assert hues <= set(shades), f"hues without a class: {sorted(hues - set(shades))}"
    for hue, (saturation, lightness) in shades.items():
        assert saturation == round(AVATAR_SATURATION * 100)
        assert lightness <= readable_lightness(hue), f"hue-{hue} is too light for white initials"


# Each of these makes urllib's urlsplit raise ValueError (a bracket left open, brackets the wrong
# way round, a host NFKC-normalising to a separator): senders put such strings in `avatar`.
UNSPLITTABLE = ["https://[::1", "http://[", "https://]::1[/", "https://a\u2100b/"]


@pytest.mark.parametrize("value", UNSPLITTABLE)
def test_a_url_urllib_cannot_split_is_refused(value):
    assert safe_image_url(value) is None


@pytest.mark.django_db
@pytest.mark.parametrize("value", UNSPLITTABLE)
def test_every_page_showing_an_unsplittable_avatar_renders(owner_client, token, settings, value):
    import json

    from feed.models import Event
    from people.models import Person

    settings.INGEST_REDIS_URL = ""  # the embedded path: the request stores it
    settings.CELERY_TASK_ALWAYS_EAGER = True
    identify = {"type": "identify", "userId": "u-av", "messageId": "m-av", "traits": {}}
    identify["traits"] = {"name": "Ada", "email": "ada@example.com", "avatar": value}
    response = owner_client.post(
        "/v1/identify",
        json.dumps(identify),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.content
    person = Person.objects.get(merged_into=None)
    assert person.avatar == value  # kept as sent; only the picture is refused
    event = Event.objects.get(message_id="m-av")
    htmx = {"HX-Request": "true"}
    pages = [
        ("/people/", {}),
        ("/people/?q=Ada", htmx),
        (f"/people/{person.pk}/", {}),
        (f"/feed/people/{person.pk}/", htmx),
        ("/feed/?hidden=1", {}),
        ("/feed/?hidden=1", htmx),
        (f"/feed/{event.pk}/", {}),
        ("/people/export.csv", {}),
        ("/api/v1/people/", {}),
        (f"/api/v1/people/{person.pk}/", {}),
    ]
    for path, headers in pages:
        response = owner_client.get(path, headers=headers)
        assert response.status_code == 200, (path, headers, response.status_code)
    assert "Ada" in owner_client.get(f"/people/{person.pk}/").content.decode()
