"""How an event reads in one line of the Feed and of a person's timeline (the same rows).

Names are prefixed (event_...) so that they never collide with the people tags loaded in the
same templates; the raw message's capped preview is `json_preview` (accounts' display tags).
Everything here returns plain strings: the templates autoescape them, so a sender's `<script>`
in an event name or property is shown as text. Nothing here is marked safe.

The one-line summaries follow the Segment specs people actually send: e-commerce
(`Order Completed` and friends carry revenue/total/value and currency, products, order_id),
page (title, else path, else url), screen (name), identify (the traits the call set),
group (group id and name), alias (previous id -> user id).
"""

import json
from typing import Any

from django import template
from django.utils import timezone

from feed.charts import person_chart
from feed.models import Event

register = template.Library()

MAX_PARTS = 4
MAX_VALUE_LENGTH = 80
MONEY_KEYS = ("revenue", "total", "value", "price")
# Traits people look for first in an identify; the rest follow in the order sent.
TRAIT_ORDER = ("name", "email", "firstName", "lastName", "first_name", "last_name", "plan")

Parts = list[tuple[str, str]]


def _text(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    text = " ".join(text.split())
    if len(text) > MAX_VALUE_LENGTH:
        return text[: MAX_VALUE_LENGTH - 1] + "…"
    return text


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != {} and value != []


def _rest(data: dict, skip: set[str], room: int) -> Parts:
    """Further scalar entries, in the order the sender wrote them, up to `room` of them."""
    parts: Parts = []
    for key, value in data.items():
        if len(parts) >= room:
            break
        if key in skip or not _present(value) or isinstance(value, dict | list):
            continue
        parts.append((str(key), _text(value)))
    return parts


def _track_parts(properties: dict) -> Parts:
    parts: Parts = []
    used: set[str] = {"currency"}
    money = next((k for k in MONEY_KEYS if _present(properties.get(k))), None)
    if money:
        amount = _text(properties[money])
        currency = properties.get("currency")
        parts.append((money, f"{amount} {_text(currency)}" if _present(currency) else amount))
        used.update(MONEY_KEYS)
    for key in ("order_id", "orderId"):
        if _present(properties.get(key)):
            parts.append(("order", _text(properties[key])))
            used.update({"order_id", "orderId"})
            break
    products = properties.get("products")
    if isinstance(products, list) and products:
        parts.append(("products", str(len(products))))
    used.add("products")
    return parts + _rest(properties, used, MAX_PARTS - len(parts))


def _page_parts(event: Event) -> Parts:
    properties = event.properties or {}
    for key in ("title", "path", "url"):
        if _present(properties.get(key)):
            return [(key, _text(properties[key]))]
    return []


def _traits(event: Event) -> dict:
    # The worker may keep an identify's traits as the event's properties; else they are in the
    # raw message (annotated by the feed query as raw_traits, to leave the raw blob unread).
    if event.properties:
        return event.properties
    traits = getattr(event, "raw_traits", None)
    if traits is None and "raw" in event.__dict__:
        traits = (event.raw or {}).get("traits")
    return traits if isinstance(traits, dict) else {}


def _raw(event: Event, key: str, annotation: str) -> Any:
    if annotation in event.__dict__:
        return event.__dict__[annotation]
    if "raw" in event.__dict__:
        return (event.raw or {}).get(key)
    return None


def _identify_parts(event: Event) -> Parts:
    traits = _traits(event)
    first = [k for k in TRAIT_ORDER if _present(traits.get(k)) and not isinstance(traits[k], dict)]
    parts = [(k, _text(traits[k])) for k in first[:MAX_PARTS]]
    return parts + _rest(traits, set(TRAIT_ORDER), MAX_PARTS - len(parts))


def _group_parts(event: Event) -> Parts:
    parts: Parts = []
    group_id = _raw(event, "groupId", "raw_group_id")
    if _present(group_id):
        parts.append(("group", _text(group_id)))
    name = _traits(event).get("name")
    if _present(name):
        parts.append(("name", _text(name)))
    return parts


def _alias_parts(event: Event) -> Parts:
    previous = _raw(event, "previousId", "raw_previous_id")
    user_id = _raw(event, "userId", "raw_user_id")
    if not _present(previous) and not _present(user_id):
        return []
    return [("alias", f"{_text(previous or '?')} → {_text(user_id or '?')}")]


@register.filter
def event_summary(event: Event) -> Parts:
    """(label, value) pairs for the row's one line of key properties."""
    match event.type:
        case Event.Type.TRACK:
            return _track_parts(event.properties or {})
        case Event.Type.PAGE:
            return _page_parts(event)
        case Event.Type.SCREEN:
            parts = [("screen", _text(event.name))] if event.name else []
            return parts + _rest(event.properties or {}, {"name"}, MAX_PARTS - len(parts))
        case Event.Type.IDENTIFY:
            return _identify_parts(event)
        case Event.Type.GROUP:
            return _group_parts(event)
        case Event.Type.ALIAS:
            return _alias_parts(event)
    return []


@register.filter
def event_label(event: Event) -> str:
    """The event's name, else what kind of call it was."""
    if event.type in {Event.Type.TRACK, Event.Type.PAGE, Event.Type.SCREEN} and event.name:
        return event.name
    if event.type == Event.Type.PAGE:
        return "Page viewed"
    if event.type == Event.Type.SCREEN:
        return "Screen viewed"
    return Event.Type(event.type).label if event.type in Event.Type.values else event.type


@register.inclusion_tag("feed/_person_activity.html", takes_context=True)
def person_activity(context: dict, person: Any) -> dict:
    """The person page's activity chart (a feed tag: the rollups are the feed's, and people/ may
    not import feed/). Reads the rollup, one query; the request's workspace scopes it."""
    workspace = context["request"].workspace
    return {"chart": person_chart(workspace=workspace, person=person, now=timezone.now())}
