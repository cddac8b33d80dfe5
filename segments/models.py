"""Saved segments: a name for a filter (segments/filters.py), private to its maker or shared
with the team. A segment is live: it stores the filter, never a list of people, and is evaluated
on current data each time it is opened (segments/query.py).

Rules, stated once:
- Who sees one (`SegmentQuerySet.visible_to`): every member sees the workspace's team segments;
  a private segment is seen by its maker only. Anything else is "no such segment" (a 404), never a
  403 that would tell it exists.
- Who changes one (`Segment.editable_by`): a private segment, its maker only; a team segment, its
  maker or an owner or admin (the built-ins, made by no one, by owners and admins).
- Names are unique per workspace among team segments, and per maker among their private ones,
  case-insensitively: two "Churned" in one list could not be told apart.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import Membership, Workspace
from core.querysets import WorkspaceQuerySet

NAME_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 1000
# The owners' and admins' capability; a team segment made by someone else is theirs to change.
EDITORS = Membership.Capability.MANAGE_MEMBERS


class SegmentQuerySet(WorkspaceQuerySet):
    def visible_to(self, membership: Membership) -> "SegmentQuerySet":
        """The workspace's team segments and the viewer's own private ones."""
        return self.for_workspace(membership.workspace_id).filter(
            Q(visibility=Segment.Visibility.TEAM) | Q(created_by_id=membership.user_id)
        )


class Segment(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Only me"
        TEAM = "team", "Everyone in the workspace"

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="segments", db_index=False
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.TextField(blank=True, default="")
    # The filter's dict form (segments.filters.filter_dump), parsed again when opened.
    filter = models.JSONField()
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    # Which built-in this is ("new_this_week"...); None for one a member made.
    builtin = models.CharField(max_length=40, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["workspace", "visibility"], name="segment_workspace")]
        constraints = [
            models.UniqueConstraint(
                "workspace",
                Lower("name"),
                condition=Q(visibility="team"),
                name="segment_team_name_unique",
            ),
            models.UniqueConstraint(
                "workspace",
                "created_by",
                Lower("name"),
                condition=Q(visibility="private"),
                name="segment_private_name_unique",
            ),
            models.UniqueConstraint(
                fields=["workspace", "builtin"],
                condition=Q(builtin__isnull=False),
                name="segment_builtin_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_private(self) -> bool:
        return self.visibility == self.Visibility.PRIVATE

    def editable_by(self, membership: Membership) -> bool:
        if membership.workspace_id != self.workspace_id:
            return False
        mine = self.created_by_id is not None and self.created_by_id == membership.user_id
        if self.is_private:
            return mine
        return mine or membership.can(EDITORS)
