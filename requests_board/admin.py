"""Read-only admin views: every change goes through the services, which keep the history."""
from django.contrib import admin

from .models import Claim, DataRequest, RequestEvent, Result


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ClaimInline(admin.TabularInline):
    model = Claim
    extra = 0
    fields = ("volunteer", "role", "part", "status", "created_at", "last_activity_at", "reminded_at", "ended_at")
    readonly_fields = fields
    can_delete = False


class EventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    fields = ("created_at", "actor", "kind", "from_state", "to_state", "subject", "detail")
    readonly_fields = fields
    can_delete = False


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    list_display = ("title", "state", "category", "author", "deadline", "needs_anonymization", "published_at")
    list_filter = ("state", "needs_anonymization", "modality", "result_type")
    search_fields = ("title",)
    raw_id_fields = ("topic", "author")
    inlines = [ClaimInline, EventInline]


@admin.register(Result)
class ResultAdmin(ReadOnlyAdmin):
    list_display = ("data_request", "author", "license", "repository_url", "accepted_at")

