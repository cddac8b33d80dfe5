"""Every secret Windsor hands out: source tokens, API keys and invitation links' tokens.

One rule for all three kinds: a secret is its kind's prefix and 256 random bits (URL-safe), shown
once; only its digest (SHA-256 hex of the whole secret) is stored, with, where a page lists it,
its first VISIBLE_PREFIX_LENGTH characters. Each kind has its own prefix, so that a secret pasted
in the wrong place (an API key as a source token, or the reverse) is recognisably the wrong kind,
and the log filter (core/log_filters.py) can find any of them in a line.

The prefixes and the digest format are stored in users' databases: changing either makes every
token, key and pending invitation issued so far stop working.

There is no "rotate": rotating a source token, re-sending an invitation or replacing an API key
is issuing a new secret and storing its digest where the old one was, which the caller does in
its own transaction.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

VISIBLE_PREFIX_LENGTH = 12


class SecretKind(Enum):
    """A kind of secret; its value is its prefix."""

    SOURCE_TOKEN = "wsr_"
    API_KEY = "wak_"
    INVITATION = "wsi_"

    @property
    def prefix(self) -> str:
        return self.value


@dataclass(frozen=True)
class Issued:
    secret: str  # shown once, never stored
    digest: str
    visible_prefix: str


def secret_issue(kind: SecretKind) -> Issued:
    # URL-safe alphabet: no ':' so it survives `Authorization: Basic base64(token:)`, and no '/'
    # so it fits in /hook/<token> and /invite/<token>.
    secret = kind.prefix + secrets.token_urlsafe(32)
    return Issued(
        secret=secret, digest=secret_digest(secret), visible_prefix=secret_visible(secret)
    )


def secret_digest(secret: str) -> str:
    # Secrets carry 256 bits of randomness, so a fast digest is safe; no salt is needed.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_visible(secret: str) -> str:
    """The part of a secret a page may show, enough to tell secrets apart."""
    return secret[:VISIBLE_PREFIX_LENGTH]


def secret_matches(secret: str, digest: str) -> bool:
    """Whether `secret` is the one `digest` was made from, compared in constant time."""
    return hmac.compare_digest(secret_digest(secret), digest)
