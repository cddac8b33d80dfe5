from django.db import models
from django.db.models import Q

from accounts.models import Source, Workspace
from core.querysets import WorkspaceQuerySet
from people.models import Identity, Person


class EventQuerySet(WorkspaceQuerySet):
    def visible(self) -> "EventQuerySet":
        """Without the events hidden by default (page views)."""
        return self.filter(hidden=False)

    def for_person(self, person: Person) -> "EventQuerySet":
        return self.filter(identity__person=person)

    def newest_first(self) -> "EventQuerySet":
        return self.order_by("-timestamp", "-id")


class Event(models.Model):
    """One message as a sender posted it: append-only, unique by messageId per workspace."""

    class Type(models.TextChoices):
        IDENTIFY = "identify", "Identify"
        TRACK = "track", "Track"
        PAGE = "page", "Page"
        SCREEN = "screen", "Screen"
        GROUP = "group", "Group"
        ALIAS = "alias", "Alias"

    # workspace and identity have no index of their own: the composite indexes below start with
    # them, and every index is paid on each of the millions of inserts.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # An event dies with its identity: deleting a person (people/deletion.py) deletes its
    # identities, and with them every event they were sent with, in one DELETE (Django's
    # collector fast-deletes: no signal or relation hangs off Event). This is how people/ erases
    # events without importing feed/.
    identity = models.ForeignKey(
        Identity,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    type = models.CharField(max_length=10, choices=Type.choices)
    # Track: the event name; page and screen: their name; else empty.
    name = models.CharField(max_length=255, blank=True)
    properties = models.JSONField(default=dict)
    context = models.JSONField(default=dict)
    message_id = models.CharField(max_length=100)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    # Page views are hidden until someone asks for them (Show Hidden Events).
    hidden = models.BooleanField(default=False)
    raw = models.JSONField()
    # Why some part of the message was not used (e.g. a junk userId like "null"), for admins.
    warnings = models.JSONField(default=list, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        # Led by the key: the worker's dedupe read (feed/services.py stored_message_ids) descends
        # once per messageId and filters by workspace, whatever the statistics say of the
        # workspace. Nothing needs (workspace, message_id): the workspace's scans have the
        # indexes below.
        constraints = [
            models.UniqueConstraint(fields=["message_id", "workspace"], name="event_message_key")
        ]
        indexes = [
            models.Index(fields=["workspace", "-timestamp", "-id"], name="event_recent"),
            models.Index(
                fields=["workspace", "-timestamp", "-id"],
                name="event_recent_visible",
                condition=Q(hidden=False),
            ),
            models.Index(fields=["workspace", "type", "-timestamp", "-id"], name="event_type"),
            models.Index(fields=["workspace", "name", "-timestamp", "-id"], name="event_name"),
            models.Index(fields=["identity", "-timestamp", "-id"], name="event_identity"),
            # The Feed's poll: the workspace's highest id, and its ids above a watermark.
            models.Index(fields=["workspace", "id"], name="event_workspace_id"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.name}".strip()


class HourlyActivity(models.Model):
    """A count of events of one type per hour of their timestamp, in one workspace: the rows the
    charts read. Kept by feed/rollups.py in the transaction that inserts the events, so the charts
    never count the event table."""

    # No index of its own: each concrete table's unique key covers its queries.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    hour = models.DateTimeField()
    type = models.CharField(max_length=10)
    n = models.BigIntegerField(default=0)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        abstract = True


class WorkspaceActivity(HourlyActivity):
    """The workspace's events per type and hour (the Feed's chart)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "hour", "type"], name="workspace_activity_key"
            )
        ]


class IdentityActivity(HourlyActivity):
    """The events sent with one id per type and hour (a person's chart: the sum over their
    identities). Keyed by identity, not person, for the reason events are: a merge re-points
    identities to the surviving person and these rows follow with them, untouched."""

    # No index of its own: every query also names identities, whose unique index leads.
    identity = models.ForeignKey(
        Identity, on_delete=models.CASCADE, db_index=False, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["identity", "hour", "type"], name="identity_activity_key"
            )
        ]


class EventDayCount(models.Model):
    """How many track events of one name one id sent on one UTC day (the day of the event's
    timestamp): the rows behaviour conditions read ("did Order Completed at least 3 times in the
    last 30 days", feed/behaviour.py) instead of the event table.

    Only track events are counted, by their event name: page and screen views, identify, group
    and alias calls are not behaviour a segment asks about. Kept by feed/rollups.py in the
    transaction that inserts the events, like the hourly rollups. Keyed by identity, not person,
    for the reason IdentityActivity is: a merge re-points identities and these rows follow,
    untouched; a person's count is the sum over their identities. Rows go with their identity
    (CASCADE), so erasing a person erases their counts.
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    # No index of its own: the unique key leads with it (deletes by identity use it).
    identity = models.ForeignKey(
        Identity, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    name = models.CharField(max_length=255)
    day = models.DateField()
    n = models.BigIntegerField(default=0)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["identity", "name", "day"], name="event_day_count_key")
        ]
        indexes = [
            # "This workspace, this name, these days": the behaviour reads. identity and n
            # complete it, so PostgreSQL answers them from the index alone.
            models.Index(
                fields=["workspace", "name", "day", "identity", "n"], name="event_day_count_name"
            )
        ]
