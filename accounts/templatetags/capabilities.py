"""`{% if request.membership|can:"manage_sources" %}`: Membership.can, for templates."""

from django import template

from accounts.models import Membership

register = template.Library()


@register.filter
def can(membership: Membership | None, capability: str) -> bool:
    """Whether the member's role holds the capability (False when there is no membership)."""
    return bool(membership) and membership.can(Membership.Capability(capability))
