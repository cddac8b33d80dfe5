from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Workspace
from core.querysets import WorkspaceQuerySet


class Group(models.Model):
    """A company or account a person belongs to (Segment `group` calls)."""

    # No index of its own: the unique (workspace, group_id) index starts with it.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="groups", db_index=False
    )
    group_id = models.CharField(max_length=255)
    name = models.CharField(max_length=500, blank=True)
    traits = models.JSONField(default=dict)
    # Per trait: [value, timestamp ISO, messageId] so that the newest message wins in any order.
    trait_versions = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "group_id"], name="group_unique_id")
        ]

    def __str__(self) -> str:
        return self.name or self.group_id


class PersonQuerySet(WorkspaceQuerySet):
    def current(self) -> "PersonQuerySet":
        """People not merged into someone else."""
        return self.filter(merged_into__isnull=True)


class Person(models.Model):
    """A customer, as the stream of calls describes them.

    The reserved traits are columns (indexed, searchable); every other trait stays in `traits`.
    The columns and `traits` are derived from the person's identities (see people/identity.py).
    """

    # No index of its own: every index below starts with it.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="people", db_index=False
    )
    email = models.CharField(max_length=320, null=True, blank=True)
    name = models.CharField(max_length=500, null=True, blank=True)
    phone = models.CharField(max_length=100, null=True, blank=True)
    avatar = models.CharField(max_length=2000, null=True, blank=True)
    traits = models.JSONField(default=dict)
    # Audience name -> membership, from boolean traits an Engage sync sent (people/identity.py).
    audiences = models.JSONField(default=dict)
    # The words the People search matches, normalised (people/search_text.py): name, email,
    # phone, the workspace's chosen text traits. A database default too: rows written with SQL
    # (seeds) need none, and a row without it is found by its columns' prefix search alone.
    search_text = models.TextField(default="", db_default="", blank=True)
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    # True once any user id (not only anonymous ids) points at this person.
    is_identified = models.BooleanField(default=False)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    event_count = models.BigIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    # Links refused because this person held the most ids one person may (people/id_limit.py):
    # the person page says so. A database default too: rows written with SQL (seeds) need none.
    ids_unlinked = models.BigIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "people"
        indexes = [
            models.Index(
                fields=["workspace", "-last_seen", "-id"],
                name="person_recent",
                condition=Q(merged_into__isnull=True),
            ),
            models.Index(fields=["workspace", "email"], name="person_email"),
            models.Index(fields=["workspace", "group"], name="person_group"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"Person {self.pk}"

    @property
    def has_email(self) -> bool:
        return bool(self.email)


class Identity(models.Model):
    """One id a sender used for a person: a userId or an anonymousId. Unique per workspace.

    Events point at the identity they were sent with, not at the person, so a merge re-points a
    handful of identities instead of rewriting the person's whole history.
    """

    class Kind(models.TextChoices):
        USER = "user", "User id"
        ANONYMOUS = "anonymous", "Anonymous id"

    # No index of its own: a workspace index misled PostgreSQL into scanning a whole workspace
    # for a few ids (so did the unique index when it was led by the workspace). On PostgreSQL the
    # People search's identity_value_prefix (people 0002) starts with it.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="identities", db_index=False
    )
    value = models.CharField(max_length=255)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="identities", db_index=False
    )
    # Per trait: [value, timestamp ISO, messageId], from the messages sent with this id.
    trait_versions = models.JSONField(default=dict)
    # [groupId, timestamp ISO, messageId] of the newest group call sent with this id.
    group_version = models.JSONField(null=True, blank=True)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    event_count = models.BigIntegerField(default=0)
    # Why this id is on its person (see people/identity.py): for a free anonymous id its
    # earliest soft link (a call with it as anonymousId next to a userId), for an aliased id the
    # earliest alias naming it; when, by which message, and the other id of that link.
    linked_at = models.DateTimeField(null=True, blank=True)
    linked_by_message_id = models.CharField(max_length=100, blank=True)
    linked_to = models.CharField(max_length=255, blank=True)
    # The type of that message (identify, track, alias, ...), kept so that the identities card
    # says what linked the id without looking the event up.
    linked_by_type = models.CharField(max_length=10, blank=True)
    # True once an alias named this id (as previousId or userId): a hard link, never undone.
    aliased = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "identities"
        # Led by the value: the worker's reads of a batch's ids (people/locking.py, identity.py)
        # descend once per id and filter by workspace, whatever the statistics say of the
        # workspace (core/lookups.py `equals_unindexed`).
        constraints = [
            models.UniqueConstraint(fields=["value", "workspace"], name="identity_value_key")
        ]
        indexes = [models.Index(fields=["person"], name="identity_person")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Suppression(models.Model):
    """An id whose messages are dropped unstored: a person deleted and suppressed on request.

    Written by people.deletion.person_delete(suppress=True); read once per batch by
    people.suppression.messages_unsuppressed; only an owner lifts one (its row is deleted and
    the lift is audited). The id is the only thing kept of the person.
    """

    # No index of its own: the unique (workspace, value) index starts with it.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="suppressions", db_index=False
    )
    # An id is one value whatever role it plays in a message (see people/identity.py), so a
    # suppressed value is dropped as a userId, anonymousId or previousId alike; the kind is what
    # it was on the deleted person, shown on the suppression list.
    kind = models.CharField(max_length=10, choices=Identity.Kind.choices)
    value = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "value"], name="suppression_unique_value")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Audience(models.Model):
    """An audience name some person of the workspace has carried (people/identity.py adds them as
    people are saved), so that the People page's filter can offer every audience without reading
    every person's `audiences`. Names are never removed: an audience nobody is in any more is still
    one the workspace knows, and filtering by it finds nobody."""

    NAME_MAX_LENGTH = 200

    # No index of its own: the unique (workspace, name) index starts with it.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="audiences", db_index=False
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="audience_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class DeleteReceipt(models.Model):
    """A Segment `delete` already applied, by its messageId: Segment re-sends a delete it got no
    answer for, and the copy must not erase the person that later messages started
    (people.deletion.message_delete). Kept for every delete, also one that found no one, whose
    audit is only a count (AuditEntry.Action.ERASURES_UNMATCHED)."""

    # No index of its own: the unique (workspace, message_id) index starts with it.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    message_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "message_id"], name="delete_receipt_unique_message"
            )
        ]
