from django.conf import settings
from django.db import models


class Workspace(models.Model):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_manage_sources(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.ADMIN}


class SourceQuerySet(models.QuerySet):
    def for_workspace(self, workspace: Workspace) -> "SourceQuerySet":
        return self.filter(workspace=workspace)

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
