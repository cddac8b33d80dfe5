from django.db import models


class InboxBatch(models.Model):
    """Validated messages kept in the database when Redis could not take them.

    Workers drain it (oldest first) once they run again; nothing here is ever answered 2xx
    without being written first.
    """

    messages = models.JSONField()
    # Rejected messages travel with the batch to the worker, which writes the source's log.
    rejections = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "inbox batches"


class DeadLetter(models.Model):
    """A batch of messages that kept failing in the worker, kept with its error for admins."""

    messages = models.JSONField()
    error = models.TextField()
    attempts = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
