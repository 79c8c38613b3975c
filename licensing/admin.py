"""Read-only admin views: holds and releases come from the license check, which writes the log."""
from django.contrib import admin

from forum.admin import ReadOnlyAdmin

from .models import ExportBundle, LicensedItem, LicenseEvent


class EventInline(admin.TabularInline):
    model = LicenseEvent
    extra = 0
    fields = ("created_at", "action", "revision", "expression", "code_expression", "problems")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LicensedItem)
class LicensedItemAdmin(ReadOnlyAdmin):
    list_display = ("item_type", "object_id", "title", "expression", "code_expression", "state", "checked_at")
    list_filter = ("state", "item_type", "kind")
    search_fields = ("title", "expression")
    raw_id_fields = ("topic", "post", "author")
    inlines = [EventInline]


@admin.register(ExportBundle)
class ExportBundleAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "state", "progress", "size", "created_at", "finished_at")
    list_filter = ("state",)
