"""CSV downloads that stream: rows are written as they are read, a batch at a time, so a million
rows cost the memory of one batch and the first bytes leave before the last row is read.

Spreadsheet formula injection: a cell a sender controls that starts with = + - @ (or a tab or
carriage return, which some spreadsheets skip before a formula) would run as a formula when the
file is opened in Excel, LibreOffice or Google Sheets. Such cells get a leading apostrophe, which
the spreadsheets show as text (OWASP's advice); the value is otherwise unchanged.
"""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One cell as text, defused if a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, so csv.writer hands each one back."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], batches: Iterable[list[list[Any]]]) -> Iterator[str]:
    """The header, then one chunk of CSV text per batch of rows."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for rows in batches:
        yield "".join(writer.writerow([csv_cell(cell) for cell in row]) for row in rows)


def csv_response(filename: str, lines: Iterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # An export is a snapshot of what the viewer may see: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
