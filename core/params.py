"""The one reader of query parameters: a parser per kind (a whole number, a cursor, an instant,
free text), used by every view that reads one (the pages, the CSV exports, the Read API), so that
a value Python or the database would choke on is refused here, before any query runs.

Rules, stated once:
- A number is ASCII digits, within its range (ids are bigints). str.isdigit() is not the test:
  it accepts '²', which int() refuses, and Arabic-Indic digits, which int() reads as numbers.
- A cursor is core.paging's `<microseconds>.<id>`, in ASCII (Cursor.decode).
- An instant is ISO 8601 in ASCII whose UTC instant Python can hold: a year-1 time with a +01:00
  offset is in year 0 in UTC, and year 9999 with -01:00 in year 10000; SQLite's adapter (and any
  comparison in UTC) would overflow on them.
- Free text holds no NUL: PostgreSQL text cannot hold one, so a NUL can match nothing, and psycopg
  refuses to send it. It is trimmed and cut to what its field can hold.
- Absent or empty means not given (a form sends its empty fields).

A refused value raises ParameterError, a BadRequest: Django answers a page with a 400, and the
Read API answers its JSON 400 (api/errors.py maps it once). A page's own navigation links (cursors,
the Feed's watermark) are read through `or_none`: a stale or mangled link shows the first page,
the list is still right.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

from django.core.exceptions import BadRequest

from core.paging import MAX_ID, Cursor
from core.timestamps import timestamp_parse

T = TypeVar("T")
ASCII_DIGITS = frozenset("0123456789")


class ParameterError(BadRequest):
    """A query parameter that is not what its name promises; the message names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def _given(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    return value if value else None


def integer_param(
    params: Mapping[str, str], name: str, *, minimum: int = 0, maximum: int = MAX_ID
) -> int | None:
    value = _given(params, name)
    if value is None:
        return None
    # The length guard keeps int() off a 20,000-digit string (Python refuses past 4,300 digits).
    if len(value) > len(str(maximum)) or not set(value) <= ASCII_DIGITS:
        raise ParameterError(name, f"{name} must be a whole number from {minimum} to {maximum}.")
    number = int(value)
    if not minimum <= number <= maximum:
        raise ParameterError(name, f"{name} must be a whole number from {minimum} to {maximum}.")
    return number


def cursor_param(params: Mapping[str, str], name: str) -> Cursor | None:
    value = _given(params, name)
    if value is None:
        return None
    cursor = Cursor.decode(value)
    if cursor is None:
        raise ParameterError(name, f"{name} is not a cursor of this list: follow its links.")
    return cursor


def instant_param(params: Mapping[str, str], name: str) -> datetime | None:
    """An aware datetime in UTC. A naive one is read as UTC."""
    value = _given(params, name)
    if value is None:
        return None
    # An unencoded "+00:00" in a URL arrives as " 00:00": read it as the offset it was.
    candidates = [value, "+".join(value.rsplit(" ", 1))] if " " in value.strip() else [value]
    for candidate in candidates:
        # Printable ASCII: fromisoformat() also takes a time followed by a NUL.
        if not (candidate.isascii() and candidate.isprintable()):
            break
        try:
            return timestamp_parse(candidate)
        except OverflowError:
            raise ParameterError(
                name, f"{name} is outside the years 1 to 9999 once moved to UTC."
            ) from None
        except ValueError:
            continue
    raise ParameterError(name, f"{name} must be an ISO 8601 date-time, e.g. 2026-11-23T12:00:00Z.")


def text_param(params: Mapping[str, str], name: str, *, max_length: int) -> str:
    """The text, trimmed and cut to `max_length`; "" when absent."""
    value = params.get(name) or ""
    if "\x00" in value:
        raise ParameterError(name, f"{name} must not contain a NUL character.")
    return value.strip()[:max_length]


def or_none(
    read: Callable[..., T | None], params: Mapping[str, str], name: str, **options: int
) -> T | None:
    """`read`'s value, or None where it refuses: for a page's own links, never typed by hand."""
    try:
        return read(params, name, **options)
    except ParameterError:
        return None
