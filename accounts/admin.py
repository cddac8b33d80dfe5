from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AuditEntry, Invitation, Membership, RejectedMessage, Source, Workspace
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
    list_display = ["user", "workspace", "role", "created_at", "last_active_at"]
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


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "workspace", "role", "invited_by", "sent_at", "expires_at", "state"]
    search_fields = ["email", "workspace__name"]
    # The hash is never shown; invitations are issued on the Members page, where the link is.
    exclude = ["token_hash"]
    readonly_fields = ["sent_at", "expires_at", "accepted_at", "accepted_by", "revoked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "workspace", "actor_label", "action", "target"]
    list_filter = ["action"]

    # Append-only: the log is not edited, even by staff.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
