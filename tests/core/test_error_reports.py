"""Django's debug error page (DJANGO_DEBUG=1) shows the settings, request.META and each frame's
variables: credentials inside URLs (a broker's, a cache's, the database's) are hidden there too,
not only settings named like a secret."""

import sys

import pytest
from django.test import RequestFactory
from django.views.debug import technical_500_response

BROKER = "redis://:broker-pw-1@redis.internal:6379/0"
INGEST = "rediss://windsor:ingest-pw-2@queue.internal:6380/1"
CACHE = "redis://cache-pw-3@cache.internal:6379/2"  # redis-py reads a lone userinfo as the user
DATABASE = "postgres://windsor:database-pw-4@db.internal:5432/windsor"
SECRETS = ("broker-pw-1", "ingest-pw-2", "cache-pw-3", "database-pw-4", "local-pw-5")


def error_page(settings) -> str:
    settings.DEBUG = True
    settings.CELERY_BROKER_URL = BROKER
    settings.INGEST_REDIS_URL = INGEST
    settings.CACHE_URL = CACHE
    settings.CACHES = {
        **settings.CACHES,
        "spare": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": [CACHE]},
    }
    request = RequestFactory().get("/people/", DATABASE_URL=DATABASE)
    # A frame variable (built so that the page's source excerpt does not hold it as it is).
    url = "amqp://guest:" + "-".join(["local", "pw", "5"]) + "@rabbit.internal//"  # noqa: F841
    try:
        raise ValueError("the page is rendered for this error")
    except ValueError:
        response = technical_500_response(request, *sys.exc_info())
    return response.content.decode()


def test_the_debug_error_page_hides_passwords_inside_urls(settings):
    html = error_page(settings)
    assert "the page is rendered for this error" in html
    for secret in SECRETS:
        assert secret not in html, secret
    # The rest of each URL stays, for debugging: where it points, and as whom.
    assert "redis.internal:6379" in html
    assert "windsor:********************@queue.internal" in html
    assert "********************@cache.internal" in html
    assert "rabbit.internal" in html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:pw@h/0", "redis://:********************@h/0"),
        (
            "see postgres://u:p@h/db and redis://:q@r/1",
            "see postgres://u:****@h/db and redis://:****@r/1",
        ),
        ("https://example.com/a@b", "https://example.com/a@b"),
        ("user@example.com", "user@example.com"),
    ],
)
def test_only_the_userinfo_of_a_url_is_hidden(value, expected):
    from core.error_reports import url_credentials_hidden

    assert url_credentials_hidden(value).replace("*" * 20, "****") == expected.replace(
        "*" * 20, "****"
    )
