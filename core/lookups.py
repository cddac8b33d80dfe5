"""Filters for the worker's per-batch reads by key.

`one_of(field, values)`: "field is one of these values" as `= ANY(%s)` with one array parameter,
about twice as fast as Django's `IN (%s, %s, ...)` for a batch's hundreds of keys.
`equals_unindexed(field, value)`: "field = value" as `field + 0 = value`, which no index serves,
so a workspace condition only narrows a key-led index lookup and never sends the planner to a
workspace-led index it misjudges.

Design: docs/design/bulk.md
"""

import json
from collections.abc import Collection, Iterable
from typing import Any

from django.db import connection
from django.db.models import F, Lookup, Q
from django.db.models.lookups import Exact


class AnyOf(Lookup):
    """`lhs = ANY(array)`: the values (already of the column's Python type) as one parameter."""

    lookup_name = "any_of"
    # The list is one parameter as it is; preparing it as a single value would stringify it.
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def int_array(values: Iterable[int | str]) -> str:
    """Integers as PostgreSQL array text (`{1,2,3}`), for a `%s::bigint[]` parameter: psycopg
    sends text as is, where its list dumper costs more than the statement for many ids."""
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def one_of(field: str, values: Collection[Any]) -> Q | AnyOf:
    """A filter argument: `field` is one of `values` (= ANY on PostgreSQL, IN elsewhere)."""
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": list(values)})
    return AnyOf(F(field), list(values))


def equals_unindexed(field: str, value: Any) -> Exact:
    """A filter argument: `field` equals `value`, as a condition no index can serve (above)."""
    return Exact(F(field) + 0, value)


class ContainsAny(Lookup):
    """`lhs` contains one of the strings (case-sensitive, no LIKE wildcards to escape), with the
    strings as one parameter whatever their number: an array on PostgreSQL, a JSON array that
    json_each reads on SQLite (an OR of LIKEs would grow one term and parameter per string)."""

    lookup_name = "contains_any"
    prepare_rhs = False

    def _sides(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return lhs, list(lhs_params)

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self._sides(compiler, connection)
        # The only interpolation, here and below, is the column as Django compiled it.
        sql = (
            "EXISTS (SELECT 1 FROM unnest(%s::text[]) AS n(s)"  # noqa: S608
            f" WHERE strpos({lhs}, n.s) > 0)"
        )
        return sql, [list(self.rhs), *params]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self._sides(compiler, connection)
        sql = (
            "EXISTS (SELECT 1 FROM json_each(%s) AS n"  # noqa: S608
            f" WHERE instr({lhs}, n.value) > 0)"
        )
        return sql, [json.dumps(list(self.rhs)), *params]


def contains_any(field: str, needles: Collection[str]) -> ContainsAny:
    """A filter argument: the text `field` contains one of `needles` (one query, any number)."""
    return ContainsAny(F(field), list(needles))
