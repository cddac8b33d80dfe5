"""The People pages' queries: one named read per page section, each a fixed number of queries.

Rules kept here:
- Every query starts from the viewer's workspace.
- Lists are paginated by keyset (the sort key of the last row shown), never OFFSET: the 20,000th
  page costs what the first does.
- Search is prefix matching on lower(email), lower(name) and lower(identity value), which the
  indexes of migration 0002 serve on PostgreSQL (text_pattern_ops, since the database collation is
  not C), plus, for queries of WORD_SEARCH_MIN_LENGTH characters or more, the start of any word of
  the name ("lovelace" finds Ada Lovelace). On PostgreSQL the word match is full-text search with
  the built-in 'simple' configuration (no stemming, no stop words) and prefix lexemes, served by
  the GIN index of migration 0008 (built in, so no extension and no superuser is needed); SQLite
  (the embedded default, small) scans for each word at the start of the name or after a space.
- Search also matches the words of `Person.search_text` (people/search_text.py: name, email and
  its domain, phone and its digits, the workspace's chosen text traits, accents stripped), the
  query normalised the same way: each whitespace-separated term of the query must start a word,
  and a term of several words (`acme.io`, `ada@acme`, `010-2030`) must find them next to each
  other (a phrase). PostgreSQL: the same full-text search as the name's, over the GIN index of
  migration 0015; SQLite: LIKE on the words. Never a scan of the JSON traits.
- The People list sorts by last seen, newest first, people never seen first (PostgreSQL's default
  for DESC, which the `person_recent` index stores); the explicit NULLS FIRST makes SQLite agree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, Lower

from accounts.models import Workspace
from core.paging import Cursor, Page, keyset_page
from core.params import integer_param, text_param
from people.models import Audience, Group, Identity, Person
from people.search_text import search_words

PEOPLE_PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 30
GROUP_CHOICES_LIMIT = 300
AUDIENCE_CHOICES_LIMIT = 300
SEARCH_MAX_LENGTH = 200
AUDIENCE_MAX_LENGTH = 200
# Shorter queries match the start of a name only: one letter would match a word of nearly
# everyone, and the start of the name already answers it.
WORD_SEARCH_MIN_LENGTH = 3
# The exact expression of the person_name_words index (migration 0008): PostgreSQL uses the
# index only for this text.
NAME_WORDS_SQL = "to_tsvector('simple'::regconfig, COALESCE(\"people_person\".\"name\", ''))"
# The exact expression of the person_search_words index (migration 0015).
SEARCH_WORDS_SQL = 'to_tsvector(\'simple\'::regconfig, "people_person"."search_text")'
# The words of a query the search text is matched with; the rest are ignored (each prefix word
# is a range of the index to read).
SEARCH_WORDS_MAX = 8
# The search text with a space before its first word: on SQLite " word" starts a word anywhere.
SEARCH_PADDED = Concat(Value(" "), "search_text", output_field=TextField())
# Up to this many matches a search sorts them all; beyond, it walks the last-seen index.
SEARCH_SORT_LIMIT = 1000
# Traits nested deeper than this are shown as compact JSON rather than one row per leaf.
TRAIT_MAX_DEPTH = 4
# The ids a person's pages list (the rest are counted).
IDENTITIES_SHOWN = 100
# A cap on the merged_into chain followed on a redirect; merges never form cycles, this is a guard.
MERGE_CHAIN_LIMIT = 20

LIST_COLUMNS = (
    "id",
    "workspace_id",
    "email",
    "name",
    "phone",
    "avatar",
    "audiences",
    "is_identified",
    "last_seen",
    "event_count",
    "group__id",
    "group__name",
    "group__group_id",
)


# --- People list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleFilters:
    q: str = ""
    group_id: int | None = None
    audience: str = ""
    missing_email: bool = False

    @property
    def active(self) -> bool:
        return bool(self.q or self.group_id or self.audience or self.missing_email)

    @classmethod
    def from_query(cls, params: Any) -> PeopleFilters:
        """The filters of a URL (the page, its export, the API); ParameterError (a 400) for a
        group that is not an id or text with a NUL in it (core.params)."""
        return cls(
            q=text_param(params, "q", max_length=SEARCH_MAX_LENGTH),
            group_id=integer_param(params, "group"),
            audience=text_param(params, "audience", max_length=AUDIENCE_MAX_LENGTH),
            missing_email=params.get("missing_email") in {"1", "on", "true"},
        )


def _name_words_match(q: str, *, per_row: bool = False) -> Q | RawSQL | None:
    """A condition on Person: some word of the name starts with the query (every word of it, for
    a query of several words); None for a query too short or without letters or digits.

    `per_row` is for a condition tested on each row walked rather than through the index: see
    _name_contains_words."""
    if len(q) < WORD_SEARCH_MIN_LENGTH:
        return None
    if connection.vendor == "postgresql":
        # Only letters and digits reach to_tsquery: its syntax (&, |, !, :, quotes) never does.
        words = re.findall(r"[^\W_]+", q.lower())
        if not words:
            return None
        tsquery = " & ".join(f"{word}:*" for word in words)
        sql, params = f"{NAME_WORDS_SQL} @@ to_tsquery('simple'::regconfig, %s)", [tsquery]
        if per_row and all(word.isascii() for word in words):
            guard, guard_params = _name_contains_words(words)
            sql, params = f"({guard} AND {sql})", guard_params + params
        return RawSQL(  # noqa: S611 - the words are parameters; only letters and digits
            sql, params, output_field=BooleanField()
        )
    condition = Q()
    for word in q.lower().split():
        condition &= Q(name_lower__startswith=word) | Q(name_lower__contains=" " + word)
    return condition


def _name_contains_words(words: list[str]) -> tuple[str, list[str]]:
    """A cheap test every name matching the words passes: the lower-cased name contains each word.

    Parsing a name into words (to_tsvector) costs microseconds a row; a broad search's walk tests
    hundreds of rows, most of which fail, and at 1M people the parsing was most of the walk's
    time. A word of the name is a piece of the name, lower-cased the same way as LOWER(), so a
    word that starts with the query word puts that word inside LOWER(name): only names that pass
    this LIKE are parsed. Only for ASCII words (lower-cased alike by Python and PostgreSQL), which
    the parser never splits: a word it split ("a½b" becomes a and b) could match a name that does
    not contain it whole. No LIKE wildcard can occur: the words are letters and digits only."""
    name = 'LOWER("people_person"."name")'
    guard = " AND ".join(f"{name} LIKE %s" for _ in words)
    return guard, [f"%{word}%" for word in words]


def _query_terms(q: str) -> list[list[str]]:
    """The query's terms (split at whitespace), each as its normalised words; SEARCH_WORDS_MAX
    words in all at most."""
    terms: list[list[str]] = []
    left = SEARCH_WORDS_MAX
    for term in q.split():
        words = search_words(term)[:left]
        if words:
            terms.append(words)
            left -= len(words)
        if not left:
            break
    return terms


def _search_text_match(q: str, *, per_row: bool = False) -> RawSQL | Q | None:
    """A condition on Person: its search text holds every term of the query, each starting a
    word (a term of several words: those words in a row, the last one a prefix); None for a query
    too short or without letters or digits. `per_row`: see _name_contains_words."""
    terms = _query_terms(q) if len(q) >= WORD_SEARCH_MIN_LENGTH else []
    if not terms:
        return None
    if connection.vendor == "postgresql":
        # Only letters and digits reach to_tsquery: its syntax (&, |, !, :, <->) never does.
        tsquery = " & ".join(
            "(" + " <-> ".join([*words[:-1], f"{words[-1]}:*"]) + ")" for words in terms
        )
        sql, params = f"{SEARCH_WORDS_SQL} @@ to_tsquery('simple'::regconfig, %s)", [tsquery]
        if per_row and all(word.isascii() for term in terms for word in term):
            guard = " AND ".join('"people_person"."search_text" LIKE %s' for _ in terms)
            sql = f"({guard} AND {sql})"
            params = [f"%{' '.join(term)}%" for term in terms] + params
        return RawSQL(  # noqa: S611 - the words are parameters; only letters and digits
            sql, params, output_field=BooleanField()
        )
    condition = Q()
    for words in terms:
        condition &= Q(search_padded__contains=" " + " ".join(words))
    return condition


def people_search(queryset: QuerySet, *, workspace: Workspace, q: str) -> QuerySet:
    """People whose email, name or one of whose ids starts with `q` (case-insensitive), or a word
    of whose name does (see _name_words_match), or whose search text holds the query's words
    (see _search_text_match).

    Two plans, picked by one cheap query: how many people match, up to SEARCH_SORT_LIMIT.
    - Few matches (a typed email, a user id): a UNION of three index range scans, then sort those
      few by last seen. One OR holding a subquery would make PostgreSQL test every person.
    - Many matches (the first letters typed): walk the last-seen index newest first and keep the
      matching rows; matches are dense, so 50 are found after a few thousand rows, where sorting
      every match would read tens of thousands.
    """
    prefix = q.lower()
    people = Person.objects.for_workspace(workspace).current()
    by_email = (
        people.alias(email_lower=Lower("email"))
        .filter(email_lower__startswith=prefix)
        .values_list("pk", flat=True)
    )
    by_name = (
        people.alias(name_lower=Lower("name"))
        .filter(name_lower__startswith=prefix)
        .values_list("pk", flat=True)
    )
    by_id = (
        Identity.objects.for_workspace(workspace)
        .alias(value_lower=Lower("value"))
        .filter(value_lower__startswith=prefix)
        .values_list("person_id", flat=True)
    )
    branches = [by_name, by_id]
    words = _name_words_match(q)
    if words is not None:
        branches.append(
            people.alias(name_lower=Lower("name")).filter(words).values_list("pk", flat=True)
        )
    text = _search_text_match(q)
    if text is not None:
        branches.append(
            people.alias(search_padded=SEARCH_PADDED).filter(text).values_list("pk", flat=True)
        )
    # UNION ALL streams, so the LIMIT stops the scans early; UNION would dedupe every match first.
    # Plain ids (values_list): at 1M people a broad query fetches SEARCH_SORT_LIMIT + 1 of them
    # only to learn that it is broad, and a dict per row cost more than the query itself.
    matches = list(by_email.union(*branches, all=True)[: SEARCH_SORT_LIMIT + 1])
    if len(matches) <= SEARCH_SORT_LIMIT:
        return queryset.filter(pk__in=set(matches))
    id_matches = (
        Identity.objects.for_workspace(workspace)
        .filter(person=OuterRef("pk"))
        .alias(value_lower=Lower("value"))
    )
    condition = (
        Q(email_lower__startswith=prefix)
        | Q(name_lower__startswith=prefix)
        | Exists(id_matches.filter(value_lower__startswith=prefix))
    )
    if words is not None:
        condition |= Q(_name_words_match(q, per_row=True))
    if text is not None:
        condition |= Q(_search_text_match(q, per_row=True))
    # alias, not annotate: the lower-cased columns are for the filter, not for the rows' SELECT.
    return queryset.alias(
        email_lower=Lower("email"), name_lower=Lower("name"), search_padded=SEARCH_PADDED
    ).filter(condition)


def people_in_audience(queryset: QuerySet, audience: str) -> QuerySet:
    # On PostgreSQL `@>` uses the GIN index on audiences; SQLite has no JSON containment.
    if connection.features.supports_json_field_contains:
        return queryset.filter(audiences__contains={audience: True})
    # json_each, not a JSON path (KeyTransform): Django writes a key that reads as a number ("1",
    # "-1") as an array index, which matches no audience, or, negative, a path SQLite refuses.
    sql = (
        'EXISTS (SELECT 1 FROM json_each("people_person"."audiences") AS audience '
        "WHERE audience.key = %s AND audience.type = 'true')"
    )
    return queryset.filter(
        RawSQL(sql, [audience], output_field=BooleanField())  # noqa: S611 - a parameter
    )


def people_without_email(queryset: QuerySet) -> QuerySet:
    return queryset.filter(Q(email__isnull=True) | Q(email=""))


def people_filtered(*, workspace: Workspace, filters: PeopleFilters) -> QuerySet:
    """The People list's rows, filtered, unordered and with only the columns it shows."""
    people = Person.objects.for_workspace(workspace).current()
    if filters.q:
        people = people_search(people, workspace=workspace, q=filters.q)
    if filters.group_id:
        people = people.filter(group_id=filters.group_id)
    if filters.audience:
        people = people_in_audience(people, filters.audience)
    if filters.missing_email:
        people = people_without_email(people)
    return people.select_related("group").only(*LIST_COLUMNS)


