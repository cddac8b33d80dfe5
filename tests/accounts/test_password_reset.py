"""Password reset by email with Django's views: neutral replies, throttled like signup."""

import re

from django.core import mail
from django.urls import reverse

RESET_LINK = re.compile(r"http://testserver(/accounts/reset/[^/]+/[^/]+/)")


def test_login_page_offers_forgot_password(client, db):
    assert reverse("password_reset").encode() in client.get(reverse("login")).content


def test_a_known_and_an_unknown_email_get_the_same_reply(client, owner):
    known = client.post(reverse("password_reset"), {"email": "Owner@Example.com"}, follow=True)
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("password_reset_done"), 302)]
    # Byte for byte, but for the CSRF token every page carries.
    strip = re.compile(rb'"X-CSRFToken": "[^"]+"')
    assert strip.sub(b"", known.content) == strip.sub(b"", unknown.content)
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]


def test_the_mailed_link_sets_a_new_password_once(client, owner):
    client.post(reverse("password_reset"), {"email": "owner@example.com"})
    [path] = RESET_LINK.findall(mail.outbox[0].body)
    form = client.get(path, follow=True)
    assert b'id="set-password"' in form.content
    set_url = form.redirect_chain[-1][0]
    new = {"new_password1": "a-brand-new-phrase", "new_password2": "a-brand-new-phrase"}
    done = client.post(set_url, new, follow=True)
    assert done.redirect_chain[-1][0] == reverse("password_reset_complete")
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-phrase")
    again = client.get(path, follow=True)
    assert b'id="reset-invalid"' in again.content


def test_reset_requests_are_throttled_per_email(client, owner, settings):
    settings.THROTTLE_RESETS_PER_EMAIL = (2, 3600)
    for _ in range(2):
        assert (
            client.post(reverse("password_reset"), {"email": "owner@example.com"}).status_code
            == 302
        )
    refused = client.post(reverse("password_reset"), {"email": "OWNER@example.com"})
    assert refused.status_code == 429
    assert b"password-reset requests" in refused.content
    assert len(mail.outbox) == 2


def test_reset_requests_are_throttled_per_ip(client, db, settings):
    settings.THROTTLE_RESETS_PER_IP = (3, 3600)
    for n in range(3):
        client.post(reverse("password_reset"), {"email": f"n{n}@example.com"})
    assert client.post(reverse("password_reset"), {"email": "x@example.com"}).status_code == 429
