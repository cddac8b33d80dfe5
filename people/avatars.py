"""Avatars: the sender's `avatar` trait when it is a plain http(s) URL, else one made locally."""

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

HUE_STEPS = 24


@dataclass(frozen=True)
class Avatar:
    url: str | None
    initials: str
    hue: int


def safe_image_url(value: object) -> str | None:
    """Only http(s) URLs become <img src>: never javascript:, data: or relative URLs."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if len(url) > 2000:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


def initials_for(name: str | None, email: str | None, fallback: str) -> str:
    if name and name.strip():
        words = [w for w in name.split() if w[:1].isalnum()]
        if words:
            letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
            return letters.upper()
    if email and email[:1].isalnum():
        return email[0].upper()
    return fallback[:1].upper() or "?"


def avatar_for(*, key: str, name: str | None, email: str | None, avatar: str | None) -> Avatar:
    # A stable colour per person, derived from its id: no external service is ever asked. One of
    # HUE_STEPS colours, each a class in windsor.css: the CSP allows no inline style attribute.
    step = int(hashlib.sha256(key.encode()).hexdigest()[:4], 16) % HUE_STEPS
    hue = step * (360 // HUE_STEPS)
    return Avatar(url=safe_image_url(avatar), initials=initials_for(name, email, key), hue=hue)
