"""`{% proxy_unconfigured as unconfigured %}`: the Status page's hint about WINDSOR_PROXY_COUNT."""

from typing import Any

from django import template

from accounts import throttle

register = template.Library()


@register.simple_tag(takes_context=True)
def proxy_unconfigured(context: dict[str, Any]) -> bool:
    request = context.get("request")
    return request is not None and throttle.proxy_unconfigured(request)
