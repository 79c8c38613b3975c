from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from . import pagecache, services
from .markdown import render_markdown
from .models import (
    Category,
    DigestDelivery,
    DigestSubscription,
    Flag,
    MailboxStatus,
    ModerationLogEntry,
    OutboundEmail,
    Post,
    ReviewItem,
    SitePage,
    TermsAcceptance,
    TermsVersion,
    Topic,
    TopicEvent,
    User,
)
from .selectors import TERMS_CACHE_KEY


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Profile"), {"fields": ("display_name", "affiliation", "orcid", "bio", "expertise")}),
        (_("Terms"), {"fields": ("accepted_terms_version", "accepted_terms_at", "welcome_email_sent_at")}),
    )
    readonly_fields = ("accepted_terms_version", "accepted_terms_at", "welcome_email_sent_at")
    list_display = ("username", "email", "display_name", "affiliation", "is_staff", "date_joined")

    def save_model(self, request, obj, form, change):
        # The bio is shown from its rendered HTML; render it here too, and refresh cached pages.
        obj.bio_html = render_markdown(obj.bio)
        super().save_model(request, obj, form, change)
        pagecache.invalidate_on_commit()
    search_fields = ("username", "email", "display_name", "affiliation")


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    """Publishing a version asks everybody to accept it; a published text never changes (people
    accepted exactly it), so a correction is a new version."""

    list_display = ("version", "published_at")
    fields = ("version", "summary_of_changes", "raw")

    def get_readonly_fields(self, request, obj=None):
        return ("version", "raw") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["summary_of_changes"])
            cache.delete(TERMS_CACHE_KEY)
        else:
            published = services.terms_publish(
                version=obj.version, summary_of_changes=obj.summary_of_changes, raw=obj.raw, actor=request.user,
            )
            obj.pk = published.pk


@admin.register(SitePage)
class SitePageAdmin(admin.ModelAdmin):
    """The guidelines and FAQ in Markdown; saved through the service that renders and logs them."""

    list_display = ("title", "slug", "updated_at", "updated_by")
    fields = ("slug", "title", "raw")

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        page = services.site_page_save(actor=request.user, slug=obj.slug, title=obj.title, raw=obj.raw)
        obj.pk = page.pk

    def has_delete_permission(self, request, obj=None):
        return False


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
    filter_horizontal = ("groups", "moderators")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Security, names and moderators show on cached anonymous pages.
        pagecache.invalidate_on_commit()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        pagecache.invalidate_on_commit()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Topics, posts and their history change only through the forum, where rules, counters,
    search and the page cache are kept; the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Topic)
class TopicAdmin(ReadOnlyAdmin):
    list_display = ("title", "category", "author", "created_at", "post_count", "closed", "archived", "deleted_at")
    list_filter = ("closed", "archived", "pinned", "pinned_globally")
    list_select_related = ("category", "author")
    search_fields = ("title",)


@admin.register(Post)
class PostAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "author", "created_at", "revision_count", "deleted_at")
    list_select_related = ("topic", "author")
    exclude = ("search_vector",)


@admin.register(TopicEvent)
class TopicEventAdmin(ReadOnlyAdmin):
    list_display = ("topic", "actor", "kind", "detail", "created_at")
    list_select_related = ("topic", "actor")
    list_filter = ("kind",)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    """Every email the site owed: failed ones stay here with their error, for staff to see and resend."""

    list_display = ("kind", "to", "status", "attempts", "last_error", "created_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("to", "key")
    exclude = ("html_body",)
    actions = ["resend"]

    def has_change_permission(self, request, obj=None):
        # Bodies can quote posts: only staff granted the model's permission see and resend them.
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "html_body"]

    @admin.action(description=_("Send again (failed or skipped emails)"))
    def resend(self, request, queryset):
        count = services.emails_retry(email_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(count)d emails will be sent again.") % {"count": count})


@admin.register(MailboxStatus)
class MailboxStatusAdmin(ReadOnlyAdmin):
    list_display = ("email", "hard_failures", "failing_since", "last_error", "updated_at")
    list_filter = (("failing_since", admin.EmptyFieldListFilter),)
    search_fields = ("email",)
    actions = ["clear"]

    def has_change_permission(self, request, obj=None):
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.action(description=_("Let these addresses receive email again"))
    def clear(self, request, queryset):
        for email in queryset.values_list("email", flat=True):
            services.mailbox_clear(email=email)
        self.message_user(request, _("Cleared."))


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "frequency", "confirmed_at", "unsubscribed_at", "last_period")
    list_filter = ("frequency",)
    search_fields = ("email", "user__username", "user__email")
    list_select_related = ("user",)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("subscription", "period", "item_count", "created_at", "email")
    list_select_related = ("subscription", "subscription__user", "email")


@admin.register(ModerationLogEntry)
class ModerationLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "target_user", "post", "reason")
    list_filter = ("action",)
    list_select_related = ("actor", "target_user", "post")


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "status", "personal_data", "post", "resolved_by")
    list_filter = ("status", "kind", "personal_data")
    list_select_related = ("post", "resolved_by")


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "flagger", "reason", "outcome", "post")
    list_filter = ("reason", "outcome")
    list_select_related = ("flagger", "post")
