from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import Membership, RejectedMessage, Source, Workspace
from accounts.services import source_revoke


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role"]
    autocomplete_fields = ["user", "workspace"]


@admin.action(description="Revoke selected sources' tokens")
def revoke_sources(modeladmin, request: HttpRequest, queryset: QuerySet[Source]) -> None:
    for source in queryset:
        source_revoke(source=source)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "workspace",
        "kind",
        "token_prefix",
        "created_at",
        "last_received_at",
        "accepted_count",
        "rejected_count",
        "revoked_at",
    ]
    list_filter = ["kind"]
    search_fields = ["name", "token_prefix", "workspace__name"]
    # The hash is never shown, not even read-only.
    exclude = ["token_hash"]
    readonly_fields = [
        "token_prefix",
        "created_at",
        "created_by",
        "last_received_at",
        "accepted_count",
        "rejected_count",
        "revoked_at",
    ]
    actions = [revoke_sources]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tokens are issued on the Sources page, where they can be shown once.
        return False


@admin.register(RejectedMessage)
class RejectedMessageAdmin(admin.ModelAdmin):
    list_display = ["source", "received_at", "index", "reason"]
    list_filter = ["source"]
    readonly_fields = ["source", "received_at", "index", "reason", "excerpt"]
