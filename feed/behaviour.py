"""Behaviour conditions on people: "did Order Completed at least 3 times in the last 30 days",
"did not do X in the last 14 days", as `Q` objects on Person that segments combine.

Each is one subquery, in one of two forms that match the same people (`per_person` picks):
- the set form (the default), `Person.pk [NOT] IN (SELECT identity.person_id ... GROUP BY
  person_id HAVING ...)`, that the database runs once (a semi-join, or a hashed anti-join): for
  counts, where every person is read anyway and the planner estimates the aggregate's rows;
- the per-person form, `(SELECT COALESCE(SUM(n), 0) ... WHERE identity.person_id = person.id)
  >= N`, run for each person the outer query reads: for a page, which walks people in its order
  and stops at the page's size (at 1M people and 10M events the set form aggregates ~1.2M rows
  before the first one: 5 s against 3 ms).
Both:
- Counts read the per-identity, per-name, per-day counts (feed.models.EventDayCount) through
  their (workspace, name, day, identity, n) index, never the events. A person's count is the sum
  over their identities, so merged people count every id's events.
- A property condition ("... where amount > 100") must read the events (the counts hold no
  properties), but only that name's within the window, through the event_name index
  (workspace, name, -timestamp); such a window is at most WHERE_DAYS_MAX days, never "ever".

What counts: track events, by event name (feed/rollups.py DAY_COUNTED). "In the last D days" is
today (UTC, the day of `now`) and the D - 1 days before it; `days=None` is ever. Events with a
timestamp ahead of `now` (a skewed clock) count too.

Zero: "at most N", "exactly 0" and "did not" match people with no events of that name at all,
so they are built as NOT IN (the people above N), never as IN (the people with rows). People who
first appeared fewer than D days ago and have not done it match "did not do X in the last D
days" (they have not).

Design: docs/design/feed.md
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Expression,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Lower

from feed.models import Event, EventDayCount
from feed.rollups import DAY_COUNTED

OPERATORS = ("at_least", "at_most", "exactly")
KEY_OPERATORS = (
    "equals",
    "not_equals",
    "contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "is_set",
    "is_not_set",
)
# The longest window a condition reads: a year, leap day included.
DAYS_MAX = 366
# The longest window of a property condition (it reads events, not counts): "ever" is refused.
WHERE_DAYS_MAX = DAYS_MAX


def window_start(days: int, now: datetime) -> date:
    """The first UTC day of "the last `days` days" at `now`: today is the last of them."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).date() - timedelta(days=days - 1)


def did_event(
    *,
    workspace_id: int,
    name: str,
    operator: str,
    value: int,
    days: int | None,
    now: datetime,
    per_person: bool = False,
) -> Q:
    """People of the workspace who did the track event `name` at least / at most / exactly
    `value` times in the last `days` days (None: ever), from the day counts. `per_person`: the
    per-person form (see the module docstring), the same people."""
    _check(operator, value, days, days_required=False)
    # The workspace leads the index; the person ids are the workspace's anyway (the caller
    # scopes Person), so it is for speed, not for isolation.
    rows = EventDayCount.objects.filter(workspace_id=workspace_id, name=name)
    if days is not None:
        rows = rows.filter(day__gte=window_start(days, now))
    return _count_condition(rows, Sum("n"), operator, value, per_person=per_person)


def did_not_event(
    *, workspace_id: int, name: str, days: int | None, now: datetime, per_person: bool = False
) -> Q:
    """People of the workspace who did not do `name` in the last `days` days (None: never did
    it). People newer than the window who have not done it match."""
    return did_event(
        workspace_id=workspace_id,
        name=name,
        operator="exactly",
        value=0,
        days=days,
        now=now,
        per_person=per_person,
    )


def did_event_where(
    *,
    workspace_id: int,
    name: str,
    operator: str,
    value: int,
    days: int,
    now: datetime,
    key: str,
    key_operator: str,
    key_value: object,
    per_person: bool = False,
) -> Q:
    """As did_event, counting only the events whose property `key` meets the condition; from
    the events of that name in the window (at most WHERE_DAYS_MAX days: ValueError otherwise).

    Property conditions: `equals` / `not_equals` compare text case-insensitively (on SQLite
    only ASCII letters fold), numbers as numbers and booleans as JSON booleans; `not_equals`
    also matches events without the property. `contains`: text, case-insensitive. `gt` `gte`
    `lt` `lte`: only JSON numbers compare (a text "12" is not a number). `is_set`: present and
    not null; `is_not_set`: absent or null."""
    _check(operator, value, days, days_required=True)
    start = datetime.combine(window_start(days, now), time.min, tzinfo=UTC)
    events = Event.objects.filter(
        workspace_id=workspace_id,
        name=name,
        timestamp__gte=start,
        type=DAY_COUNTED,
        identity__isnull=False,  # an inner join: no NULL person id may reach a NOT IN
    ).filter(property_condition(key, key_operator, key_value))
    return _count_condition(events, Count("id"), operator, value, per_person=per_person)


