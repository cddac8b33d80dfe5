"""The People page's filter builder: its form fields to a filter, and a filter back to rows.

The form sends one value per condition row in parallel lists (`cf` field, `ck` key or event
name, `co` operator, `cv` value, `cd` days, `cg` the row's group: 0 the top level, n the n-th
group) and the ops (`op` the top level's, `gop` one per group, in order). The page turns them into
the filter (segments/filters.py), whose compact JSON is what the URL keeps (`?filter=`): the form
is only how it is typed. A row without a field is a blank row, skipped; any other row is checked
by `filter_parse`, whose error names it.

Values arrive as text: a number operator (gt...), a count or a day count gets the number typed,
`in` a comma-separated list; equals compares with the text typed, or with the number when it is
written as one (10, 2.5: not 007, which stays text).

The form shows one level of groups; a filter with more (from the API, or a hand-written URL) is
shown as its JSON only (`Builder.representable` is False).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from segments.filters import FilterError, Group, filter_dump, filter_parse

NUMBER = re.compile(r"-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,10})?")
# Rows a form may send: the filter allows 50 conditions; a few more blank ones are skipped.
ROWS_MAX = 60

# (field, label, what its key input holds or "" for none); the order of the field menu.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("trait", "Trait", "trait"),
    ("email", "Email", ""),
    ("email_domain", "Email domain", ""),
    ("name", "Name", ""),
    ("phone", "Phone", ""),
    ("user_id", "User id", ""),
    ("first_seen", "First seen", ""),
    ("last_seen", "Last seen", ""),
    ("group_trait", "Company trait", "group_trait"),
    ("group", "Company", ""),
    ("audience", "Audience", "audience"),
    ("event", "Did event", "event"),
    ("no_event", "Did not do event", "event"),
    ("segment", "In segment", ""),
)
FIELD_NAMES = frozenset(name for name, _, _ in FIELDS)
KEYED = {name: kind for name, _, kind in FIELDS if kind}

TEXT = ("equals", "not_equals", "contains", "starts_with", "in")
PRESENCE = ("is_set", "is_not_set")
NUMBER_OPS = ("gt", "gte", "lt", "lte")
BOOL = ("is_true", "is_false")
DATE = ("within_days", "not_within_days", "before", "after")
COUNT = ("at_least", "at_most", "exactly")

# (operator, label, the fields it applies to): the page's script shows only those of the
# chosen field; without the script all are listed and the filter's own check answers.
_TEXTUAL = ("trait", "group_trait", "email", "name", "phone")
_EQUATABLE = (*_TEXTUAL, "email_domain", "user_id")
_TRAITS = ("trait", "group_trait")
_DATED = (*_TRAITS, "first_seen", "last_seen")
_SETTABLE = (*_TEXTUAL, "user_id", "first_seen", "last_seen", "group", "audience")
OPERATORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("equals", "equals", _EQUATABLE),
    ("not_equals", "does not equal", _EQUATABLE),
    ("contains", "contains", _TEXTUAL),
    ("starts_with", "starts with", _TEXTUAL),
    ("in", "is one of (a, b, c)", _EQUATABLE),
    ("gt", ">", _TRAITS),
    ("gte", "≥", _TRAITS),
    ("lt", "<", _TRAITS),
    ("lte", "≤", _TRAITS),
    ("is_true", "is true", (*_TRAITS, "audience")),
    ("is_false", "is false (not unset)", (*_TRAITS, "audience")),
    ("within_days", "within the last … days", _DATED),
    # On first / last seen: seen, and more than N days ago (never seen is "is not set"); on a
    # date trait: not within them, people without the trait included (segments/query.py).
    ("not_within_days", "more than … days ago", _DATED),
    ("before", "before (date)", _DATED),
    ("after", "after (date)", _DATED),
    ("is_set", "is set", _SETTABLE),
    ("is_not_set", "is not set", _SETTABLE),
    ("at_least", "at least … times", ("event",)),
    ("at_most", "at most … times", ("event",)),
    ("exactly", "exactly … times", ("event",)),
    ("in_segment", "is in", ("segment",)),
    ("not_in_segment", "is not in", ("segment",)),
)
# The segment condition's operators are `in` / `not_in` in the filter; the menu names them apart
# from the text operator `in`.
SEGMENT_OPS = {"in_segment": "in", "not_in_segment": "not_in"}


@dataclass
class Row:
    field: str = ""
    key: str = ""
    operator: str = ""
    value: str = ""
    days: str = ""
    group: int = 0


@dataclass
class Builder:
    op: str = "and"
    rows: list[Row] = field(default_factory=list)
    group_ops: list[str] = field(default_factory=list)
    representable: bool = True

    def parts(self) -> list[tuple[str, Any]]:
        """The top level in order, for the template: ("row", Row) or ("group", (n, op, rows))."""
        out: list[tuple[str, Any]] = []
        placed: dict[int, list[Row]] = {}
        for row in self.rows:
            if not row.group:
                out.append(("row", row))
            elif row.group in placed:
                placed[row.group].append(row)
            else:
                placed[row.group] = [row]
                op = self.group_ops[row.group - 1] if row.group <= len(self.group_ops) else "and"
                out.append(("group", (row.group, op, placed[row.group])))
        return out


def builder_from_query(params: Mapping[str, Any]) -> Builder | None:
    """The builder's rows as the form sent them; None when the request holds no builder form."""
    op = params.get("op")
    if op is None:
        return None
    lists = [params.getlist(name)[:ROWS_MAX] for name in ("cf", "ck", "co", "cv", "cd", "cg")]  # type: ignore[attr-defined]
    rows = []
    for field_, key, operator, value, days, group in zip_longest(*lists, fillvalue=""):
        group_n = int(group) if group.isascii() and group.isdigit() and len(group) < 3 else 0
        rows.append(
            Row(field_.strip(), key.strip(), operator, value.strip(), days.strip(), group_n)
        )
    group_ops = [o if o in ("and", "or") else "and" for o in params.getlist("gop")[:ROWS_MAX]]  # type: ignore[attr-defined]
    return Builder(op=op if op in ("and", "or") else "and", rows=rows, group_ops=group_ops)


