from django.conf import settings
from django.db import models

from accounts.models import Workspace
from core.querysets import WorkspaceQuerySet


class ApiKeyQuerySet(WorkspaceQuerySet):
    def active(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A workspace's read-only key for the Read API, separate from the sources' ingest tokens:
    a key reads a workspace's people and events, a token only writes into it.

    Like a source token, only a SHA-256 of the key is kept, with a short visible prefix."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    # The member it belongs to (api/services.py); their account's deletion deletes it. None: made
    # by an operator (a command).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept to within LAST_USED_RESOLUTION (api/services.py): at most one UPDATE a minute.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
