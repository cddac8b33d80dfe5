"""A filter (segments/filters.py) applied to people: `people_matching` and `people_count`.

What the operators match, once:
- Text comparisons (equals, not_equals, in, contains, starts_with) ignore case, Unicode included
  (PostgreSQL's lower(); on SQLite a Python lower() registered on the connection). Accents count:
  "sparck" does not equal "Spärck".
- A trait that is a number for some people and text for others: `equals`/`in` compare as text or
  number, so `equals "10"` and `equals 10` both match the number 10 and the text "10"; gt, gte,
  lt, lte match only JSON numbers (text "11" is not > 10) and never fail on text; contains and
  starts_with match only text; before/after/within_days only ISO date(time) text (a date is its
  start in UTC, no offset means UTC; text that is no such date matches none of them).
- `is_set`: present and not null (a column: not null and not ""). is_true / is_false match only
  an explicit JSON true / false: an unset boolean is neither.
- Negative operators (not_equals, is_not_set, not_within_days, a segment's not_in) are exactly
  "not the positive one": `not_equals "Pro"` matches people without the trait too, and a date
  trait's `not_within_days 14` people without that trait. A company condition on a person
  without a company is false, so its negatives match them.
- One exception: `not_within_days N` on first_seen / last_seen means "seen, and more than N
  days ago"; people never seen do not match (they have no last seen: `is_not_set` finds them).
  "Slipping away" reads it so, and it is one range of the person_recent index.
- `within_days N`: at or after now - N days (a date a little in the future counts: senders'
  clocks run ahead). `email_domain`: the part after the last "@" (EMAIL_DOMAIN_SQL, which an
  index holds). `user_id`: any user id of the person (case-sensitive: ids are exact).
- `segment in N` applies saved segment N's filter, read now (segments are live), through at most
  3 segments inside segments; a cycle, a deeper chain, a segment of another workspace or another
  member's private one is a FilterError ("no such segment"). Without a viewer only team segments
  are found.
- An empty group matches everyone, whatever its op.

Every condition compiles into one WHERE clause of one query (EXISTS subqueries for user ids,
behaviour and companies), whatever the number of people; keys are query parameters, never
formatted into SQL. Behaviour conditions take one of two forms by what the query is for
(`plan`, see people_matching and feed/behaviour.py), matching the same people.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.apps import apps
from django.db import NotSupportedError, connection
from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q

from accounts.models import Membership, Workspace
from feed import behaviour
from people.models import Group as Company
from people.models import Identity, Person, PersonQuerySet
from segments.filters import (
    Audience,
    DidEvent,
    DidNotEvent,
    FilterError,
    Group,
    GroupTrait,
    InSegment,
    Node,
    Reserved,
    Trait,
    Value,
    date_bound,
    filter_parse,
)

# Saved segments inside saved segments: at most this many deep, and this many conditions in all.
MAX_SEGMENT_DEPTH = 3
MAX_EXPANDED_CONDITIONS = 200
# people_count counts exactly when the workspace holds at most this many people (by the
# planner's estimate), and shows the planner's estimate of the filtered rows above it.
EXACT_COUNT_UP_TO = 200_000


# --- SQL fragments ---------------------------------------------------------------------------

Frag = tuple[str, list[Any]]
Plan = Literal["page", "count"]


def _f(template: str, *parts: Frag | object) -> Frag:
    """`template` with each `{}` replaced by a fragment's SQL, or a parameter for a value."""
    sqls: list[str] = []
    params: list[Any] = []
    for part in parts:
        if isinstance(part, tuple):
            sqls.append(part[0])
            params.extend(part[1])
        else:
            sqls.append("%s")
            params.append(part)
    return template.format(*sqls), params


# An ISO date or datetime, in parts PostgreSQL builds a timestamp from without a cast that could
# fail on text such as "2026-02-30" (day overflow rolls into the next month instead).
_ISO_PARTS = (
    r"^([1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"(?:[T ]([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9](?:\.[0-9]{1,6})?))?)?"
    r"(Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?$"
)
_PG_MOMENT = (
    "(SELECT make_timestamptz(m[1]::int, m[2]::int, 1, COALESCE(m[4], '0')::int, "
    "COALESCE(m[5], '0')::int, COALESCE(m[6], '0')::float8, 'UTC') "
    "+ make_interval(days => m[3]::int - 1) "
    "- CASE WHEN m[7] IS NULL OR m[7] = 'Z' THEN interval '0' ELSE make_interval(mins => "
    "(CASE WHEN left(m[7], 1) = '-' THEN -1 ELSE 1 END) * "
    "(substr(replace(m[7], ':', ''), 2, 2)::int * 60 "
    "+ COALESCE(NULLIF(substr(replace(m[7], ':', ''), 4, 2), ''), '0')::int)) END "
    "FROM (SELECT regexp_match({}, {}) AS m) AS segment_moment)"
)
_COMPARISONS = {
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "before": "<",
    "after": ">",
    "after_or_at": ">=",
}