def _number(text: str) -> int | float | str:
    if not NUMBER.fullmatch(text):
        return text
    return float(text) if "." in text else int(text)


def _row_condition(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"field": row.field}
    if row.field in ("event", "no_event"):
        out["name"] = row.key
        if row.field == "event":
            out["operator"] = row.operator
            out["value"] = _number(row.value)
            out["days"] = _number(row.days) if row.days else None
        else:
            out["days"] = _number(row.days)
        return out
    if row.field in KEYED:
        out["key"] = row.key
    if row.field == "segment":
        out["operator"] = SEGMENT_OPS.get(row.operator, row.operator)
        out["value"] = _number(row.value)
        return out
    out["operator"] = row.operator
    if row.operator in PRESENCE + BOOL:
        return out
    if row.operator == "in":
        out["value"] = [_number(part.strip()) for part in row.value.split(",") if part.strip()]
    elif row.operator in (*NUMBER_OPS, "within_days", "not_within_days", "equals", "not_equals"):
        out["value"] = _number(row.value)
    else:
        out["value"] = row.value
    return out


def builder_filter(builder: Builder) -> Group:
    """The filter the rows say; FilterError (its path names the row, counted from 1)."""
    top: list[dict[str, Any]] = []
    groups: dict[int, dict[str, Any]] = {}
    where: list[str] = []  # each condition's row, for the error
    for number, row in enumerate(builder.rows, start=1):
        if not row.field:
            continue
        if row.field not in FIELD_NAMES:
            raise FilterError(f"Row {number}: choose what to filter on.")
        condition = _row_condition(row)
        if not row.group:
            top.append(condition)
            where.append(f"Row {number}")
            continue
        if row.group not in groups:
            op = builder.group_ops[row.group - 1] if row.group <= len(builder.group_ops) else "and"
            groups[row.group] = {"op": op, "conditions": []}
            top.append(groups[row.group])
            where.append(f"Group {row.group}")
        groups[row.group]["conditions"].append(condition)
    try:
        return filter_parse({"op": builder.op, "conditions": top})
    except FilterError as error:
        raise FilterError(error.message, _row_named(error.path, where)) from None


def _row_named(path: str, where: list[str]) -> str:
    found = re.match(r"conditions\[(\d+)\](.*)", path)
    if not found or int(found.group(1)) >= len(where):
        return path
    rest = found.group(2).lstrip(".")
    return f"{where[int(found.group(1))]}{' ' + rest if rest else ''}"


def builder_from_filter(tree: Group) -> Builder:
    """The rows that show a filter; `representable` False when the form cannot show it (groups
    inside groups, an event's property condition)."""
    data = filter_dump(tree)
    builder = Builder(op=data["op"])
    for condition in data["conditions"]:
        if "conditions" in condition:
            builder.group_ops.append(condition["op"])
            number = len(builder.group_ops)
            for inner in condition["conditions"]:
                if "conditions" in inner:
                    builder.representable = False
                    continue
                builder.rows.append(_row_of(inner, number, builder))
        else:
            builder.rows.append(_row_of(condition, 0, builder))
    return builder


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _row_of(condition: dict[str, Any], group: int, builder: Builder) -> Row:
    field_ = condition["field"]
    if condition.get("where"):
        builder.representable = False
    operator = condition.get("operator", "")
    if field_ == "segment":
        operator = {v: k for k, v in SEGMENT_OPS.items()}.get(operator, operator)
    return Row(
        field=field_,
        key=condition.get("key") or condition.get("name") or "",
        operator=operator,
        value=_text(condition.get("value")),
        days=_text(condition.get("days")),
        group=group,
    )