def people_page(
    *,
    workspace: Workspace,
    filters: PeopleFilters,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int | None = None,
) -> Page:
    """One page of the People list: one query, whatever the filters."""
    return keyset_page(
        people_filtered(workspace=workspace, filters=filters),
        moment_field="last_seen",
        nullable=True,
        size=size or PEOPLE_PAGE_SIZE,
        after=after,
        before=before,
    )


def workspace_has_people(workspace: Workspace) -> bool:
    return Person.objects.for_workspace(workspace).exists()


def group_choices(workspace: Workspace, *, selected: int | None) -> list[tuple[int, str]]:
    """(id, label) of the groups for the filter menu, by name; the selected one always among
    them. Plain tuples: a few hundred model instances would cost more than the page's query."""
    groups = Group.objects.for_workspace(workspace)
    if selected:
        groups = groups.filter(
            Q(pk__in=groups.order_by("name", "id").values("pk")[:GROUP_CHOICES_LIMIT])
            | Q(pk=selected)
        )
    rows = groups.order_by("name", "id").values_list("pk", "name", "group_id")
    return [(pk, name or group_id) for pk, name, group_id in rows[: GROUP_CHOICES_LIMIT + 1]]


def audience_choices(workspace: Workspace) -> list[str]:
    """Every audience name of the workspace, by name, for the filter's suggestions: read from the
    Audience names the worker records (people/identity.py), never from the people themselves."""
    names = (
        Audience.objects.for_workspace(workspace).order_by("name").values_list("name", flat=True)
    )
    return list(names[:AUDIENCE_CHOICES_LIMIT])