_SQLITE_PLAIN_KEY = re.compile(r"[ -!#-\[\]-~]+")


def _sqlite_lower(text: object) -> object:
    return text.lower() if isinstance(text, str) else text


def _sqlite_email_domain(email: object) -> object:
    """EMAIL_DOMAIN_SQL on SQLite: the part after the last "@", lower case; None without one."""
    if not isinstance(email, str) or "@" not in email:
        return None
    return email.rpartition("@")[2].lower()


# An email's domain, as `email_domain` compares it: the part after the last "@", lower case, ""
# without an "@" (never NULL, so that its negation holds for people without an email).
# people/migrations/0016 indexes this very expression (with "email" for the column): keep them
# the same, or the index is not used.
EMAIL_DOMAIN_SQL = "COALESCE(lower(substring({} from '@([^@]*)$')), '')"


class _Test(Expression):
    """A true/false (never null) test of the value at `key` of a JSON column, or of a text
    column when `key` is None, written for PostgreSQL and SQLite."""

    conditional = True

    def __init__(self, column: Expression, key: str | None, test: str, value: Any = None) -> None:
        super().__init__(output_field=BooleanField())
        self.column, self.key, self.test, self.value = column, key, test, value

    def get_source_expressions(self) -> list[Expression]:
        return [self.column]

    def set_source_expressions(self, exprs: list[Expression]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> Frag:
        column = compiler.compile(self.column)
        if connection.vendor == "postgresql":
            return self._postgresql(column)
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            connection.connection.create_function(
                "segment_lower", 1, _sqlite_lower, deterministic=True
            )
            connection.connection.create_function(
                "segment_email_domain", 1, _sqlite_email_domain, deterministic=True
            )
            return self._sqlite(column)
        raise NotSupportedError(
            f"Segment filters need PostgreSQL or SQLite, not {connection.vendor}."
        )

    def _postgresql(self, column: Frag) -> Frag:
        test, value, key = self.test, self.value, self.key
        if key is None:
            text, is_text, kind = column, _f("{} IS NOT NULL", column), None
        else:
            kind = _f("jsonb_typeof({} -> {})", column, key)
            text = _f("({} ->> {})", column, key)
            is_text = _f("{} = 'string'", kind)
        if test == "set":
            if key is None:
                return _f("COALESCE({}, '') <> ''", column)
            return _f("COALESCE({}, 'null') <> 'null'", kind)
        if test == "domain_in":
            listed = ", ".join(["lower(%s)"] * len(value))
            sql, params = _f(EMAIL_DOMAIN_SQL, column)
            return f"{sql} IN ({listed})", [*params, *value]
        if test in ("true", "false"):
            return _f(f"COALESCE(({{}} -> {{}}) = '{test}'::jsonb, FALSE)", column, key)
        number = _f("({} -> {})::numeric", column, key) if key is not None else None
        if test == "equals":
            text_value, number_value = value
            sql = _f("COALESCE({} AND lower({}) = lower({}), FALSE)", is_text, text, text_value)
            if number is not None and number_value is not None:
                sql = _f(
                    "({} OR CASE WHEN {} = 'number' THEN {} = {} ELSE FALSE END)",
                    sql, kind, number, number_value,
                )  # fmt: skip
            return sql
        if test == "contains":
            return _f(
                "COALESCE({} AND strpos(lower({}), lower({})) > 0, FALSE)", is_text, text, value
            )
        if test == "starts_with":
            return _f(
                "COALESCE({} AND starts_with(lower({}), lower({})), FALSE)", is_text, text, value
            )
        if test == "ends_with":
            return _f(
                "COALESCE({} AND right(lower({}), char_length({})) = lower({}), FALSE)",
                is_text, text, value, value,
            )  # fmt: skip
        op = _COMPARISONS[test]
        if test in ("gt", "gte", "lt", "lte"):
            return _f(
                f"CASE WHEN {{}} = 'number' THEN {{}} {op} {{}} ELSE FALSE END", kind, number, value
            )
        # before / after: value is the bound (an aware datetime)
        moment = _f(_PG_MOMENT, text, _ISO_PARTS)
        return _f(
            f"COALESCE(CASE WHEN {{}} THEN {{}} {op} {{}} END, FALSE)", is_text, moment, value
        )

    def _sqlite(self, column: Frag) -> Frag:
        test, value, key = self.test, self.value, self.key
        if key is None:
            text, is_text, kind = column, _f("{} IS NOT NULL", column), None
        else:
            if _SQLITE_PLAIN_KEY.fullmatch(key):
                path = f'$."{key}"'
                kind = _f("json_type({}, {})", column, path)
                text = _f("json_extract({}, {})", column, path)
            else:
                # SQLite's JSON paths match a key as it is written in the JSON text, and Django
                # writes non-ASCII keys escaped (and a path cannot hold a quote): json_each
                # reads keys decoded.
                kind = _f("(SELECT type FROM json_each({}) WHERE key = {})", column, key)
                text = _f("(SELECT value FROM json_each({}) WHERE key = {})", column, key)
            is_text = _f("{} = 'text'", kind)
        is_number = _f("{} IN ('integer', 'real')", kind) if kind else ("FALSE", [])
        if test == "set":
            if key is None:
                return _f("COALESCE({}, '') <> ''", column)
            return _f("COALESCE({}, 'null') <> 'null'", kind)
        if test in ("true", "false"):
            return _f(f"COALESCE({{}} = '{test}', FALSE)", kind)
        if test == "domain_in":
            listed = ", ".join(["segment_lower(%s)"] * len(value))
            sql, params = _f("COALESCE(segment_email_domain({}), '')", column)
            return f"{sql} IN ({listed})", [*params, *value]
        if test == "equals":
            text_value, number_value = value
            sql = _f(
                "COALESCE({} AND segment_lower({}) = segment_lower({}), FALSE)",
                is_text, text, text_value,
            )  # fmt: skip
            if key is not None and number_value is not None:
                sql = _f(
                    "({} OR COALESCE({} AND {} = {}, FALSE))",
                    sql,
                    is_number,
                    text,
                    float(number_value),
                )
            return sql
        if test == "contains":
            return _f(
                "COALESCE({} AND instr(segment_lower({}), segment_lower({})) > 0, FALSE)",
                is_text, text, value,
            )  # fmt: skip
        if test in ("starts_with", "ends_with"):
            start = "1" if test == "starts_with" else "-length({})"
            args = (value,) if test == "ends_with" else ()
            return _f(
                "COALESCE({} AND substr(segment_lower({}), "
                + start
                + ", length({})) = segment_lower({}), FALSE)",
                is_text, text, *args, value, value,
            )  # fmt: skip
        op = _COMPARISONS[test]
        if test in ("gt", "gte", "lt", "lte"):
            return _f(f"COALESCE({{}} AND {{}} {op} {{}}, FALSE)", is_number, text, float(value))
        # strftime() reads the offset of "+02:00" text and gives UTC to the millisecond; it
        # also reads "now" and Julian day numbers, which the GLOB keeps out.
        bound = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:23]
        return _f(
            f"COALESCE({{}} AND {{}} GLOB {{}} AND strftime({{}}, {{}}) {op} {{}}, FALSE)",
            is_text, text, "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*",
            "%Y-%m-%d %H:%M:%f", text, bound,
        )  # fmt: skip


