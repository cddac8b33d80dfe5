"""The most ids one person gathers, and the record of the links that bound refused.

Why: every page of a person and every batch touching them reads all of their ids (the identity
rules recompute a person from all its identities; the timeline, API and chart read the events of
each). A sender can give one user unboundedly many anonymous ids (one per call) or alias ids into
one person, so without a bound one person's pages and batches grow without end.

The rules (applied by people/identity.py):
- A person holds at most `WINDSOR_PERSON_IDS_MAX` ids (1,000 unless set). A link that would take
  a person past it is not applied: a soft link leaves the anonymous id where it is, an alias leaves
  both people as they are. Everything else about the message still happens: its event is stored
  (on the id it was sent with, as always), so nothing is lost and nothing is doubled.
- A refused anonymous id on a person of its own keeps the link it would have followed (its
  `linked_*` columns, as any free id's earliest soft link): the calls that keep carrying both ids
  are not refused and recorded again. It follows an earlier link to a person with room.
- Each refusal is recorded where it bites: in the event's `warnings`, on the full person
  (`Person.ids_unlinked`, which the person page shows) and in the source's ingest log (a row whose
  excerpt shows the ids as JSON strings, so erasing a person erases it too; the message was
  stored, so the source's rejected count is not touched). One statement for the people, one for
  the log, per batch with refusals.
- Past the bound, which ids made it in depends on the order messages arrived in: the one place
  where the identity rules are not order-independent, and only for a person at the bound.
"""

import json
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, F, Value, When

from accounts.models import RejectedMessage, Source
from accounts.services import source_log_trim
from core.messages import Message
from people.models import Person

EXCERPT_LENGTH = 1000


def person_ids_max() -> int:
    return settings.WINDSOR_PERSON_IDS_MAX


@dataclass(frozen=True)
class Refusal:
    """A link not applied: the message, the id left out (and its role in the message), and the
    person that holds the bound."""

    message: Message
    role: str
    value: str
    person_id: int

    def reason(self) -> str:
        # No id in the reason: the excerpt carries them, where an erasure finds them.
        return (
            f"Stored, but one id ({self.role}) was not linked to person #{self.person_id}: "
            f"a person holds at most {person_ids_max():,} ids (WINDSOR_PERSON_IDS_MAX)."
        )

    def excerpt(self) -> str:
        m = self.message
        ids = {"type": m.type, "messageId": m.message_id, "userId": m.user_id}
        ids |= {"anonymousId": m.anonymous_id, "previousId": m.previous_id}
        shown = {key: value for key, value in ids.items() if value is not None}
        return json.dumps(shown, ensure_ascii=True, default=str)[:EXCERPT_LENGTH]


def refusals_record(refusals: list[Refusal]) -> None:
    """Count the refusals on their people and log them on their sources (see the rules)."""
    if not refusals:
        return
    per_person = Counter(r.person_id for r in refusals)
    Person.objects.filter(pk__in=per_person).update(
        ids_unlinked=F("ids_unlinked")
        + Case(*(When(pk=pk, then=Value(n)) for pk, n in per_person.items()), default=Value(0))
    )
    sources = {r.message.source_id for r in refusals if r.message.source_id is not None}
    existing = set(Source.objects.filter(pk__in=sources).values_list("pk", flat=True))
    RejectedMessage.objects.bulk_create(
        RejectedMessage(
            source_id=r.message.source_id,
            received_at=r.message.received_at,
            reason=r.reason(),
            excerpt=r.excerpt(),
        )
        for r in refusals
        if r.message.source_id in existing
    )
    for source_id in sorted(existing):
        source_log_trim(source_id)
