"""The People list as CSV: the rows the page's filters select (people/selectors.py), narrowed to
a segment's people when the caller passes them, in the page's order, read in keyset batches and
streamed (core/csv_stream.py).

The trait columns the page shows (its `?columns=plan,company`, read by segments/views.py) are
added, one per trait, after the fixed ones: the trait's value as text (true/false for a boolean,
a number as written), an object or a list as compact JSON, and an empty cell where the person
does not have it. A column is named after its trait, or
`trait:<key>` where the key is the name of a fixed column (`id`, `email`...)."""

import json
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet

from accounts.models import Workspace
from core.paging import keyset_batches
from people.identity import RESERVED
from people.selectors import LIST_COLUMNS, PeopleFilters, people_filtered

EXPORT_BATCH_SIZE = 500
# One column per reserved trait (people/identity.py RESERVED), then what the list shows, then
# every other trait as one JSON object.
TRAIT_COLUMNS = sorted(RESERVED)
PEOPLE_CSV_HEADER = [
    "id",
    *TRAIT_COLUMNS,
    "group_id",
    "group_name",
    "audiences",
    "is_identified",
    "first_seen",
    "last_seen",
    "event_count",
    "traits",
]


def people_csv_header(columns: Sequence[str] = ()) -> list[str]:
    fixed = set(PEOPLE_CSV_HEADER)
    return [*PEOPLE_CSV_HEADER, *(f"trait:{c}" if c in fixed else c for c in columns)]


def people_csv_rows(
    *,
    workspace: Workspace,
    filters: PeopleFilters,
    matching: QuerySet | None = None,
    columns: Sequence[str] = (),
    batch_size: int | None = None,
) -> Iterator[list[list]]:
    """Batches of CSV rows (lists of cells), one query each. `matching` (a segment's people,
    segments.query.people_matching) narrows the rows to those people, as the page does."""
    people = people_filtered(workspace=workspace, filters=filters)
    if matching is not None:
        people = people & matching
    people = people.only(*LIST_COLUMNS, "traits", "first_seen")
    for batch in keyset_batches(
        people, moment_field="last_seen", nullable=True, size=batch_size or EXPORT_BATCH_SIZE
    ):
        yield [_row(person, columns) for person in batch]


def _row(person, columns: Sequence[str]) -> list:
    audiences = person.audiences if isinstance(person.audiences, dict) else {}
    traits = person.traits if isinstance(person.traits, dict) else {}
    return [
        person.pk,
        *(getattr(person, column) for column in TRAIT_COLUMNS),
        person.group.group_id if person.group else "",
        person.group.name if person.group else "",
        " ".join(sorted(str(name) for name, member in audiences.items() if member is True)),
        person.is_identified,
        person.first_seen.isoformat() if person.first_seen else "",
        person.last_seen.isoformat() if person.last_seen else "",
        person.event_count,
        json.dumps(person.traits, ensure_ascii=False, sort_keys=True),
        *(trait_cell(traits.get(column)) for column in columns),
    ]


def trait_cell(value: Any) -> Any:
    """One trait as a cell: objects and lists as compact JSON, the rest as csv_cell writes it."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return value