def audiences_of(person: Person) -> list[tuple[str, bool]]:
    """Audience memberships, members first, then by name."""
    audiences = person.audiences if isinstance(person.audiences, dict) else {}
    return sorted(((str(k), bool(v)) for k, v in audiences.items()), key=lambda a: (not a[1], a[0]))


# --- One person -------------------------------------------------------------------------------


def person_for_page(workspace: Workspace, person_id: int) -> Person | None:
    return (
        Person.objects.for_workspace(workspace).select_related("group").filter(pk=person_id).first()
    )


def merge_survivor_id(workspace: Workspace, person: Person) -> int:
    """The person a merged person now lives in, following a chain of merges (a few queries at
    most, and only on the redirect)."""
    current_id = person.merged_into_id
    for _ in range(MERGE_CHAIN_LIMIT):
        next_id = (
            Person.objects.for_workspace(workspace)
            .filter(pk=current_id)
            .values_list("merged_into_id", flat=True)
            .first()
        )
        if next_id is None:
            return current_id
        current_id = next_id
    return current_id


def _person_identities(workspace: Workspace, person: Person) -> QuerySet:
    return (
        Identity.objects.for_workspace(workspace)
        .filter(person=person)
        .defer("trait_versions", "group_version")
        .order_by("-kind", "linked_at", "id")  # user ids first
    )


