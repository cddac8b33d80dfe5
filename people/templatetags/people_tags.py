from django import template

from people.avatars import avatar_for

register = template.Library()


@register.inclusion_tag("people/_avatar.html")
def avatar(person, size: str = "") -> dict:
    """`{% avatar person %}` or `{% avatar person "lg" %}`; works with any object carrying
    pk, name, email and avatar (a Person, or a row annotated with those)."""
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
        "label": getattr(person, "name", None) or getattr(person, "email", None) or "",
    }
