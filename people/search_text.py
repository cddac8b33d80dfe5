"""What the People search reads: `Person.search_text`, one normalised line of words per person.

Rules:
- Normalised once, the same way for the stored text and for a query (`search_words`): Unicode
  NFKD, combining marks dropped, casefolded, and the letters NFKD leaves whole folded by hand
  (ø -> o, ł -> l, æ -> ae, ...; casefold already makes ß -> ss). So `sparck` finds Spärck and
  `SØREN` finds Søren.
- Only words reach the text: runs of letters and digits, one space between them. Punctuation
  (`@`, `.`, `-`) splits words, so an email `ada@acme.io` is the words `ada acme io` and a query
  `acme.io` is those two words next to each other (selectors.people_search matches them as a
  phrase). PostgreSQL's parser then reads exactly these words: no email or URL token of its own.
- It holds the name, the email (whose words include its domain), the phone's words and its digits
  as one word, and the text values of the workspace's chosen traits
  (`Workspace.search_traits`); never the other traits.
- Bounded: each value at most VALUE_MAX_LENGTH characters, the whole at most TEXT_MAX_LENGTH.
- Kept by people/identity.py whenever it recomputes a person's columns; recomputed for a whole
  workspace when its chosen traits change (`workspace_search_text_rebuild`, a Celery task).

Design: docs/design/identity.md
"""

import re
import time
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, transaction

from accounts.models import Workspace
from core.locks import workspaces_lock
from people.models import Person

VALUE_MAX_LENGTH = 500
TEXT_MAX_LENGTH = 4000
# Letters NFKD does not decompose into a base letter and a mark.
FOLDS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "\u0131": "i",  # dotless i
        "ŀ": "l",
        "ŧ": "t",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
    }
)
WORD = re.compile(r"[^\W_]+")


def normalised(text: str) -> str:
    """Lower-cased (casefolded), accents stripped, the special letters folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", bare.casefold().translate(FOLDS))


def search_words(text: str) -> list[str]:
    """The words of a text (or of a query), normalised."""
    return WORD.findall(normalised(text))


def search_text_of(
    *,
    name: str | None,
    email: str | None,
    phone: str | None,
    traits: Mapping[str, Any],
    keys: Iterable[str],
) -> str:
    """A person's search text (see the module rules)."""
    values = [name, email]
    if phone:
        digits = "".join(c for c in phone if c.isdigit())
        values += [phone, digits]
        if phone.lstrip().startswith(("+", "00")):
            # The number without its country code, whose length (1 to 3 digits) the text does not
            # say: "5550102030" finds "+1 555 010 2030" and "+44 555 010 2030" alike.
            international = digits[2:] if phone.lstrip().startswith("00") else digits
            values += [international[n:] for n in (1, 2, 3)]
    for key in keys:
        value = traits.get(key)
        if isinstance(value, str):
            values.append(value)
    words: list[str] = []
    for value in values:
        if value:
            words += search_words(value[:VALUE_MAX_LENGTH])
    text = " ".join(words)
    if len(text) > TEXT_MAX_LENGTH:
        # Cut at a word's end: a cut word would match queries its whole never would.
        text = text[: TEXT_MAX_LENGTH + 1].rsplit(" ", 1)[0]
    return text


def search_traits_clean(keys: Iterable[Any]) -> list[str]:
    """A workspace's chosen trait keys: text, stripped, unique, in the order given."""
    out: list[str] = []
    for key in keys:
        if isinstance(key, str) and key.strip() and key.strip() not in out:
            out.append(key.strip())
    return out


def search_traits_read(workspace_id: int) -> list[str]:
    """The workspace's chosen trait keys (one query)."""
    keys = Workspace.objects.filter(pk=workspace_id).values_list("search_traits", flat=True)
    return search_traits_clean(next(iter(keys), None) or [])


# The worker's copy of each workspace's keys, read at most once per SEARCH_TRAITS_TTL seconds: a
# batch holds a fixed number of statements (tests/people/test_identity.py), and keys change
# rarely. A change is applied everywhere by the rebuild, which starts REBUILD_DELAY seconds after
# it, once every worker's copy has expired (see workspace_search_text_rebuild).
SEARCH_TRAITS_TTL = 60.0
REBUILD_DELAY = SEARCH_TRAITS_TTL + 15
_cached: dict[int, tuple[float, list[str]]] = {}


