"""Uploads held in quarantine, their versions and scan reports, the private review
thread, the audit log, and the emails owed about reviews."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Upload(models.Model):
    """One file attached to a topic (a request) or a post (an update or a result).

    Its content lives in versions; the review decides about the current one. Only
    an approved version is ever copied to public storage.
    """

    class State(models.TextChoices):
        SCANNING = "scanning", _("Being scanned")
        REVIEW = "review", _("Waiting for review")
        CHANGES = "changes", _("Changes requested")
        APPROVED = "approved", _("Approved, being published")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")

    topic = models.ForeignKey("forum.Topic", on_delete=models.CASCADE, related_name="uploads")
    post = models.ForeignKey("forum.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="uploads")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="uploads")
    # The request said its data may identify a patient: every file then waits for a person.
    declared_identifying = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SCANNING)
    current_version = models.ForeignKey(
        "UploadVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    # Set once the public copy exists; the approved version never changes afterwards.
    published_version = models.ForeignKey(
        "UploadVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_name = models.CharField(max_length=200, blank=True)
    published_size = models.BigIntegerField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "created_at"], name="upload_queue"),
            models.Index(fields=["topic", "state"], name="upload_topic_state"),
        ]

    def __str__(self):
        return f"upload {self.pk} ({self.state})"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("anonymization:upload-detail", args=[self.pk])


class UploadVersion(models.Model):
    """One file as uploaded, kept in quarantine under a random name, with its scan report."""

    class Scan(models.TextChoices):
        PENDING = "pending", _("Waiting to be scanned")
        DONE = "done", _("Scanned")
        FAILED = "failed", _("Scan failed")

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    storage_name = models.CharField(max_length=100, unique=True)
    # Sanitized: no path, no control characters, bounded length; metadata only, never a path.
    original_name = models.CharField(max_length=150)
    kind = models.CharField(max_length=20)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    scan_state = models.CharField(max_length=10, choices=Scan.choices, default=Scan.PENDING)
    scan_attempts = models.PositiveIntegerField(default=0)
    scan_started_at = models.DateTimeField(null=True, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)
    # {"findings": [{"code", "subject", "detail", "count", "cells"}]}: places, never cell values.
    report = models.JSONField(default=dict, blank=True)
    finding_count = models.PositiveIntegerField(default=0)
    superseded_at = models.DateTimeField(null=True, blank=True)
    file_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["upload_id", "number"]
        constraints = [models.UniqueConstraint(fields=["upload", "number"], name="upload_version_number")]
        indexes = [
            models.Index(fields=["scan_state", "created_at"], name="upload_version_scan"),
            models.Index(fields=["uploaded_by", "created_at"], name="upload_version_uploader"),
        ]

    def __str__(self):
        return f"{self.original_name} (v{self.number})"

    @property
    def findings(self) -> list:
        return self.report.get("findings", []) if isinstance(self.report, dict) else []

    @property
    def public_name(self) -> str:
        """The name readers see and download the published copy under: neutral when the scan found
        something identifying in the uploader's file name (see publishing.public_file_name)."""
        from .publishing import public_file_name

        return public_file_name(upload_id=self.upload_id, original_name=self.original_name, report=self.report)


class ReviewMessage(models.Model):
    """The private thread between the uploader and the anonymization team about one upload.

    Not a forum post on purpose: it is never indexed, listed, fed or quoted in email.
    """

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raw = models.TextField()
    html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["upload", "created_at"], name="review_message_upload")]

    def __str__(self):
        return f"message {self.pk} on upload {self.upload_id}"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("The audit log is append-only."))

    def delete(self):
        raise ValidationError(_("The audit log is append-only."))


class AuditRecord(models.Model):
    """Who did what to which upload, when and from where. Append-only: rows are never changed."""

    class Action(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        REFUSED = "refused", _("upload refused")
        NEW_VERSION = "new_version", _("uploaded a new version")
        SCANNED = "scanned", _("scanned")
        SCAN_FAILED = "scan_failed", _("scan failed")
        REPORT_VIEWED = "report_viewed", _("viewed the report")
        DOWNLOADED = "downloaded", _("downloaded the quarantined file")
        MESSAGE = "message", _("wrote in the private thread")
        APPROVED = "approved", _("approved")
        CHANGES_REQUESTED = "changes_requested", _("requested changes")
        REJECTED = "rejected", _("rejected")
        PUBLISHED = "published", _("published")
        FILE_DELETED = "file_deleted", _("deleted the quarantined file (retention)")

    upload = models.ForeignKey(Upload, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit")
    version = models.ForeignKey(UploadVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    detail = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["upload", "created_at"], name="audit_upload")]

    def __str__(self):
        return f"{self.action} by {self.actor_id} on {self.upload_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("The audit log is append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The audit log is append-only."))
