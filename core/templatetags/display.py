"""Display filters every page uses. None marks anything safe: the templates escape the result."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(when: datetime | None) -> str:
    """ "3 hours ago"; "just now" under a minute, and for timestamps a skewed clock put ahead."""
    if not when:
        return ""
    if timezone.now() - when < timedelta(minutes=1):
        return "just now"
    return f"{timesince(when, depth=1)} ago"


# A sender controls the shape of its messages: 32 KB nested hundreds of levels deep once rendered
# as 14.6 MB of indentation. Pages show at most this much; "Show all" downloads the rest.
PREVIEW_MAX_CHARS = 64 * 1024
PREVIEW_MAX_DEPTH = 20
ELLIPSIS = "…"


@dataclass(frozen=True)
class JsonPreview:
    text: str
    truncated: bool


class _Full(Exception):
    """The preview reached its size cap."""


@register.filter
def json_preview(value: Any, max_chars: int | str = PREVIEW_MAX_CHARS) -> JsonPreview:
    """A sender's message indented like `json.dumps(indent=2)`, as plain text (the template
    escapes it), capped: containers deeper than PREVIEW_MAX_DEPTH become "…" and the text stops
    after `max_chars` characters. `truncated` says whether anything was left out."""
    limit = int(max_chars)
    parts: list[str] = []
    size = 0
    truncated = False

    def put(text: str) -> None:
        nonlocal size
        parts.append(text)
        size += len(text)
        if size > limit:
            raise _Full

    def scalar(item: Any) -> str:
        return json.dumps(item, ensure_ascii=False, default=str)

    def write(item: Any, depth: int) -> None:
        nonlocal truncated
        if not isinstance(item, dict | list):
            put(scalar(item))
            return
        opening, closing = ("{", "}") if isinstance(item, dict) else ("[", "]")
        if not item:
            put(opening + closing)
            return
        if depth >= PREVIEW_MAX_DEPTH:
            truncated = True
            put(f"{opening}{ELLIPSIS}{closing}")
            return
        inner = "\n" + "  " * (depth + 1)
        put(opening)
        pairs = item.items() if isinstance(item, dict) else ((None, v) for v in item)
        for index, (key, child) in enumerate(pairs):
            put(("," if index else "") + inner + ("" if key is None else scalar(str(key)) + ": "))
            write(child, depth + 1)
        put("\n" + "  " * depth + closing)

    try:
        write(value, 0)
    except _Full:
        truncated = True
        text = "".join(parts)[:limit]
        return JsonPreview(text=f"{text}\n{ELLIPSIS} (cut at {limit // 1024} KB)", truncated=True)
    return JsonPreview(text="".join(parts), truncated=truncated)
