from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ingest import queue
from ingest.dead_letters import dead_letters_requeue
from ingest.models import DeadLetter, InboxBatch


@admin.action(description="Store the selected dead letters again")
def retry_dead_letters(modeladmin, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
    # Back on the queue like the Status page's "Store again": a worker stores them (or
    # dead-letters them again), so the admin never runs the worker's code in the web process.
    try:
        queued, kept = dead_letters_requeue(letter_ids=list(queryset.values_list("pk", flat=True)))
    except queue.QueueUnavailable:
        modeladmin.message_user(
            request, "Neither Redis nor the database could take the messages.", messages.ERROR
        )
        return
    text = f"{queued} messages queued to be stored again."
    if kept:
        text += f" {kept} dead letters hold only an excerpt and were kept."
    modeladmin.message_user(request, text, messages.WARNING if kept else messages.SUCCESS)


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "message_count", "attempts", "error_summary"]
    readonly_fields = ["messages", "error", "attempts", "created_at", "resolved_at"]
    actions = [retry_dead_letters]

    @admin.display(description="messages")
    def message_count(self, obj: DeadLetter) -> int:
        return len(obj.messages or [])

    @admin.display(description="error")
    def error_summary(self, obj: DeadLetter) -> str:
        lines = (obj.error or "").strip().splitlines()
        return lines[-1][:200] if lines else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(InboxBatch)
class InboxBatchAdmin(admin.ModelAdmin):
    """Batches waiting in the database because Redis was unavailable; workers drain them."""

    list_display = ["id", "created_at", "message_count"]
    readonly_fields = ["messages", "rejections", "created_at"]

    @admin.display(description="messages")
    def message_count(self, obj: InboxBatch) -> int:
        return len(obj.messages or [])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
