from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Category, TermsAcceptance, TermsVersion, Topic, User
from .selectors import TERMS_CACHE_KEY


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Profile"), {"fields": ("display_name", "affiliation", "orcid", "bio", "expertise")}),
        (_("Terms"), {"fields": ("accepted_terms_version", "accepted_terms_at", "welcome_email_sent_at")}),
    )
    readonly_fields = ("accepted_terms_version", "accepted_terms_at", "welcome_email_sent_at")
    list_display = ("username", "email", "display_name", "affiliation", "is_staff", "date_joined")
    search_fields = ("username", "email", "display_name", "affiliation")


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "published_at")

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            cache.delete(TERMS_CACHE_KEY)
        else:
            services.terms_publish(version=obj.version, summary_of_changes=obj.summary_of_changes)


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(admin.ModelAdmin):
    list_display = ("user", "terms_version", "accepted_at")
    list_select_related = ("user", "terms_version")
    readonly_fields = ("user", "terms_version", "accepted_at")

    def has_add_permission(self, request):
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent", "security", "position")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("groups",)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "author", "created_at", "post_count")
    list_select_related = ("category", "author")
    raw_id_fields = ("author",)
