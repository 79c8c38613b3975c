"""Moderation: flags, the review queue, the moderation log and the site's editable pages."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .content import Post, Topic


class ReviewItem(models.Model):
    """One post waiting for a moderator: flagged by people, or held because its author is new.

    At most one pending item per post; later flags join it.
    """

    class Kind(models.TextChoices):
        FLAGGED = "flagged", _("Flagged")
        HELD = "held", _("New member's post held for approval")
        # Found by the identifier check when written: the post, or an edit of it, waits.
        IDENTIFYING = "identifying", _("Held: it may identify a patient")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        HIDDEN = "hidden", _("Kept hidden")
        DELETED = "deleted", _("Deleted")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn by its author")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="review_items")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # A "contains personal data" flag routes the item to the anonymization team too.
    personal_data = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    resolution_note = models.CharField(_("note"), max_length=500, blank=True)
    # An edit of a published post held for the anonymization team: the post keeps showing its
    # old text until the team clears (or cleans) this one. `has_proposal` tells an empty text apart.
    has_proposal = models.BooleanField(default=False)
    proposed_raw = models.TextField(blank=True)
    proposed_title = models.CharField(max_length=200, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    # What the identifier check found: [{"kind", "start", "end", "value", "confidence"}] in the
    # held text. Only the author and the reviewers see it, like the text itself.
    findings = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["post"], condition=Q(status="pending"), name="review_item_one_pending_per_post",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="review_item_queue")]

    def __str__(self):
        return f"{self.get_kind_display()}: post {self.post_id} ({self.status})"


class Flag(models.Model):
    """One person's report that a post needs a moderator's eyes. One per person and post."""

    class Reason(models.TextChoices):
        OFF_TOPIC = "off_topic", _("Off-topic")
        INAPPROPRIATE = "inappropriate", _("Inappropriate: rude, hostile or harmful")
        SPAM = "spam", _("Spam or advertising")
        PERSONAL_DATA = "personal_data", _("Contains personal data that may identify a patient")
        COPYRIGHT = "copyright", _("Not the poster's own material (copyright)")
        OTHER = "other", _("Something else")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        AGREED = "agreed", _("A moderator agreed")
        DISAGREED = "disagreed", _("A moderator found the post acceptable")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    flagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flags")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Counted towards hiding a post only when the flagger was trusted enough at the time.
    trusted = models.BooleanField(default=False)
    review_item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="flags")
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "flagger"], name="flag_once_per_person")]
        indexes = [models.Index(fields=["flagger", "-created_at"], name="flag_flagger_latest")]

    def __str__(self):
        return f"{self.flagger_id} flagged post {self.post_id}: {self.reason}"


class ModerationLogEntry(models.Model):
    """Everything a moderator (or the system, `actor` empty) does to people and posts; kept forever."""

    class Action(models.TextChoices):
        POST_HIDDEN_BY_FLAGS = "post_hidden_by_flags", _("hid a post after flags")
        POST_HIDDEN_PERSONAL_DATA = "post_hidden_personal_data", _("hid a post flagged for personal data")
        POST_HELD = "post_held", _("held a new member's post for approval")
        POST_HELD_IDENTIFYING = "post_held_identifying", _("held a post that may identify a patient")
        EDIT_HELD_IDENTIFYING = "edit_held_identifying", _("held an edit that may identify a patient")
        APPROVED = "approved", _("approved a post")
        HIDDEN = "hidden", _("kept a post hidden")
        DELETED = "deleted", _("deleted a post")
        REJECTED = "rejected", _("rejected a held post")
        EDITED = "edited", _("edited a post under review")
        SILENCED = "silenced", _("silenced a person")
        UNSILENCED = "unsilenced", _("lifted a silence")
        SUSPENDED = "suspended", _("suspended a person")
        UNSUSPENDED = "unsuspended", _("lifted a suspension")
        TRUST_LOCKED = "trust_locked", _("locked a trust level")
        TRUST_UNLOCKED = "trust_unlocked", _("unlocked a trust level")
        TRUST_CHANGED = "trust_changed", _("changed a trust level")
        SPAMMER_DELETED = "spammer_deleted", _("deleted a spammer and their posts")
        SPAMMER_RESTORED = "spammer_restored", _("restored a person deleted as a spammer")
        DATA_EXPORTED = "data_exported", _("downloaded their personal data")
        ACCOUNT_DELETED = "account_deleted", _("deleted their account")
        PAGE_EDITED = "page_edited", _("edited a site page")
        TERMS_PUBLISHED = "terms_published", _("published new terms")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    # Facts needed to undo the action (e.g. the posts a spam sweep deleted) or to explain it.
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["target_user", "-created_at"], name="moderation_log_target")]
        verbose_name = _("moderation log entry")
        verbose_name_plural = _("moderation log")

    def __str__(self):
        return f"{self.actor_id} {self.action} {self.target_user_id or self.post_id or ''}"


class SitePage(models.Model):
    """A page staff edit in Markdown: the community guidelines and the FAQ.

    The terms of service are versioned instead (TermsVersion).
    """

    class Slug(models.TextChoices):
        GUIDELINES = "guidelines", _("Community guidelines")
        FAQ = "faq", _("Frequently asked questions")

    slug = models.CharField(max_length=20, choices=Slug.choices, unique=True)
    title = models.CharField(_("title"), max_length=200)
    raw = models.TextField(_("text (Markdown)"))
    html = models.TextField(editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )

    class Meta:
        verbose_name = _("site page")
        verbose_name_plural = _("site pages")

    def __str__(self):
        return self.title
