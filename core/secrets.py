"""Source tokens: shown once, stored as a SHA-256 digest plus a short visible prefix."""

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "wsr_"
VISIBLE_PREFIX_LENGTH = 12


def token_generate() -> str:
    # URL-safe alphabet: no ':' so it survives `Authorization: Basic base64(token:)`.
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast digest is safe; no salt is needed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str:
    return token[:VISIBLE_PREFIX_LENGTH]


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)
