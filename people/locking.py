"""What a batch locks before it reads people, so that batches of one workspace run at once.

The worker's batches share the workspace lock (core/locks.py); the identity rules
(people/identity.py) read every identity of every person a batch touches and rewrite those
people, so two batches that touch one person must take turns, even through different ids (a
person holding ids A and B; one batch sends A, the other B: both recompute the person's traits,
counts and last seen, and without a lock the second write loses the first's). The unit is the
person, because a merge re-points ids the batch never named. Before `IdentityBatch.load`:

1. Read which person holds each id of the batch, and which of its groupIds exist.
2. Ids and groupIds that exist nowhere yet will be created by this batch: lock their keys
   (advisory, sorted, one statement), after the workspace's "creating" lock (shared; exclusive
   instead of the key locks when there are more than `new_keys_locked()` of them, as the
   server's lock table is small: two such batches then take turns). From then on nobody else
   can create them, and once an id exists it exists until a deletion, which waits for the
   exclusive workspace lock.
3. Lock those people's rows (sorted, one statement), then read every identity of every person
   holding one of the ids (`identities_read`, what `load()` needs): another batch may have
   created some of the ids while we waited for their keys, or committed a merge or a move that
   put an id on a person we do not hold yet; lock those too and read again, until nobody new
   turns up. The ids' people can now only change under our locks, so that last read, handed to
   `load()`, is a state nobody else writes until we commit.
4. Lock the rows of the groups the batch's group calls name (their traits are rewritten).

Whatever else two such batches write is safe without more: new rows have new keys; the
counters' upserts (rollups, sources) lock their rows in sorted key order; audiences are
INSERT .. ON CONFLICT DO NOTHING in sorted order; and two batches carrying one messageId with
no id in common (rare: a re-send carries its ids) meet on the events' unique constraint, where
the second fails and its batch is retried, then skips the stored message.
"""

from functools import cache

from django.conf import settings
from django.db import connection
from django.db.models import Q

from core.locks import creating_lock, keys_lock, lock_key, rows_lock
from core.lookups import equals_unindexed, one_of
from core.messages import Message
from people.identity import identities_read, usable_id
from people.models import Group, Identity, Person
from people.rows import IdentityRow

# The server's lock table has max_locks_per_transaction x max_connections slots, shared by all
# transactions; one transaction may use more than its share. Four shares per batch by default.
LOCK_SHARES_PER_BATCH = 4
IDENTITY_KEY = "identity"
GROUP_KEY = "group"


def batch_ids(messages: list[Message]) -> tuple[set[str], set[str]]:
    """The usable id values (any role) and the groupIds of group calls, as load() reads them."""
    values: set[str] = set()
    group_ids: set[str] = set()
    for m in messages:
        for raw in (m.user_id, m.anonymous_id, m.previous_id):
            value = usable_id(raw)
            if value:
                values.add(value)
        if m.type == "group":
            group_id = usable_id(m.group_id)
            if group_id:
                group_ids.add(group_id)
    return values, group_ids


def batch_lock(workspace_id: int, messages: list[Message]) -> list[IdentityRow]:
    """Lock what this batch's identity rules will read and rewrite (see the module rules), and
    return the identities `IdentityBatch.load` needs, read last, under the locks.

    Call it under the shared workspace lock, inside the batch's transaction, before deduping
    and loading."""
    values, group_ids = batch_ids(messages)
    if not values and not group_ids:
        return []
    held = _people_of(workspace_id, values)
    existing_groups = _groups(workspace_id, group_ids)
    new_keys = [lock_key(workspace_id, IDENTITY_KEY, v) for v in values - held.keys()] + [
        lock_key(workspace_id, GROUP_KEY, g) for g in group_ids - existing_groups.keys()
    ]
    if new_keys:
        many = len(new_keys) > new_keys_locked()
        creating_lock(workspace_id, exclusive=many)
        if not many:
            keys_lock(new_keys)
    # The people read before the locks; the identities read after locking them say who holds
    # the ids now (ids created by a batch that held their keys until it committed, ids a merge
    # moved), until nobody new turns up. That last read is load()'s.
    people = set(held.values())
    locked: set[int] = set()
    while True:
        rows_lock(Person, people - locked)
        locked |= people
        loaded = identities_read(workspace_id, values)
        people = {identity.person_id for identity in loaded}
        if people <= locked:
            break
    if group_ids:
        rows_lock(Group, _groups(workspace_id, group_ids).values())
    return loaded


def new_keys_locked() -> int:
    """How many new keys a batch may lock one by one (settings.INGEST_NEW_KEYS_LOCKED, else
    derived from the server's max_locks_per_transaction, read once per process)."""
    return settings.INGEST_NEW_KEYS_LOCKED or _server_share()


@cache
def _server_share() -> int:
    if connection.vendor != "postgresql":
        return 0  # nothing is locked there (core/locks.py)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_locks_per_transaction')::int")
        return cursor.fetchone()[0] * LOCK_SHARES_PER_BATCH


def _people_of(workspace_id: int, values: set[str]) -> dict[str, int]:
    if not values:
        return {}
    # By the unique (value, workspace) index, one descent per id (core/lookups.py).
    return dict(
        Identity.objects.filter(
            one_of("value", values), equals_unindexed("workspace_id", workspace_id)
        ).values_list("value", "person_id")
    )


def _groups(workspace_id: int, group_ids: set[str]) -> dict[str, int]:
    if not group_ids:
        return {}
    return dict(
        Group.objects.filter(Q(group_id__in=group_ids), workspace_id=workspace_id).values_list(
            "group_id", "pk"
        )
    )
