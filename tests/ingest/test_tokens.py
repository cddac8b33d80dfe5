"""Wrong tokens are refused on every way a sender can present one, with the token cache cold or
warm: only the whole token of an active source gets in.

The visible 12-character prefix is shown on the Sources page and in admin, so a token that shares
it is the first forgery to try; one that differs in one character, or carries the valid token plus
a suffix, catches checks that compare less than the whole token. The cache is warmed by the right
token first, so that a cache keyed by anything less than the whole token's digest lets them in.
"""

import base64
import json
import secrets

import pytest

from accounts.services import source_revoke
from core.secrets import VISIBLE_PREFIX_LENGTH
from feed.models import Event
from ingest.authentication import token_cache_clear
from tests.factories import stored

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def token_cache(settings):
    """The cache on (as in production), and empty at the start of every case."""
    settings.INGEST_TOKEN_CACHE_SECONDS = 60
    token_cache_clear()
    yield
    token_cache_clear()


def send(client, path: str, token: str, message_id: str):
    """One track call with `token` presented the way `path` says."""
    message = {"type": "track", "event": "Clicked", "userId": "u-1", "messageId": message_id}
    headers, url, body = {}, "/v1/batch", {"batch": [message]}
    if path == "basic":
        headers["Authorization"] = "Basic " + base64.b64encode(f"{token}:".encode()).decode()
    elif path == "basic-password":
        headers["Authorization"] = "Basic " + base64.b64encode(f":{token}".encode()).decode()
    elif path == "bearer":
        headers["Authorization"] = f"Bearer {token}"
    elif path == "write-key":
        body["writeKey"] = token
    elif path == "hook":
        url = f"/hook/{token}"
    else:
        raise AssertionError(path)
    return client.generic(
        "POST", url, json.dumps(body), content_type="application/json", headers=headers
    )


def other_character(c: str) -> str:
    return "A" if c != "A" else "B"


def forged(token: str, kind: str) -> str:
    if kind == "same-visible-prefix":
        forgery = token[:VISIBLE_PREFIX_LENGTH]
        forgery += secrets.token_urlsafe(64)[: len(token) - VISIBLE_PREFIX_LENGTH]
        assert len(forgery) == len(token) and forgery != token
        return forgery
    if kind == "one-character-changed":
        return token[:-1] + other_character(token[-1])
    if kind == "one-character-changed-mid":
        middle = len(token) // 2
        return token[:middle] + other_character(token[middle]) + token[middle + 1 :]
    if kind == "valid-plus-suffix":
        return token + "x"
    if kind == "visible-prefix-only":
        return token[:VISIBLE_PREFIX_LENGTH]
    raise AssertionError(kind)


PATHS = ["basic", "basic-password", "bearer", "write-key", "hook"]
FORGERIES = [
    "same-visible-prefix",
    "one-character-changed",
    "one-character-changed-mid",
    "valid-plus-suffix",
    "visible-prefix-only",
]


def assert_refused(response) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize("cache", ["cold", "warm"])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", FORGERIES)
def test_a_wrong_token_is_refused(client, issued, embedded, kind, path, cache):
    expected = []
    if cache == "warm":
        # The right token first, on the same path: its sender is now cached.
        assert send(client, path, issued.token, "right").status_code == 200
        expected = ["right"]

    assert_refused(send(client, path, forged(issued.token, kind), "forged"))

    assert stored() == expected
    # The right token still works afterwards (the refusal is about the token, not the path).
    assert send(client, path, issued.token, "right-again").status_code == 200
    assert stored() == sorted([*expected, "right-again"])


@pytest.mark.parametrize("cache", ["cold", "warm"])
@pytest.mark.parametrize("path", PATHS)
def test_the_right_token_of_a_revoked_source_is_refused(client, issued, embedded, path, cache):
    expected = []
    if cache == "warm":
        assert send(client, path, issued.token, "before").status_code == 200
        expected = ["before"]
    source_revoke(source=issued.source)

    assert_refused(send(client, path, issued.token, "after"))
    assert stored() == expected


@pytest.mark.parametrize("path", PATHS)
def test_a_cached_token_lets_in_only_itself(client, issued, embedded, workspace, path):
    from accounts.services import source_create

    second = source_create(workspace=workspace, name="Second")
    assert send(client, path, issued.token, "first").status_code == 200
    # A cached sender is never handed to another token, not even one of the same workspace.
    assert_refused(send(client, path, forged(second.token, "one-character-changed"), "forged"))
    assert send(client, path, second.token, "second").status_code == 200
    assert dict(Event.objects.values_list("message_id", "source_id")) == {
        "first": issued.source.pk,
        "second": second.source.pk,
    }
