"""Avatars: the sender's `avatar` trait when it is a plain http(s) URL, else one made locally."""

import colorsys
import hashlib
from dataclasses import dataclass
from functools import cache
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
    try:
        parts = urlsplit(url)
    except ValueError:  # "https://[::1": an unclosed bracket, a host NFKC makes a separator
        return None
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
    # HUE_STEPS colours, each a class in windsor.css (the CSP allows no inline style attribute)
    # whose lightness is `readable_lightness` of its hue: tests/people/test_avatars.py checks that.
    step = int(hashlib.sha256(key.encode()).hexdigest()[:4], 16) % HUE_STEPS
    hue = step * (360 // HUE_STEPS)
    return Avatar(url=safe_image_url(avatar), initials=initials_for(name, email, key), hue=hue)


AVATAR_SATURATION = 0.55
MIN_CONTRAST = 4.5  # WCAG 2.1 AA for the initials, which are small white text


def _luminance(red: float, green: float, blue: float) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


@cache
def readable_lightness(hue: int, lightest: int = 48) -> int:
    """The lightest HSL lightness (percent, at most `lightest`) at which white initials on this
    hue meet 4.5:1: blues keep 48%, yellows and greens go darker."""
    for lightness in range(lightest, 0, -1):
        if white_contrast(hue, lightness) >= MIN_CONTRAST:
            return lightness
    return 0


def white_contrast(hue: int, lightness: int) -> float:
    """Contrast of white text on hsl(hue, 55%, lightness%) as the browser paints it: in 8-bit
    channels (the rounding alone takes hue 15 at 48% from 4.50 to 4.49)."""
    rgb = colorsys.hls_to_rgb(hue / 360, lightness / 100, AVATAR_SATURATION)
    return 1.05 / (_luminance(*(round(c * 255) / 255 for c in rgb)) + 0.05)
