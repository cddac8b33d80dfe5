import pytest
from django.core.exceptions import ImproperlyConfigured

from core.email_url import CONSOLE, SMTP, email_settings


def test_no_url_prints_mails():
    assert email_settings("") == {"EMAIL_BACKEND": CONSOLE}
    assert email_settings("console://") == {"EMAIL_BACKEND": CONSOLE}


def test_submission_with_starttls_and_an_escaped_user():
    s = email_settings("smtp+tls://me%40acme.io:p%2Fss@mail.acme.io:2525?timeout=3")
    assert s["EMAIL_BACKEND"] == SMTP
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"]) == ("mail.acme.io", 2525)
    assert (s["EMAIL_HOST_USER"], s["EMAIL_HOST_PASSWORD"]) == ("me@acme.io", "p/ss")
    assert s["EMAIL_USE_TLS"] and not s["EMAIL_USE_SSL"] and s["EMAIL_TIMEOUT"] == 3.0


def test_smtps_and_plain_smtp_default_ports():
    assert email_settings("smtps://mail.acme.io")["EMAIL_PORT"] == 465
    assert email_settings("smtps://mail.acme.io")["EMAIL_USE_SSL"]
    plain = email_settings("smtp://localhost")
    assert plain["EMAIL_PORT"] == 25 and not plain["EMAIL_USE_TLS"]


@pytest.mark.parametrize("url", ["http://mail.acme.io", "smtp://", "smtp://h:notaport"])
def test_a_bad_url_is_refused_at_start(url):
    with pytest.raises(ImproperlyConfigured):
        email_settings(url)
