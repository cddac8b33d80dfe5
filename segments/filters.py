"""The filter model: which people, as a small typed tree that URLs, the API and saved segments
carry as JSON. Untrusted JSON in, a validated `Group` out, or one `FilterError`. Pure: no ORM.

The rules, once:
- The top level is a group `{"op": "and" | "or", "conditions": [...]}`; a condition is a group or
  one of the kinds below, told apart by `field`. Unknown keys are refused (a typo is an error,
  not a condition silently dropped).
- An empty group has no condition: it matches everyone, whatever its op (`EVERYONE`).
- Limits: groups nest at most 3 deep (the top level is 1); at most 50 conditions in all; JSON
  text at most 16 KB (checked before parsing); strings at most 500 characters; an `in` list at
  most 100 values; `days` and `within_days` 1..366; numbers finite and at most 1e15 in size.
- Operators by field (a value's type is checked with its operator):
  trait / group_trait: equals, not_equals, in (text or number), contains, starts_with (text),
    gt, gte, lt, lte (number), is_true, is_false, is_set, is_not_set (no value),
    before, after (ISO date or datetime text), within_days, not_within_days (days 1..366);
  email, name, phone: equals, not_equals, in, contains, starts_with, is_set, is_not_set;
  email_domain: equals, not_equals, in (a domain, no "@"); user_id: equals, not_equals, in,
    is_set, is_not_set; first_seen, last_seen: the date operators (not_within_days: seen, and
    more than N days ago; never seen is is_not_set), is_set, is_not_set;
  group: is_set, is_not_set; audience: is_true, is_false, is_set, is_not_set;
  segment: in, not_in (a saved segment's id); event: at_least, at_most, exactly N (0..1e6) in
    the last `days` (null: ever), optionally `where` a property condition (equals, not_equals,
    contains, is_set, is_not_set, gt, gte, lt, lte; it needs `days`); no_event: `days`.
- A date without a time means its start in UTC; a datetime without an offset is UTC.
- Every error names where it is, as a path like `conditions[2].value`.

What each operator matches (case, unset values, mixed types) is segments/query.py's docstring.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

MAX_DEPTH = 3
MAX_CONDITIONS = 50
MAX_BYTES = 16 * 1024
MAX_STRING = 500
MAX_LIST = 100
MAX_DAYS = 366
MAX_NUMBER = 1e15
MAX_COUNT = 1_000_000

TEXT_OPS = ("equals", "not_equals", "in", "contains", "starts_with")
PRESENCE_OPS = ("is_set", "is_not_set")
NUMBER_OPS = ("gt", "gte", "lt", "lte")
BOOL_OPS = ("is_true", "is_false")
DATE_OPS = ("before", "after", "within_days", "not_within_days")
VALUELESS_OPS = PRESENCE_OPS + BOOL_OPS
TRAIT_OPS = TEXT_OPS + PRESENCE_OPS + NUMBER_OPS + BOOL_OPS + DATE_OPS
COUNT_OPS = ("at_least", "at_most", "exactly")

# Reserved fields (columns of the person, or what they imply) and their operators.
RESERVED_OPS: dict[str, tuple[str, ...]] = {
    "email": TEXT_OPS + PRESENCE_OPS,
    "name": TEXT_OPS + PRESENCE_OPS,
    "phone": TEXT_OPS + PRESENCE_OPS,
    "email_domain": ("equals", "not_equals", "in"),
    "user_id": ("equals", "not_equals", "in", *PRESENCE_OPS),
    "first_seen": DATE_OPS + PRESENCE_OPS,
    "last_seen": DATE_OPS + PRESENCE_OPS,
    "group": PRESENCE_OPS,
}
# A property condition inside an event condition (feed/behaviour.py compares the raw events'
# properties with these).
WHERE_OPS = ("equals", "not_equals", "contains", *PRESENCE_OPS, *NUMBER_OPS)

Scalar = str | int | float
Value = Scalar | tuple[Scalar, ...] | None


class FilterError(ValueError):
    """A filter that cannot be used: `message` for people, `path` to the offending part."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class Trait:
    key: str
    operator: str
    value: Value = None


@dataclass(frozen=True)
class Reserved:
    field: str
    operator: str
    value: Value = None