def search_traits_cached(workspace_id: int) -> list[str]:
    """`search_traits_read`, at most once per SEARCH_TRAITS_TTL seconds per process."""
    now = time.monotonic()
    held = _cached.get(workspace_id)
    if held is not None and now - held[0] < SEARCH_TRAITS_TTL:
        return held[1]
    keys = search_traits_read(workspace_id)
    _cached[workspace_id] = (now, keys)
    return keys


def search_traits_forget(workspace_id: int | None = None) -> None:
    """Drop this process's copy of a workspace's keys (of every workspace's: None)."""
    if workspace_id is None:
        _cached.clear()
    else:
        _cached.pop(workspace_id, None)


# --- Choosing the traits, and recomputing a workspace ------------------------------------------

# Keys a workspace may choose (each a trait key as senders write them), and how many.
SEARCH_TRAITS_MAX = 20
TRAIT_KEY_MAX_LENGTH = 100
# People recomputed per transaction when a workspace's chosen traits change.
REBUILD_BATCH = 2000


class SearchTraitsError(ValueError):
    """Chosen trait keys that cannot be kept: `.message` says why, for the form."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def search_traits_parse(text: str) -> list[str]:
    """The keys typed in the settings form (comma- or line-separated), or SearchTraitsError."""
    keys = search_traits_clean(re.split(r"[,\n]", text))
    if len(keys) > SEARCH_TRAITS_MAX:
        raise SearchTraitsError(f"At most {SEARCH_TRAITS_MAX} traits.")
    for key in keys:
        if len(key) > TRAIT_KEY_MAX_LENGTH or "\x00" in key:
            raise SearchTraitsError(f"A trait key is at most {TRAIT_KEY_MAX_LENGTH} characters.")
    return keys


def search_traits_set(*, workspace: Workspace, keys: list[str]) -> bool:
    """Keep the workspace's chosen trait keys; when they changed, recompute its people's search
    text in the background (people.tasks) once the change is committed. True if they changed."""
    from people.tasks import search_text_rebuild  # the task module imports this one

    keys = search_traits_clean(keys)
    if keys == search_traits_clean(workspace.search_traits or []):
        return False
    workspace.search_traits = keys
    workspace.save(update_fields=["search_traits"])
    workspace_id = workspace.pk
    search_traits_forget(workspace_id)
    transaction.on_commit(
        lambda: search_text_rebuild.apply_async((workspace_id,), countdown=REBUILD_DELAY)
    )
    return True


def search_texts_write(rows: list[tuple[int, str]], model: type = Person) -> None:
    """Write (person id, search text) pairs: one UPDATE from two arrays on PostgreSQL (Django's
    bulk_update writes a CASE of one branch per row, ten times slower at 2,000 rows)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(
            [model(pk=pk, search_text=text) for pk, text in rows], ["search_text"]
        )
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS p SET search_text = v.text"  # noqa: S608 (the table's name)
            " FROM unnest(%s::bigint[], %s::text[]) AS v(id, text) WHERE p.id = v.id",
            [[pk for pk, _ in rows], [text for _, text in rows]],
        )


def workspace_search_text_rebuild(workspace_id: int, *, batch: int = REBUILD_BATCH) -> int:
    """Recompute the search text of every person of the workspace, `batch` people per
    transaction, with the keys as they are now; returns how many rows changed.

    A storing batch that read the old keys and wrote after this pass would leave its people with
    the old keys' text. So the task starts REBUILD_DELAY seconds after the change, when every
    worker's copy of the keys (`search_traits_cached`) has expired, and each batch here takes the
    workspace's lock exclusive (core/locks.py): it waits for the storing batches under way, which
    may hold an old copy, and every storing batch after it reads the new keys."""
    changed = 0
    last = 0
    while True:
        with transaction.atomic():
            workspaces_lock([workspace_id])
            keys = search_traits_read(workspace_id)
            rows = list(
                Person.objects.filter(workspace_id=workspace_id, pk__gt=last)
                .order_by("pk")
                .values_list("pk", "name", "email", "phone", "traits", "search_text")[:batch]
            )
            if not rows:
                return changed
            last = rows[-1][0]
            people = []
            for pk, name, email, phone, traits, old in rows:
                text = search_text_of(
                    name=name,
                    email=email,
                    phone=phone,
                    traits=traits if isinstance(traits, dict) else {},
                    keys=keys,
                )
                if text != old:
                    people.append((pk, text))
            search_texts_write(people)
            changed += len(people)
