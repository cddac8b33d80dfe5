"""The People list as CSV: the rows the page's filters select (people/selectors.py), in the
page's order, read in keyset batches and streamed (core/csv_stream.py)."""

import json
from collections.abc import Iterator

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


def people_csv_rows(
    *, workspace: Workspace, filters: PeopleFilters, batch_size: int | None = None
) -> Iterator[list[list]]:
    """Batches of CSV rows (lists of cells), one query each."""
    people = people_filtered(workspace=workspace, filters=filters).only(
        *LIST_COLUMNS, "traits", "first_seen"
    )
    for batch in keyset_batches(
        people, moment_field="last_seen", nullable=True, size=batch_size or EXPORT_BATCH_SIZE
    ):
        yield [_row(person) for person in batch]


def _row(person) -> list:
    audiences = person.audiences if isinstance(person.audiences, dict) else {}
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
    ]