def person_identity_ids(workspace: Workspace, person: Person) -> list[int]:
    """The ids of a person's identities, for reading their events: plain numbers, as a person
    from before the bound of people/id_limit.py can hold thousands (6,000 as rows took 560 ms)."""
    return list(
        Identity.objects.for_workspace(workspace).filter(person=person).values_list("pk", flat=True)
    )


def person_identities(workspace: Workspace, person: Person) -> list[Identity]:
    """The ids of a person, user ids first; each says which kind of message linked it."""
    return list(_person_identities(workspace, person))


@dataclass(frozen=True)
class IdentityList:
    """The first ids of a person, for a page, and how many they hold in all."""

    shown: list[Identity]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def person_identities_shown(
    workspace: Workspace, person: Person, *, limit: int = IDENTITIES_SHOWN
) -> IdentityList:
    """`person_identities`, the first `limit` of them: a page lists a bounded number of ids
    (people gathered from before the bound of people/id_limit.py can hold thousands). One query,
    and a count only when there are more."""
    rows = list(_person_identities(workspace, person)[: limit + 1])
    if len(rows) <= limit:
        return IdentityList(shown=rows, total=len(rows))
    return IdentityList(shown=rows[:limit], total=_person_identities(workspace, person).count())


def merged_people(workspace: Workspace, person: Person) -> list[Person]:
    return list(
        Person.objects.for_workspace(workspace)
        .filter(merged_into=person)
        .only("id", "name", "email", "merged_at")
        .order_by("-merged_at", "-id")[:50]
    )


# --- Displaying sender values -----------------------------------------------------------------


@dataclass(frozen=True)
class TraitRow:
    key: str
    value: str
    kind: str = "text"  # text, number, bool, null, json


def trait_rows(values: Any, *, depth: int = 0, prefix: str = "") -> list[TraitRow]:
    """Flatten nested traits into readable `address.city` / `tags[0]` rows: plain text, escaped
    by the template like any other value."""
    if isinstance(values, dict):
        items = [
            (f"{prefix}.{k}" if prefix else str(k), values[k]) for k in sorted(values, key=str)
        ]
    elif isinstance(values, list):
        items = [(f"{prefix}[{i}]", v) for i, v in enumerate(values)]
    else:
        return []
    rows: list[TraitRow] = []
    for path, value in items:
        nested = isinstance(value, dict) or (
            isinstance(value, list) and any(isinstance(v, dict | list) for v in value)
        )
        if nested and value and depth < TRAIT_MAX_DEPTH:
            rows.extend(trait_rows(value, depth=depth + 1, prefix=path))
        else:
            rows.append(TraitRow(key=path, **_display(value)))
    return rows


def _display(value: Any) -> dict[str, str]:
    if value is None:
        return {"value": "null", "kind": "null"}
    if isinstance(value, bool):
        return {"value": "true" if value else "false", "kind": "bool"}
    if isinstance(value, int | float):
        return {"value": json.dumps(value), "kind": "number"}
    if isinstance(value, str):
        return {"value": value, "kind": "text"}
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return {"value": ", ".join(_scalar(v) for v in value) or "[]", "kind": "text"}
    return {"value": json.dumps(value, ensure_ascii=False, sort_keys=True), "kind": "json"}


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