@dataclass(frozen=True)
class GroupTrait:
    """A trait of the person's group: `name` and `group_id` are its columns, others its traits."""

    key: str
    operator: str
    value: Value = None


@dataclass(frozen=True)
class Audience:
    key: str
    operator: str


@dataclass(frozen=True)
class InSegment:
    segment_id: int
    operator: Literal["in", "not_in"] = "in"


@dataclass(frozen=True)
class Where:
    key: str
    operator: str
    value: Value = None


@dataclass(frozen=True)
class DidEvent:
    name: str
    operator: str
    value: int
    days: int | None = None
    where: Where | None = None


@dataclass(frozen=True)
class DidNotEvent:
    name: str
    days: int


Condition = Trait | Reserved | GroupTrait | Audience | InSegment | DidEvent | DidNotEvent


@dataclass(frozen=True)
class Group:
    op: Literal["and", "or"]
    conditions: tuple[Node, ...]


Node = Group | Condition

EVERYONE = Group("and", ())


# --- Dates -----------------------------------------------------------------------------------

_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
    re.ASCII,
)


def date_bound(text: str) -> datetime:
    """The moment an ISO date or datetime names: a date is its start in UTC, a datetime without
    an offset is UTC. Raises ValueError when the text is not one."""
    if not isinstance(text, str) or not _ISO.fullmatch(text):
        raise ValueError(text)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- Parsing ---------------------------------------------------------------------------------


def filter_loads(text: str | bytes) -> Group:
    """A filter from its JSON text: the size limit first, then JSON, then `filter_parse`."""
    if not isinstance(text, str | bytes):
        raise FilterError("A filter is JSON text.")
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > MAX_BYTES:
        raise FilterError(f"The filter is too long ({size:,} bytes; at most {MAX_BYTES:,}).")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except FilterError:
        raise
    except (ValueError, RecursionError) as error:
        raise FilterError(f"The filter is not valid JSON ({_short(error)}).") from None
    return filter_parse(data)


def _no_constant(name: str) -> None:
    raise FilterError(f"The filter is not valid JSON ({name} is not a number JSON allows).")


def _short(error: Exception) -> str:
    return str(error)[:100] or type(error).__name__


def filter_parse(data: object) -> Group:
    """A validated tree from the dict form, or a FilterError naming the first problem."""
    parser = _Parser()
    return parser.group(data, path="", depth=1)