# --- Compiling -------------------------------------------------------------------------------


def segment_filter_of(
    workspace: Workspace, segment_id: int, viewer: Membership | None
) -> Group | None:
    """Saved segment `segment_id`'s filter, when the viewer may see it: a team segment of the
    workspace, or a private one the viewer made. None when there is no such segment."""
    try:
        segment_model = apps.get_model("segments", "Segment")
    except LookupError:  # saved segments not installed: no segment is found
        return None
    found = segment_model.objects.filter(workspace=workspace, pk=segment_id)
    visible = Q(visibility="team")
    if viewer is not None:
        visible |= Q(created_by_id=viewer.user_id)
    data = found.filter(visible).values_list("filter", flat=True).first()
    return None if data is None else filter_parse(data)


@dataclass
class _Context:
    workspace: Workspace
    now: datetime
    viewer: Membership | None
    segment_filter_of: Callable[[Workspace, int, Membership | None], Group | None]
    plan: Plan = "page"
    chain: tuple[int, ...] = ()
    conditions: list[int] = field(default_factory=lambda: [0])


def _compile(node: Node, ctx: _Context, *, top: bool = False) -> Q:
    if isinstance(node, Group):
        if not node.conditions:
            # Q() joined into an OR would vanish instead of matching everyone.
            return Q() if top else Q(pk__isnull=False)
        parts = [_compile(child, ctx) for child in node.conditions]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if node.op == "and" else combined | part
        return combined
    ctx.conditions[0] += 1
    if ctx.conditions[0] > MAX_EXPANDED_CONDITIONS:
        raise FilterError(
            f"With the segments it uses, this filter has more than "
            f"{MAX_EXPANDED_CONDITIONS} conditions."
        )
    compiled = _condition_q(node, ctx)
    # An empty Q (e.g. "did X at least 0 times") would vanish from an OR instead of matching all.
    return compiled if compiled else Q(pk__isnull=False)


