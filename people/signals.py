"""What an erasure (people/deletion.py) asks of the apps above people/: they keep rows about a
person that people/ may not import (feed's activity rollups, ingest's dead letters), and forget
them in the erasure's transaction. Each app connects its receiver in its AppConfig.ready, with a
dispatch_uid so that it runs once. A signal here only asks: the deleting stays in the receiving
app's named function, and people/deletion.py sends each one at its place among the deletes.

Both are sent with `sender=Person`; a receiver that raises aborts the erasure (`send`, not
`send_robust`: nothing is half-forgotten).
"""

from django.dispatch import Signal

# Sent with `identities`: a QuerySet of the Identity rows about to be deleted with their events,
# just before they go. Receivers return nothing (feed subtracts those events from its rollups).
person_erasing = Signal()

# Sent with `workspace_id` and `values` (the erased id values, sorted, never empty) when an
# erasure deletes someone: copies of raw messages kept apart from the identities are found by
# these values. Each receiver deletes its copies and returns how many rows it deleted (ingest's
# dead letters: `Deleted.dead_letters` is the sum).
person_ids_erasing = Signal()
