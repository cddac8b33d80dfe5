"""The audit log as owners read it: newest first, a page at a time, filtered by kind of entry.

Pages are keyset pages (core/paging.py) on (created_at, id), the order the workspace's
index keeps, so every page costs what the first does. The kinds group the entries' actions:
the team (invitations, roles, members leaving), erasure (people deleted or suppressed, lifts,
and Segment's deletes counted per source and day) and sources (which may erase). An action no
kind names is listed under "all" only.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from accounts.models import AuditEntry, Workspace
from core.paging import Cursor, keyset_page

AUDIT_PAGE_SIZE = 50
Action = AuditEntry.Action

AUDIT_KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "team": (
        "Team",
        frozenset(
            {
                Action.INVITED,
                Action.INVITATION_RESENT,
                Action.INVITATION_REVOKED,
                Action.INVITATION_ACCEPTED,
                Action.ROLE_CHANGED,
                Action.MEMBER_REMOVED,
                Action.MEMBER_LEFT,
            }
        ),
    ),
    "erasure": (
        "Erasure",
        frozenset(
            {
                Action.PERSON_DELETED,
                Action.PERSON_SUPPRESSED,
                Action.SUPPRESSION_LIFTED,
                Action.ERASURES_UNMATCHED,
            }
        ),
    ),
    "sources": (
        "Sources",
        frozenset({Action.SOURCE_ERASURE_ALLOWED, Action.SOURCE_ERASURE_FORBIDDEN}),
    ),
}


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    kind: str  # "" for every kind
    # Query strings of the pages around this one, the kind kept; None at either end.
    older_query: str | None
    newer_query: str | None


def audit_page(
    *, workspace: Workspace, kind: str | None, after: str | None, before: str | None
) -> AuditPage:
    """One page of the workspace's audit log; an unknown kind or cursor shows the first page of
    every entry (a hand-edited URL)."""
    kind = kind if kind in AUDIT_KINDS else ""
    entries = AuditEntry.objects.for_workspace(workspace)
    if kind:
        entries = entries.filter(action__in=AUDIT_KINDS[kind][1])
    page = keyset_page(
        entries,
        moment_field="created_at",
        nullable=False,
        size=AUDIT_PAGE_SIZE,
        after=Cursor.decode(after),
        before=Cursor.decode(before),
    )
    base = {"kind": kind} if kind else {}
    return AuditPage(
        entries=page.rows,
        kind=kind,
        older_query=urlencode({**base, "after": page.older}) if page.older else None,
        newer_query=urlencode({**base, "before": page.newer}) if page.newer else None,
    )
