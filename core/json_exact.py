"""JSON read back from the database with every integer exact.

orjson reads an integer past 64 bits as a double: 184467440737095516160 comes back as
184467440737095500000, and a 310-digit one as infinity, which orjson refuses outright. Senders put
such numbers in traits and properties, the edge keeps them exact (ingest/body.py), and the
database stores them exactly (jsonb numeric, SQLite text), so a reader that rounds would write a
different number back the next time the row is merged, or fail every batch that touches the row.

The same test as the edge's: a run of 20 digits or more (the shortest number that can pass 2**64)
sends the text to the standard parser, which keeps every digit; anything else stays with orjson,
several times faster. The core cannot import ingest, so the edge asks this module.
"""

import json
from typing import Any

import orjson

_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 20


def has_long_number(data: bytes) -> bool:
    """Whether the text holds a run of 20 digits or more (found with translate + find: a regex
    costs ten times as much on a 500 KB body). The edge (ingest/body.py) asks the same."""
    return _LONG_NUMBER in data.translate(_DIGITS_AS_ZERO)


def json_loads_exact(data: bytes | bytearray | memoryview | str) -> Any:
    """The JSON value, integers of any length kept exact (within Python's 4,300-digit limit)."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if not has_long_number(raw):
        return orjson.loads(raw)
    return json.loads(raw)
