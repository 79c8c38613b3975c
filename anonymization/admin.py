"""Read-only admin views: decisions go through the review page, which writes the audit log."""
from django.contrib import admin

from forum.admin import ReadOnlyAdmin

from .models import AuditRecord, Upload


class AuditInline(admin.TabularInline):
    model = AuditRecord
    extra = 0
    fields = ("created_at", "actor", "action", "version", "ip", "detail")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdmin):
    list_display = ("pk", "state", "uploader", "topic", "declared_identifying", "created_at", "decided_at")
    list_filter = ("state", "declared_identifying")
    raw_id_fields = ("topic", "post", "uploader")
    inlines = [AuditInline]


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor", "upload", "ip")
    list_filter = ("action",)
