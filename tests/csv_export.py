"""Reading a streamed CSV export in tests: all of it as rows, or the chunks after the header."""

import csv
import io
from collections.abc import Iterable

from django.http import StreamingHttpResponse


def rows_of(response) -> list[dict]:
    """Every row of a streamed export, keyed by the header."""
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def csv_rows(chunks: Iterable[bytes]) -> list[list[str]]:
    """The rows of body chunks read after the header chunk."""
    return list(csv.reader(io.StringIO(b"".join(chunks).decode())))
