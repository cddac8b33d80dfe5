"""Template helpers for the People pages. None of them marks anything safe: every value a sender
controls is returned as plain text and escaped by the template."""

from typing import Any

from django import template
from django.http import QueryDict

from people.avatars import avatar_for

register = template.Library()


@register.inclusion_tag("people/_avatar.html")
def avatar(person: Any, size: str = "", beside_name: bool = False) -> dict:
    """`{% avatar person %}` or `{% avatar person "lg" beside_name=True %}`; works with any object
    carrying pk, name, email and avatar (a Person, or a row annotated with those). `beside_name`:
    the name is written next to the picture, so the image is decorative (alt="")."""
    # No one to show: None, or the "" a template gives for `event.identity.person` when the
    # event has no identity (its only ids were junk such as "undefined", people/identity.py).
    if getattr(person, "pk", None) is None:
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
def true_audiences(audiences: Any) -> list[str]:
    if not isinstance(audiences, dict):
        return []
    return sorted(str(k) for k, v in audiences.items() if v is True)
