import hashlib

import pytest

from core.secrets import (
    VISIBLE_PREFIX_LENGTH,
    SecretKind,
    secret_digest,
    secret_issue,
    secret_matches,
    secret_visible,
)

# Stored in users' databases: a change here breaks every secret issued so far.
PREFIXES = {
    SecretKind.SOURCE_TOKEN: "wsr_",
    SecretKind.API_KEY: "wak_",
    SecretKind.INVITATION: "wsi_",
}


@pytest.mark.parametrize("kind", list(SecretKind))
def test_each_kind_issues_secrets_with_its_own_prefix(kind):
    issued = secret_issue(kind)
    assert kind.prefix == PREFIXES[kind]
    assert issued.secret.startswith(PREFIXES[kind])
    # 32 random bytes, URL-safe base64 without padding: 43 characters after the prefix.
    assert len(issued.secret) == len(PREFIXES[kind]) + 43
    assert all(c.isalnum() or c in "-_" for c in issued.secret)


def test_the_kinds_prefixes_differ():
    assert len({kind.prefix for kind in SecretKind}) == len(SecretKind) == 3


@pytest.mark.parametrize("kind", list(SecretKind))
def test_two_issues_differ(kind):
    first, second = secret_issue(kind), secret_issue(kind)
    assert first.secret != second.secret and first.digest != second.digest


@pytest.mark.parametrize("kind", list(SecretKind))
def test_the_digest_never_contains_the_secret_nor_its_random_part(kind):
    issued = secret_issue(kind)
    random_part = issued.secret.removeprefix(kind.prefix)
    assert issued.secret not in issued.digest and random_part not in issued.digest
    assert issued.digest == secret_digest(issued.secret)
    assert len(issued.digest) == 64 and int(issued.digest, 16) >= 0


@pytest.mark.parametrize("kind", list(SecretKind))
def test_the_visible_prefix_is_the_first_characters_of_the_secret(kind):
    issued = secret_issue(kind)
    assert len(issued.visible_prefix) == VISIBLE_PREFIX_LENGTH == 12
    assert issued.secret.startswith(issued.visible_prefix)
    assert issued.visible_prefix.startswith(kind.prefix)
    assert secret_visible(issued.secret) == issued.visible_prefix


@pytest.mark.parametrize("kind", list(SecretKind))
def test_only_the_whole_secret_matches_its_digest(kind):
    issued = secret_issue(kind)
    assert secret_matches(issued.secret, issued.digest)
    for wrong in [
        secret_issue(kind).secret,
        issued.visible_prefix,
        issued.secret[:-1],
        issued.secret + "x",
        issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B"),
        "",
    ]:
        assert not secret_matches(wrong, issued.digest)
    assert not secret_matches(issued.secret, secret_digest(issued.visible_prefix))


@pytest.mark.parametrize(
    "stored",
    [
        "wsr_" + "Tq1" * 14 + "x",  # a source token, an API key and an invitation of earlier
        "wak_" + "k-_9" * 10 + "abc",  # releases: their rows hold the SHA-256 hex of the whole
        "wsi_" + "Zz0" * 14 + "y",  # secret, and must keep working
    ],
)
def test_a_digest_made_the_old_way_still_matches(stored):
    old_digest = hashlib.sha256(stored.encode("utf-8")).hexdigest()
    assert secret_digest(stored) == old_digest
    assert secret_matches(stored, old_digest)
    assert not secret_matches(stored[:-1], old_digest)
