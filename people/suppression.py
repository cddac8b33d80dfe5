"""Dropping the messages of suppressed ids, before anything of them is stored.

A person deleted with "Delete and suppress" leaves their ids in `Suppression`
(people/deletion.py). The worker hands every batch here first (ingest/store.py): a message
carrying a suppressed id as its userId, anonymousId or previousId is dropped (ids compared as the
identity rules read them, `usable_id`), counted on its source (`Source.suppressed_count`, shown on
the Sources page next to accepted and rejected) and never stored, not even as a dead letter. One
query per batch finds the suppressed ids, plus one UPDATE per source that had a drop.
"""

import logging
from collections import Counter

from django.db.models import F

from accounts.models import Source
from core.lookups import one_of
from core.messages import Message
from people.identity import usable_id
from people.models import Suppression

logger = logging.getLogger(__name__)


def _ids(message: Message) -> set[str]:
    values = (message.user_id, message.anonymous_id, message.previous_id)
    return {v for value in values if (v := usable_id(value))}


def messages_unsuppressed(messages: list[Message]) -> list[Message]:
    """The messages that carry no suppressed id; the others are counted on their source."""
    values = {value for m in messages for value in _ids(m)}
    if not values:
        return messages
    suppressed = set(
        Suppression.objects.filter(
            one_of("value", values),
            workspace_id__in={m.workspace_id for m in messages},
        ).values_list("workspace_id", "value")
    )
    if not suppressed:
        return messages
    kept: list[Message] = []
    dropped: Counter[int] = Counter()
    for m in messages:
        if any((m.workspace_id, value) in suppressed for value in _ids(m)):
            if m.source_id is not None:
                dropped[m.source_id] += 1
            continue
        kept.append(m)
    for source_id, count in dropped.items():
        Source.objects.filter(pk=source_id).update(suppressed_count=F("suppressed_count") + count)
    logger.info("ingest: dropped %d messages carrying suppressed ids", len(messages) - len(kept))
    return kept
