"""Template helpers for the People pages. None of them marks anything safe: every value a sender
controls is returned as plain text and escaped by the template."""

import json
from typing import Any

from django import template
from django.http import QueryDict

from people.avatars import avatar_for

register = template.Library()

# Properties shown inline on a timeline row, in this order when present; the rest stay in the raw.
KEY_PROPERTIES = (
    "email", "name", "url", "path", "title", "plan", "revenue", "value", "currency", "button",
)  # fmt: skip
INLINE_PROPERTIES = 3
INLINE_VALUE_LENGTH = 60


@register.inclusion_tag("people/_avatar.html")
def avatar(person: Any, size: str = "", beside_name: bool = False) -> dict:
    """`{% avatar person %}` or `{% avatar person "lg" beside_name=True %}`; works with any object
    carrying pk, name, email and avatar (a Person, or a row annotated with those). `beside_name`:
    the name is written next to the picture, so the image is decorative (alt="")."""
    if person is None:
        return {"avatar": avatar_for(key="?", name=None, email=None, avatar=None), "size": size}
    return {
        "avatar": avatar_for(
            key=str(person.pk),
            name=getattr(person, "name", None),
            email=getattr(person, "email", None),
            avatar=getattr(person, "avatar", None),
        ),
        "size": size,
        "beside_name": beside_name,
        "label": getattr(person, "name", None) or getattr(person, "email", None) or "",
    }


@register.simple_tag
def query_with(params: QueryDict, **changes: Any) -> str:
    """The current query string with some parameters replaced (None or "" drops them)."""
    query = params.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def key_properties(properties: Any) -> list[tuple[str, str]]:
    """A few properties worth showing on a timeline row, as short text."""
    if not isinstance(properties, dict):
        return []
    keys = [k for k in KEY_PROPERTIES if k in properties]
    keys += [k for k in properties if k not in keys]
    shown: list[tuple[str, str]] = []
    for key in keys:
        value = properties[key]
        if isinstance(value, dict | list) or value is None or value == "":
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text) > INLINE_VALUE_LENGTH:
            text = text[: INLINE_VALUE_LENGTH - 1] + "…"
        shown.append((str(key), text))
        if len(shown) == INLINE_PROPERTIES:
            break
    return shown


@register.filter
def timeline_summary(event: Any) -> list[tuple[str, str]]:
    """What a timeline row shows of an event: its properties, or for identify and group calls
    (which carry traits, not properties) their traits; for an alias, the id it merged."""
    raw = event.raw if isinstance(event.raw, dict) else {}
    if event.type == "alias":
        return [("previous id", str(raw.get("previousId") or ""))] if raw.get("previousId") else []
    if event.type in {"identify", "group"}:
        summary = key_properties(raw.get("traits"))
        if event.type == "group" and raw.get("groupId") is not None:
            summary = [("group id", str(raw["groupId"])), *summary][:INLINE_PROPERTIES]
        return summary
    return key_properties(event.properties)


@register.filter
def true_audiences(audiences: Any) -> list[str]:
    if not isinstance(audiences, dict):
        return []
    return sorted(str(k) for k, v in audiences.items() if v is True)
