"""Display filters every page uses. None marks anything safe: the templates escape the result."""

import json
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


@register.filter
def pretty_json(value: Any) -> str:
    """A sender's message, indented, as a plain str (so the template escapes it)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)
