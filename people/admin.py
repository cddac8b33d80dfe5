from django.contrib import admin

from people.models import Group, Identity, Person


class IdentityInline(admin.TabularInline):
    model = Identity
    fields = ["value", "kind", "aliased", "linked_to", "first_seen", "last_seen", "event_count"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    # People are derived from the stream (people/identity.py): editing them here would be undone
    # by the next message, so the admin is for looking, not for changing.
    list_display = ["__str__", "email", "workspace", "group", "last_seen", "merged_into"]
    list_filter = ["workspace", "is_identified"]
    search_fields = ["email", "name", "identities__value"]
    list_select_related = ["workspace", "group"]
    readonly_fields = [f.name for f in Person._meta.fields]
    inlines = [IdentityInline]
    show_full_result_count = False


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["value", "kind", "aliased", "person", "workspace", "last_seen"]
    list_filter = ["workspace", "kind", "aliased"]
    search_fields = ["value"]
    list_select_related = ["person", "workspace"]
    readonly_fields = [f.name for f in Identity._meta.fields]
    show_full_result_count = False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["group_id", "name", "workspace", "updated_at"]
    list_filter = ["workspace"]
    search_fields = ["group_id", "name"]
    readonly_fields = [f.name for f in Group._meta.fields]
