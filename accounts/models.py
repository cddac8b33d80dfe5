from django.conf import settings
from django.db import models

from core.querysets import WorkspaceQuerySet


def search_traits_default() -> list[str]:
    return list(SEARCH_TRAITS_DEFAULT)


# The text traits the People search reads unless a workspace chooses others: the ones teams ask
# for by name ("find the CTOs", "who is at Acme", "who is on Pro").
SEARCH_TRAITS_DEFAULT = ("title", "company", "role", "plan")


class Workspace(models.Model):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Trait keys whose text values the People search finds (people/search_text.py); an admin
    # chooses them on /people/search-settings/.
    # A database default too: rows written with SQL (seeds, older migrations' states) need none.
    search_traits = models.JSONField(
        default=search_traits_default, db_default=list(SEARCH_TRAITS_DEFAULT)
    )

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(WorkspaceQuerySet):
    def owners(self) -> "MembershipQuerySet":
        return self.filter(role=Membership.Role.OWNER)


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    # The Feed's and timelines' "Show Hidden Events" choice, remembered across visits.
    show_hidden_events = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Written at login and at most once per ACTIVITY_RESOLUTION by accounts/middleware.py.
    last_active_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    class Capability(models.TextChoices):
        """What a role may do; `can` reads who holds which from CAPABLE, the one table of it.

        Checked by accounts.decorators.member_required for the pages and by the services
        (accounts/team.py, people/deletion.py) for the changes they make."""

        OWNER = "owner", "Owner-only decisions: the audit log, lifting a suppression"
        MANAGE_MEMBERS = "manage_members", "Invite, re-role and remove members"
        MANAGE_SOURCES = "manage_sources", "Add, rotate and revoke sources and API keys"
        DELETE_PEOPLE = "delete_people", "Delete (and suppress) a person"

    CAPABLE: dict[str, frozenset[str]] = {
        Capability.OWNER: frozenset({Role.OWNER}),
        Capability.MANAGE_MEMBERS: frozenset({Role.OWNER, Role.ADMIN}),
        Capability.MANAGE_SOURCES: frozenset({Role.OWNER, Role.ADMIN}),
        Capability.DELETE_PEOPLE: frozenset({Role.OWNER, Role.ADMIN}),
    }

    def can(self, capability: "Membership.Capability") -> bool:
        return self.role in self.CAPABLE[capability]


class SourceQuerySet(WorkspaceQuerySet):
    def active(self) -> "SourceQuerySet":
        return self.filter(revoked_at__isnull=True)


class Source(models.Model):
    class Kind(models.TextChoices):
        SEGMENT = "segment", "Segment"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SEGMENT)
    # Only a SHA-256 of the token is kept; the prefix lets people tell tokens apart.
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Ingest statistics, written by the worker once per batch (never by the request).
    last_received_at = models.DateTimeField(null=True, blank=True)
    accepted_count = models.BigIntegerField(default=0)
    rejected_count = models.BigIntegerField(default=0)
    # Messages dropped because they carry a suppressed id (people/suppression.py): never stored.
    suppressed_count = models.BigIntegerField(default=0)
    # Whether a `delete` (erasure) from this source is honoured: off by default, as a browser's
    # write key is public; ingest/erasure_rule.py states the whole rule.
    may_erase = models.BooleanField(default=False)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RejectedMessage(models.Model):
    """A message a sender posted that we refused, with why: the source's ingest log."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="rejections")
    received_at = models.DateTimeField()
    index = models.IntegerField(null=True, blank=True)
    reason = models.TextField()
    # A truncated excerpt of what was sent, for the admin to recognise it.
    excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["source", "-received_at"], name="rejected_source_recent")]


class InvitationQuerySet(WorkspaceQuerySet):
    def pending(self) -> "InvitationQuerySet":
        from django.utils import timezone

        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """A single-use link into a workspace with a role (accounts/team.py states the rules).

    Like a source token, the link's token is kept only as a SHA-256 digest.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Used"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} to {self.workspace} ({self.role})"

    @property
    def state(self) -> str:
        from django.utils import timezone

        if self.accepted_at is not None:
            return self.State.ACCEPTED
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.State.PENDING


class AuditEntry(models.Model):
    """Who did what to whom in a workspace, and when. Append-only.

    `target` is a description frozen at the time (an email, "ada@x.io: member -> admin"), not a
    foreign key: the audit outlives the member, invitation or person it names. Deletions of
    people record their ids here, never their data (name, email, traits). A deletion Segment
    forwarded has no actor: `actor_label` names the source instead.
    """

    class Action(models.TextChoices):
        INVITED = "invited", "Invited"
        INVITATION_RESENT = "invitation_resent", "Re-sent an invitation"
        INVITATION_REVOKED = "invitation_revoked", "Revoked an invitation"
        INVITATION_ACCEPTED = "invitation_accepted", "Joined by invitation"
        ROLE_CHANGED = "role_changed", "Changed a role"
        MEMBER_REMOVED = "member_removed", "Removed a member"
        MEMBER_LEFT = "member_left", "Left the workspace"
        PERSON_DELETED = "person_deleted", "Deleted a person"
        PERSON_SUPPRESSED = "person_suppressed", "Deleted and suppressed a person"
        SUPPRESSION_LIFTED = "suppression_lifted", "Lifted a suppression"
        # One entry per source and day, counting Segment deletes for ids nobody held
        # (people/deletion.py): a flood of them must not push the team's entries away.
        ERASURES_UNMATCHED = "erasures_unmatched", "Deletes for ids held by no one"
        SOURCE_ERASURE_ALLOWED = "source_erasure_allowed", "Allowed a source to erase"
        SOURCE_ERASURE_FORBIDDEN = "source_erasure_forbidden", "Forbade a source to erase"
        # What a removed or demoted member held (accounts/holdings.py).
        API_KEY_REVOKED = "api_key_revoked", "Revoked an API key"
        SOURCE_REVOKED = "source_revoked", "Revoked a source token"
        SOURCE_ROTATED = "source_rotated", "Rotated a source token"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The actor's email when it happened: kept when the account is gone.
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=40, choices=Action.choices)
    target = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="audit_workspace_recent")]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target}"


class SourceActivityQuerySet(WorkspaceQuerySet):
    workspace_field = "source__workspace"


class SourceActivity(models.Model):
    """How many messages a source had accepted (stored) and rejected per hour they were received
    (the Sources page's charts). The worker adds to them in the transaction that stores or logs
    the messages (ingest/store.py), with one statement per batch (accounts/activity.py)."""

    # No index of its own: the unique (source, hour) index starts with it.
    source = models.ForeignKey(Source, on_delete=models.CASCADE, db_index=False, related_name="+")
    hour = models.DateTimeField()
    accepted = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)

    objects = SourceActivityQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "hour"], name="source_activity_key")
        ]
