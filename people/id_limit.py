"""The most ids one person gathers, and the record of the links that bound refused.

A person holds at most `WINDSOR_PERSON_IDS_MAX` ids (1,000 unless set), so that no sender can make
one person's pages and batches grow without end. people/identity.py does not apply a soft link or
alias that would go past it (the event is still stored); each refusal is recorded in the event's
`warnings`, on the person (`Person.ids_unlinked`) and in the source's ingest log.

Design: docs/design/identity.md
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
