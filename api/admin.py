from django.contrib import admin

from api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "workspace", "created_at", "last_used_at", "revoked_at")
    list_filter = ("workspace",)
    # The hash is useless to read and must not be edited into another key's.
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