def _condition_q(node: Node, ctx: _Context) -> Q:
    match node:
        case Trait(key, operator, value):
            return _json_q(F("traits"), key, operator, value, ctx.now)
        case Reserved():
            return _reserved_q(node, ctx)
        case GroupTrait(key, operator, value):
            return _company_q(key, operator, value, ctx)
        case Audience(key, operator):
            return _json_q(F("audiences"), key, operator, None, ctx.now)
        case InSegment(segment_id, operator):
            return _segment_q(segment_id, operator, ctx)
        case DidEvent():
            return _did_event_q(node, ctx)
        case DidNotEvent(name, days):
            return behaviour.did_not_event(
                workspace_id=ctx.workspace.pk,
                name=name,
                days=days,
                now=ctx.now,
                per_person=ctx.plan == "page",
            )
    raise TypeError(f"not a filter node: {node!r}")


_NEGATIVE = {"not_equals": "equals", "is_not_set": "is_set", "not_within_days": "within_days"}


def _equals_value(value: Value) -> tuple[str, Decimal | None]:
    """What `equals` compares with: its text, and its number when it reads as one."""
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except ArithmeticError:
            return value, None
        return value, number if number.is_finite() and abs(number) <= Decimal("1e15") else None
    number = Decimal(str(value))
    text = str(int(value)) if float(value).is_integer() else str(value)
    return text, number


def _json_q(column: Expression, key: str | None, operator: str, value: Value, now: datetime) -> Q:
    """A trait-like condition on `key` of a JSON column (or a text column when key is None)."""
    if operator in _NEGATIVE:
        return ~_json_q(column, key, _NEGATIVE[operator], value, now)
    if operator == "equals":
        return Q(_Test(column, key, "equals", _equals_value(value)))
    if operator == "in":
        either = Q(pk__in=[])
        for item in value:
            either |= Q(_Test(column, key, "equals", _equals_value(item)))
        return either
    if operator in ("contains", "starts_with"):
        return Q(_Test(column, key, operator, value))
    if operator == "is_set":
        return Q(_Test(column, key, "set"))
    if operator in ("is_true", "is_false"):
        return Q(_Test(column, key, operator.removeprefix("is_")))
    if operator in ("gt", "gte", "lt", "lte"):
        return Q(_Test(column, key, operator, Decimal(str(value))))
    if operator in ("before", "after"):
        return Q(_Test(column, key, operator, date_bound(value)))
    if operator == "within_days":
        return Q(_Test(column, key, "after_or_at", now - timedelta(days=value)))
    raise FilterError(f"{operator} does not apply here.")


def _reserved_q(node: Reserved, ctx: _Context) -> Q:
    field_name, operator, value = node.field, node.operator, node.value
    if field_name in ("first_seen", "last_seen") and operator == "not_within_days":
        # Seen, and before the window: one range of the person_recent index (the negation
        # would add "or never seen", a second range).
        return Q(**{f"{field_name}__lt": ctx.now - timedelta(days=value)})
    if operator in _NEGATIVE:
        return ~_reserved_q(Reserved(field_name, _NEGATIVE[operator], value), ctx)
    if field_name in ("email", "name", "phone"):
        return _json_q(F(field_name), None, operator, value, ctx.now)
    if field_name == "email_domain":
        domains = value if isinstance(value, tuple) else (value,)
        return Q(_Test(F("email"), None, "domain_in", domains))
    if field_name == "user_id":
        ids = Identity.objects.for_workspace(ctx.workspace).filter(
            kind=Identity.Kind.USER, person=OuterRef("pk")
        )
        if operator == "equals":
            ids = ids.filter(value=value)
        elif operator == "in":
            ids = ids.filter(value__in=[str(v) for v in value])
        return Q(Exists(ids))
    if field_name == "group":
        return Q(group__isnull=False)
    # first_seen / last_seen
    if operator == "is_set":
        return Q(**{f"{field_name}__isnull": False})
    if operator == "before":
        return Q(**{f"{field_name}__lt": date_bound(value)})
    if operator == "after":
        return Q(**{f"{field_name}__gt": date_bound(value)})
    # within_days
    return Q(**{f"{field_name}__gte": ctx.now - timedelta(days=value)})


