from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ingest.models import DeadLetter, InboxBatch
from ingest.processing import dead_letter_retry


@admin.action(description="Store the selected dead letters again")
def retry_dead_letters(modeladmin, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
    stored = sum(dead_letter_retry(letter) for letter in queryset)
    failed = queryset.count()
    level = messages.SUCCESS if not failed else messages.WARNING
    modeladmin.message_user(request, f"{stored} stored, {failed} still failing.", level)


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
