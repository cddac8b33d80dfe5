"""Plain rows of Identity and Person for the batch processor (people/identity.py).

A batch reads, changes and writes thousands of identities and people; building a Django model
instance for each cost a fifth of the batch (Model.__init__ walks every field, sets defaults,
sends signals). These classes hold the same columns, by attname, with the models' defaults, and
core/bulk.py writes them like model instances. Nothing outside the batch sees them.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


class _Row:
    """`pk` as an alias of `id`, as on a model instance (core/bulk.py sets and reads it)."""

    __slots__ = ()
    id: int | None

    @property
    def pk(self) -> int | None:
        return self.id

    @pk.setter
    def pk(self, value: int | None) -> None:
        self.id = value


@dataclass(slots=True, eq=False)
class IdentityRow(_Row):
    """An `Identity` row (see people/models.py for what each column means)."""

    workspace_id: int
    value: str
    kind: str
    id: int | None = None
    person_id: int | None = None
    trait_versions: dict = field(default_factory=dict)
    group_version: list | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    event_count: int = 0
    linked_at: datetime | None = None
    linked_by_message_id: str = ""
    linked_to: str = ""
    aliased: bool = False
    created_at: datetime | None = None
    linked_by_type: str = ""


@dataclass(slots=True, eq=False)
class PersonRow(_Row):
    """A `Person` row (see people/models.py for what each column means)."""

    workspace_id: int
    id: int | None = None
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    avatar: str | None = None
    traits: dict = field(default_factory=dict)
    audiences: dict = field(default_factory=dict)
    search_text: str = ""
    group_id: int | None = None
    is_identified: bool = False
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    event_count: int = 0
    merged_into_id: int | None = None
    merged_at: datetime | None = None
    ids_unlinked: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


IDENTITY_COLUMNS = tuple(f.name for f in fields(IdentityRow))


def identity_rows(values: list[tuple[Any, ...]]) -> list[IdentityRow]:
    """Rows from `.values_list(*IDENTITY_COLUMNS)`."""
    return [IdentityRow(*row) for row in values]