def _company_q(key: str, operator: str, value: Value, ctx: _Context) -> Q:
    """People whose company matches; a person without one matches only the negatives."""
    if operator in _NEGATIVE:
        return ~_company_q(key, _NEGATIVE[operator], value, ctx)
    if key in ("name", "group_id") and operator not in ("is_true", "is_false"):
        if operator in ("gt", "gte", "lt", "lte", "before", "after", "within_days"):
            raise FilterError(f"A company's {key} is text: {operator} does not apply.")
        test = _json_q(F(key), None, operator, value, ctx.now)
    else:
        test = _json_q(F("traits"), key, operator, value, ctx.now)
    companies = Company.objects.for_workspace(ctx.workspace).filter(test).values("pk")
    return Q(group__in=companies)


def _segment_q(segment_id: int, operator: str, ctx: _Context) -> Q:
    if segment_id in ctx.chain:
        raise FilterError("A segment cannot include itself, through other segments or directly.")
    if len(ctx.chain) >= MAX_SEGMENT_DEPTH:
        raise FilterError(f"Segments inside segments go at most {MAX_SEGMENT_DEPTH} deep.")
    try:
        inner = ctx.segment_filter_of(ctx.workspace, segment_id, ctx.viewer)
    except FilterError as error:
        raise FilterError(f"Segment {segment_id}'s filter cannot be used: {error}") from None
    if inner is None:
        raise FilterError(f"There is no segment {segment_id}.")
    outer_chain = ctx.chain
    ctx.chain = (*outer_chain, segment_id)
    try:
        compiled = _compile(inner, ctx, top=False) if inner.conditions else Q(pk__isnull=False)
    finally:
        ctx.chain = outer_chain
    return compiled if operator == "in" else ~compiled


def _did_event_q(node: DidEvent, ctx: _Context) -> Q:
    common = {
        "workspace_id": ctx.workspace.pk,
        "name": node.name,
        "operator": node.operator,
        "value": node.value,
        "days": node.days,
        "now": ctx.now,
        "per_person": ctx.plan == "page",
    }
    if node.where is None:
        return behaviour.did_event(**common)
    where = node.where
    return behaviour.did_event_where(
        **common,
        key=where.key,
        key_operator=where.operator,
        key_value=list(where.value) if isinstance(where.value, tuple) else where.value,
    )


# --- The API ---------------------------------------------------------------------------------


def people_matching(
    *,
    workspace: Workspace,
    filter: Group,
    now: datetime,
    viewer: Membership | None = None,
    segment_filter: Callable[[Workspace, int, Membership | None], Group | None] = segment_filter_of,
    plan: Plan = "page",
) -> PersonQuerySet:
    """The workspace's current people that match `filter`, unordered (callers order and page).
    Raises FilterError for a saved segment that cannot be used (see the module docstring).

    `plan` says what the query is for; the people are the same. "page" (pages, keyset batches):
    behaviour conditions are per-person subqueries, which a walk along the page's index stops
    early. "count" (COUNT(*) and the planner's estimate): they are semi-joins, aggregated once
    for all people (faster over everyone, and estimated from the aggregate's statistics)."""
    people = Person.objects.for_workspace(workspace).current()
    ctx = _Context(
        workspace=workspace, now=now, viewer=viewer, segment_filter_of=segment_filter, plan=plan
    )
    condition = _compile(filter, ctx, top=True)
    return people.filter(condition) if condition else people


@dataclass(frozen=True)
class PeopleCount:
    n: int
    exact: bool


def people_count(
    *, workspace: Workspace, filter: Group, now: datetime, viewer: Membership | None = None
) -> PeopleCount:
    """How many people match: COUNT(*) on SQLite and in workspaces of at most EXACT_COUNT_UP_TO
    people (by the planner's estimate: one EXPLAIN, then the count); above that the planner's
    estimate of the matching rows (exact=False, shown as "about"), because an exact count would
    read every person of the workspace."""
    matching = people_matching(
        workspace=workspace, filter=filter, now=now, viewer=viewer, plan="count"
    )
    if connection.vendor != "postgresql":
        return PeopleCount(matching.count(), True)
    everyone = _planned_rows(Person.objects.for_workspace(workspace).current())
    if everyone <= EXACT_COUNT_UP_TO:
        return PeopleCount(matching.count(), True)
    if not filter.conditions:
        return PeopleCount(everyone, False)
    return PeopleCount(_planned_rows(matching), False)


def _planned_rows(queryset: PersonQuerySet) -> int:
    plan = json.loads(queryset.only("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])
