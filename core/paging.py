"""One keyset pager for every list: a page is read from the sort key of the last row shown
(moment, id), never OFFSET, so the 20,000th page costs what the first does.

Used by the People list, the Feed and a person's timeline. A cursor in a URL is
`<microseconds since 1970>.<id>` (`n.<id>` for a row without a moment, such as a person never
seen); anything else decodes to None and shows the first page. Rows are
ordered (moment DESC NULLS FIRST, id DESC), which the lists' indexes store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy, RawSQL

from core.lookups import AnyOf, int_array

# Ids are bigints: a larger number in a URL would make PostgreSQL fail, not match.
MAX_ID = 2**63 - 1
MICROS = re.compile(r"-?[0-9]{1,20}")


@dataclass(frozen=True)
class Cursor:
    """The sort key of one row: (moment, id). The moment is None for people never seen."""

    moment: datetime | None
    id: int

    def encode(self) -> str:
        micros = "n" if self.moment is None else str(_to_micros(self.moment))
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """A cursor from the URL, or None when absent or not one of ours (a hand-edited URL)."""
        if not value or len(value) > 60:
            return None
        micros, _, ident = value.partition(".")
        if not (ident.isascii() and ident.isdigit()) or int(ident) > MAX_ID:
            return None
        # ASCII only: int() would also read "١٢", " 12" and "1_2", which we never write.
        if micros != "n" and not MICROS.fullmatch(micros):
            return None
        try:
            moment = None if micros == "n" else _from_micros(int(micros))
        except (ValueError, OverflowError, OSError):
            return None
        return cls(moment=moment, id=int(ident))


def _to_micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _older_than(moment_field: str, cursor: Cursor, *, nullable: bool) -> Q:
    """Rows after `cursor` in (moment DESC NULLS FIRST, id DESC) order.

    `moment <= c AND (moment < c OR id < i)` rather than a plain OR, so that PostgreSQL can start
    the index scan at the cursor instead of filtering every newer row.
    """
    if cursor.moment is None:
        tail = Q(**{f"{moment_field}__isnull": True, "id__lt": cursor.id})
        return tail | Q(**{f"{moment_field}__isnull": False}) if nullable else tail
    return Q(**{f"{moment_field}__lte": cursor.moment}) & (
        Q(**{f"{moment_field}__lt": cursor.moment}) | Q(id__lt=cursor.id)
    )


def _newer_than(moment_field: str, cursor: Cursor, *, nullable: bool) -> Q:
    """Rows before `cursor` in (moment DESC NULLS FIRST, id DESC) order."""
    if cursor.moment is None:
        return Q(**{f"{moment_field}__isnull": True, "id__gt": cursor.id})
    newer = Q(**{f"{moment_field}__gte": cursor.moment}) & (
        Q(**{f"{moment_field}__gt": cursor.moment}) | Q(id__gt=cursor.id)
    )
    return newer | Q(**{f"{moment_field}__isnull": True}) if nullable else newer


@dataclass
class Page:
    """One keyset page: its rows, newest first, and the cursors of the pages around it."""

    rows: list[Any]
    older: str | None = None
    newer: str | None = None


def keyset_page(
    queryset: QuerySet,
    *,
    moment_field: str,
    nullable: bool,
    size: int,
    after: Cursor | None,
    before: Cursor | None,
    split: tuple[str, list[int]] | None = None,
) -> Page:
    """Fetch size + 1 rows to know whether another page follows, in one query."""
    if before is not None:
        # Going back towards the newest: read upwards from the cursor, then flip.
        queryset = queryset.filter(_newer_than(moment_field, before, nullable=nullable))
        rows = _first_rows(queryset, moment_field, ascending=True, limit=size + 1, split=split)
        has_more_newer = len(rows) > size
        rows = rows[:size][::-1]
        page = Page(rows=rows)
        if rows:
            page.older = _cursor_of(rows[-1], moment_field).encode()
            if has_more_newer:
                page.newer = _cursor_of(rows[0], moment_field).encode()
        return page
    if after is not None:
        queryset = queryset.filter(_older_than(moment_field, after, nullable=nullable))
    rows = _first_rows(queryset, moment_field, ascending=False, limit=size + 1, split=split)
    has_more_older = len(rows) > size
    rows = rows[:size]
    page = Page(rows=rows)
    if rows:
        if has_more_older:
            page.older = _cursor_of(rows[-1], moment_field).encode()
        if after is not None:
            page.newer = _cursor_of(rows[0], moment_field).encode()
    return page


def _first_rows(
    queryset: QuerySet,
    moment_field: str,
    *,
    ascending: bool,
    limit: int,
    split: tuple[str, list[int]] | None,
) -> list[Any]:
    """The first `limit` rows in (moment, id) order.

    With `split` (a field and its values, e.g. a person's identity ids) each value gets its own
    ordered, limited index scan and the few rows they yield are sorted: a person with a million
    events costs what one with thirty does. A plain `IN` would sort all their events.
    """
    if ascending:
        order: tuple = (F(moment_field).asc(nulls_last=True), F("id").asc())
    else:
        order = newest_first(moment_field)
    if split is None:
        return list(queryset.order_by(*order)[:limit])
    field, values = split
    if len(values) <= 1 or connection.vendor != "postgresql":
        return list(queryset.filter(**{f"{field}__in": values}).order_by(*order)[:limit])
    # `= ANY(ARRAY(..))`, not `IN (..)`: the ids are gathered first (an init plan), so the
    # rows and their joins are read by primary key. As a semi-join, estimated at one row, the
    # API's join to the person was planned as a scan of every person per row (250 ms).
    ids = _split_ids(queryset, moment_field, ascending, limit, split)
    return list(queryset.filter(AnyOf(F("pk"), ids)).order_by(*order)[:limit])


def _split_ids(
    queryset: QuerySet, moment_field: str, ascending: bool, limit: int, split: tuple[str, list[int]]
) -> RawSQL:
    """The ids of the first `limit` rows of `split`, as one LATERAL join: for each value (one
    array parameter) an ordered, limited scan of its index, then the best `limit` of those.

    One statement whatever the number of values. It used to be a UNION ALL of one branch per
    value, which Django compiled and PostgreSQL planned in time growing with the square of the
    branches: 3,000 ids took 2.7 s, 6,000 took 13-19 s. Measured on PostgreSQL 15 (EXPLAIN
    ANALYZE, a person of 10, 50, 500, 3,000 and 5,000 ids with events in a 300k-event workspace):
    the LATERAL took 1.4, 3.8, 6.3, 10 and 37 ms end to end, the UNION 7, 74, 600 and 7,000 ms
    (up to 3,000), so it is used from two values up. The moments of a split are never null."""
    field, values = split
    direction = "ASC" if ascending else "DESC"
    moment = connection.ops.quote_name(queryset.model._meta.get_field(moment_field).column)
    plain = (moment_field, "id") if ascending else (f"-{moment_field}", "-id")
    per_value = (
        queryset.filter(**{field: RawSQL('"split_values"."value"', [])})
        .order_by(*plain)
        .values(moment_field, "id")[:limit]
    )
    sql, params = per_value.query.sql_with_params()
    # The only interpolations are Django's compiled SQL (with its own parameters) and a column.
    return RawSQL(  # noqa: S611
        'ARRAY(SELECT "split_rows"."id" FROM unnest(%s::bigint[]) AS "split_values"("value")'  # noqa: S608
        f' CROSS JOIN LATERAL ({sql}) AS "split_rows"'
        f' ORDER BY "split_rows".{moment} {direction}, "split_rows"."id" {direction} LIMIT %s)',
        [int_array(values), *params, limit],
    )


def newest_first(moment_field: str) -> tuple[OrderBy, OrderBy]:
    return (F(moment_field).desc(nulls_first=True), F("id").desc())


def _cursor_of(row: Any, moment_field: str) -> Cursor:
    return Cursor(moment=getattr(row, moment_field), id=row.id)


def keyset_batches(
    queryset: QuerySet, *, moment_field: str, nullable: bool, size: int
) -> Iterator[list[Any]]:
    """Every row of `queryset` in list order, `size` rows per query: the pages of `keyset_page`
    one after another, for exports that must not hold a million rows (nor OFFSET past them)."""
    after: Cursor | None = None
    while True:
        page = keyset_page(
            queryset,
            moment_field=moment_field,
            nullable=nullable,
            size=size,
            after=after,
            before=None,
        )
        if page.rows:
            yield page.rows
        if page.older is None:
            return
        after = _cursor_of(page.rows[-1], moment_field)