class _Parser:
    def __init__(self) -> None:
        self.conditions = 0

    def group(self, data: object, *, path: str, depth: int) -> Group:
        if depth > MAX_DEPTH:
            raise FilterError(f"Groups nest at most {MAX_DEPTH} deep.", path)
        obj = _object(data, path, "A group")
        _only(obj, {"op", "conditions"}, path)
        op = obj.get("op", "and")
        if op not in ("and", "or"):
            raise FilterError('A group\'s "op" is "and" or "or".', _join(path, "op"))
        items = obj.get("conditions", [])
        if not isinstance(items, list):
            raise FilterError('A group\'s "conditions" is a list.', _join(path, "conditions"))
        nodes = []
        for index, item in enumerate(items):
            where = f"{_join(path, 'conditions')}[{index}]"
            if (
                isinstance(item, dict)
                and "field" not in item
                and ("op" in item or "conditions" in item)
            ):
                nodes.append(self.group(item, path=where, depth=depth + 1))
            else:
                self.conditions += 1
                if self.conditions > MAX_CONDITIONS:
                    raise FilterError(f"A filter has at most {MAX_CONDITIONS} conditions.", where)
                nodes.append(self.condition(item, where))
        return Group(op, tuple(nodes))

    def condition(self, data: object, path: str) -> Condition:
        obj = _object(data, path, "A condition")
        field = obj.get("field")
        if field == "trait":
            _only(obj, {"field", "key", "operator", "value"}, path)
            key = _key(obj, path)
            operator = _operator(obj, path, TRAIT_OPS, "a trait")
            return Trait(key, operator, _value(obj, operator, path))
        if field in RESERVED_OPS:
            _only(obj, {"field", "operator", "value"}, path)
            operator = _operator(obj, path, RESERVED_OPS[field], field.replace("_", " "))
            value = _value(obj, operator, path)
            if field == "email_domain":
                for domain in value if isinstance(value, tuple) else (value,):
                    if not isinstance(domain, str) or "@" in domain or not domain:
                        raise FilterError(
                            'An email domain is the part after the "@", e.g. acme.io.',
                            _join(path, "value"),
                        )
            elif field in ("email", "name", "phone", "user_id") and operator in TEXT_OPS:
                for text in value if isinstance(value, tuple) else (value,):
                    if not isinstance(text, str):
                        raise FilterError(f"{field} is compared with text.", _join(path, "value"))
            return Reserved(field, operator, value)
        if field == "group_trait":
            _only(obj, {"field", "key", "operator", "value"}, path)
            key = _key(obj, path)
            operator = _operator(obj, path, TRAIT_OPS, "a company trait")
            return GroupTrait(key, operator, _value(obj, operator, path))
        if field == "audience":
            key = _key(obj, path)
            operator = _operator(obj, path, BOOL_OPS + PRESENCE_OPS, "an audience")
            _only(obj, {"field", "key", "operator"}, path)
            return Audience(key, operator)
        if field == "segment":
            _only(obj, {"field", "operator", "value"}, path)
            operator = _operator(obj, path, ("in", "not_in"), "a segment")
            value = obj.get("value")
            if not _is_int(value) or value < 1:
                raise FilterError("A segment is named by its id (a number).", _join(path, "value"))
            return InSegment(value, operator)
        if field == "event":
            _only(obj, {"field", "name", "operator", "value", "days", "where"}, path)
            name = _name(obj, path)
            operator = _operator(obj, path, COUNT_OPS, "an event")
            count = obj.get("value")
            if not _is_int(count) or not 0 <= count <= MAX_COUNT:
                raise FilterError(
                    f"An event count is a whole number from 0 to {MAX_COUNT:,}.",
                    _join(path, "value"),
                )
            days = _days(obj, path, optional=True)
            where = obj.get("where")
            if where is not None:
                where = self.where(where, _join(path, "where"))
                if days is None:
                    # It reads the events themselves, so only within a window.
                    raise FilterError(
                        f"An event condition with a property condition needs days (1 to "
                        f"{MAX_DAYS}).",
                        _join(path, "days"),
                    )
            return DidEvent(name, operator, count, days, where)
        if field == "no_event":
            _only(obj, {"field", "name", "days"}, path)
            return DidNotEvent(_name(obj, path), _days(obj, path, optional=False))
        if field is None:
            raise FilterError('A condition needs a "field".', path)
        raise FilterError(f"There is no field {_shown(field)}.", _join(path, "field"))

    def where(self, data: object, path: str) -> Where:
        obj = _object(data, path, "An event's property condition")
        _only(obj, {"key", "operator", "value"}, path)
        key = _key(obj, path)
        operator = _operator(obj, path, WHERE_OPS, "an event property")
        return Where(key, operator, _value(obj, operator, path))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _shown(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _object(data: object, path: str, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise FilterError(f"{what} is a JSON object.", path)
    return data


def _only(obj: dict[str, Any], allowed: set[str], path: str) -> None:
    for name in obj:
        if name not in allowed:
            raise FilterError(f"Unexpected {_shown(name)}.", _join(path, str(name)[:MAX_STRING]))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and abs(value) <= MAX_NUMBER
    except OverflowError:  # an int too large for a float
        return False


def _text(value: object, path: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise FilterError(f"{what} is non-empty text.", path)
    if len(value) > MAX_STRING:
        raise FilterError(f"{what} is at most {MAX_STRING} characters.", path)
    return value


def _key(obj: dict[str, Any], path: str) -> str:
    return _text(obj.get("key"), _join(path, "key"), "A key")


def _name(obj: dict[str, Any], path: str) -> str:
    return _text(obj.get("name"), _join(path, "name"), "An event name")


def _operator(obj: dict[str, Any], path: str, allowed: tuple[str, ...], what: str) -> str:
    operator = obj.get("operator")
    if not isinstance(operator, str) or operator not in allowed:
        raise FilterError(
            f"{_shown(operator)} is not an operator for {what} (one of: {', '.join(allowed)}).",
            _join(path, "operator"),
        )
    return operator


def _days(obj: dict[str, Any], path: str, *, optional: bool) -> int | None:
    days = obj.get("days")
    if days is None and optional:
        return None
    if not _is_int(days) or not 1 <= days <= MAX_DAYS:
        raise FilterError(f"Days are a whole number from 1 to {MAX_DAYS}.", _join(path, "days"))
    return days


def _value(obj: dict[str, Any], operator: str, path: str) -> Value:
    """The value an operator takes, checked for its type."""
    value = obj.get("value")
    where = _join(path, "value")
    if operator in VALUELESS_OPS:
        if value is not None:
            raise FilterError(f"{operator} takes no value.", where)
        return None
    if operator in ("equals", "not_equals"):
        return _scalar(value, where, operator)
    if operator == "in":
        if not isinstance(value, list) or not value:
            raise FilterError("in takes a list of values.", where)
        if len(value) > MAX_LIST:
            raise FilterError(f"in takes at most {MAX_LIST} values.", where)
        return tuple(_scalar(item, f"{where}[{i}]", "in") for i, item in enumerate(value))
    if operator in ("contains", "starts_with"):
        return _text(value, where, f"What {operator} looks for")
    if operator in NUMBER_OPS:
        if not _is_number(value):
            raise FilterError(f"{operator} needs a number, e.g. 10 or 2.5.", where)
        return value
    if operator in ("before", "after"):
        try:
            date_bound(value)
        except (ValueError, TypeError):
            raise FilterError(
                f"{operator} needs an ISO date or datetime, e.g. 2026-01-31 or "
                "2026-01-31T09:00:00+02:00.",
                where,
            ) from None
        return value
    # within_days, not_within_days
    if not _is_int(value) or not 1 <= value <= MAX_DAYS:
        raise FilterError(f"{operator} needs a whole number of days from 1 to {MAX_DAYS}.", where)
    return value


def _scalar(value: object, path: str, operator: str) -> Scalar:
    if isinstance(value, str):
        return _text(value, path, f"What {operator} compares with")
    if _is_number(value):
        return value
    if isinstance(value, bool):
        raise FilterError(f"{operator} compares text or numbers: use is_true or is_false.", path)
    raise FilterError(f"{operator} compares with text or a number.", path)


# --- Dumping ---------------------------------------------------------------------------------


def filter_dump(node: Group) -> dict[str, Any]:
    """The dict form: `filter_parse(filter_dump(g)) == g`."""
    return _dump(node)


def filter_dumps(node: Group) -> str:
    """Compact JSON text, for URLs."""
    return json.dumps(filter_dump(node), separators=(",", ":"), ensure_ascii=False)


def _with_value(out: dict[str, Any], value: Value) -> dict[str, Any]:
    if value is not None:
        out["value"] = list(value) if isinstance(value, tuple) else value
    return out


def _dump(node: Node) -> dict[str, Any]:
    match node:
        case Group(op, conditions):
            return {"op": op, "conditions": [_dump(c) for c in conditions]}
        case Trait(key, operator, value):
            return _with_value({"field": "trait", "key": key, "operator": operator}, value)
        case Reserved(field, operator, value):
            return _with_value({"field": field, "operator": operator}, value)
        case GroupTrait(key, operator, value):
            return _with_value({"field": "group_trait", "key": key, "operator": operator}, value)
        case Audience(key, operator):
            return {"field": "audience", "key": key, "operator": operator}
        case InSegment(segment_id, operator):
            return {"field": "segment", "operator": operator, "value": segment_id}
        case DidEvent(name, operator, value, days, where):
            out: dict[str, Any] = {
                "field": "event",
                "name": name,
                "operator": operator,
                "value": value,
                "days": days,
                "where": None,
            }
            if where is not None:
                out["where"] = _with_value(
                    {"key": where.key, "operator": where.operator}, where.value
                )
            return out
        case DidNotEvent(name, days):
            return {"field": "no_event", "name": name, "days": days}
    raise TypeError(f"not a filter node: {node!r}")


def conditions_of(node: Group) -> list[Condition]:
    """Every condition of a tree, depth first."""
    found: list[Condition] = []
    for child in node.conditions:
        found.extend(conditions_of(child) if isinstance(child, Group) else [child])
    return found