def _check(operator: str, value: int, days: int | None, *, days_required: bool) -> None:
    if operator not in OPERATORS:
        raise ValueError(f"unknown operator {operator!r}")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("the number of times is a whole number, 0 or more")
    if days is None:
        if days_required:
            raise ValueError(f"a property condition needs a window of 1 to {WHERE_DAYS_MAX} days")
        return
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= DAYS_MAX:
        raise ValueError(f"the window is 1 to {DAYS_MAX} days")


def _count_condition(
    rows: QuerySet, total: Expression, operator: str, value: int, *, per_person: bool
) -> Q:
    """`Person.pk IN (person ids of `rows` whose total meets it)`, or NOT IN those above it; or
    (`per_person`) the person's own total, 0 without rows, compared with `value`."""
    if operator == "at_least" and value == 0:
        return Q()
    if per_person:
        own = (
            rows.filter(identity__person_id=OuterRef("pk"))
            .order_by()
            .values("identity__person_id")
            .annotate(total=total)
            .values("total")
        )
        lookup = {"at_least": "gte", "at_most": "lte", "exactly": "exact"}[operator]
        return Q(_lookup(Coalesce(Subquery(own), 0), lookup, value))

    def people(**having: Any) -> QuerySet:
        return (
            rows.order_by()
            .values("identity__person_id")
            .annotate(total=total)
            .filter(**having)
            .values("identity__person_id")
        )

    if operator == "at_least":
        return Q(pk__in=people(total__gte=value))
    if operator == "at_most":
        return ~Q(pk__in=people(total__gt=value))
    if value == 0:  # exactly 0: nobody with one or more
        return ~Q(pk__in=people(total__gte=1))
    return Q(pk__in=people(total=value))


# --- Property conditions on events ------------------------------------------------------------


class _JsonAs(Func):
    """The JSON value at a top-level key when it is a JSON number (as a double) or a JSON
    boolean, else NULL: a text value never reaches a cast and fails it. Or ("set") whether the
    key holds a value that is not null."""

    SQL = {
        ("postgresql", "number"): "(CASE WHEN jsonb_typeof({c} -> %s) = 'number'"
        " THEN ({c} ->> %s)::double precision END)",
        ("postgresql", "boolean"): "(CASE WHEN jsonb_typeof({c} -> %s) = 'boolean'"
        " THEN ({c} ->> %s)::boolean END)",
        ("sqlite", "number"): "(CASE WHEN json_type({c}, %s) IN ('integer', 'real')"
        " THEN json_extract({c}, %s) END)",
        ("sqlite", "boolean"): "(CASE WHEN json_type({c}, %s) = 'true' THEN 1"
        " WHEN json_type({c}, %s) = 'false' THEN 0 END)",
        # Whether the key holds a value: present and not JSON null.
        ("postgresql", "set"): "(COALESCE(jsonb_typeof({c} -> %s), 'null') <> 'null')",
        ("sqlite", "set"): "(COALESCE(json_type({c}, %s), 'null') <> 'null')",
    }

    def __init__(self, key: str, kind: str) -> None:
        field = FloatField() if kind == "number" else BooleanField()
        super().__init__(F("properties"), output_field=field)
        self.key, self.kind = key, kind

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            key = self.key
        else:
            key = '$."' + self.key.replace("\\", "\\\\").replace('"', '\\"') + '"'
        template = self.SQL[(connection.vendor, self.kind)]
        return template.format(c=column), [*params, key] * template.count("%s")


def property_condition(key: str, operator: str, value: object) -> Q:
    """A filter on Event.properties[key] (a top-level key, taken literally)."""
    if operator not in KEY_OPERATORS:
        raise ValueError(f"unknown property operator {operator!r}")
    text = KeyTextTransform(key, "properties")
    if operator in {"is_set", "is_not_set"}:
        is_set = _JsonAs(key, "set")
        return Q(is_set) if operator == "is_set" else ~Q(is_set)
    if operator in {"equals", "not_equals"}:
        equal = _equals(key, text, value)
        # not_equals: every event where equals does not hold, the property missing included.
        return equal if operator == "equals" else ~equal | ~Q(_JsonAs(key, "set"))
    if operator == "contains":
        return Q(_lookup(Lower(text), "contains", str(value).lower()))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{operator} compares numbers")
    return Q(_lookup(_JsonAs(key, "number"), operator, value))


def _equals(key: str, text: Expression, value: object) -> Q:
    if value is None or isinstance(value, list | dict):
        raise ValueError("equals compares text, a number or a boolean")
    if isinstance(value, bool):
        return Q(_lookup(_JsonAs(key, "boolean"), "exact", value))
    if isinstance(value, int | float):
        return Q(_lookup(_JsonAs(key, "number"), "exact", value))
    return Q(_lookup(Lower(text), "exact", str(value).lower()))


def _lookup(expression: Expression, lookup: str, value: object) -> Any:
    """`expression <lookup> value` as a filter argument."""
    return expression.get_lookup(lookup)(expression, value)
