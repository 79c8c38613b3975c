"""What is licensed here, whether it follows the policy, what happened to it, and export bundles.

Other apps own the items (a request's data, a result); they record each item's
licenses here with `licensing.services.item_record`, and a worker checks them.
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .policy import Kind


class LicensedItem(models.Model):
    """One dataset or result, the licenses its author gave, and the outcome of its last check."""

    class ItemType(models.TextChoices):
        DATASET = "dataset", _("Dataset")
        RESULT = "result", _("Result")

    class State(models.TextChoices):
        PENDING = "pending", _("Being checked")
        OK = "ok", _("Follows the policy")
        HELD = "held", _("Held: the license needs fixing")

    item_type = models.CharField(max_length=10, choices=ItemType.choices)
    object_id = models.PositiveBigIntegerField()
    topic = models.ForeignKey("forum.Topic", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey("forum.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    expression = models.CharField(_("license (SPDX)"), max_length=100)
    code_expression = models.CharField(_("code license of the repository (SPDX)"), max_length=100, blank=True)
    # " MIT Apache-2.0 ": every identifier in both expressions, padded, for "items under a license".
    license_ids = models.CharField(max_length=300, blank=True, editable=False)
    file_kinds = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    problems = models.JSONField(default=list, blank=True)
    # Bumped by every change of what is checked; the check stores the revision it saw.
    revision = models.PositiveIntegerField(default=1)
    checked_revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item_type", "object_id"], name="licensed_item_once"),
        ]
        indexes = [
            models.Index(fields=["state", "held_at"], name="licensed_item_state"),
            models.Index(fields=["expression"], name="licensed_item_expression"),
            models.Index(fields=["topic", "item_type"], name="licensed_item_topic"),
        ]

    def __str__(self):
        return f"{self.item_type} {self.object_id}: {self.expression}"

    @property
    def is_held(self) -> bool:
        return self.state == self.State.HELD

    @property
    def license_id_list(self) -> list[str]:
        return self.license_ids.split()


class LicenseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("The licensing log is append-only."))

    def delete(self):
        raise ValidationError(_("The licensing log is append-only."))


class LicenseEvent(models.Model):
    """A hold or a release, with what was wrong; written in the check's transaction. Append-only."""

    class Action(models.TextChoices):
        HELD = "held", _("held for its license")
        RELEASED = "released", _("released: the license now follows the policy")

    item = models.ForeignKey(LicensedItem, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=10, choices=Action.choices)
    revision = models.PositiveIntegerField()
    expression = models.CharField(max_length=100)
    code_expression = models.CharField(max_length=100, blank=True)
    problems = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LicenseEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "revision", "action"], name="license_event_once"),
        ]

    def __str__(self):
        return f"{self.item_id} {self.action} r{self.revision}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("The licensing log is append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The licensing log is append-only."))


class ExportBundle(models.Model):
    """A zip of an accepted request: question, result, public files, licenses, README and CITATION.cff.

    One per topic and content fingerprint, so asking twice, or twice at once, builds it once.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        BUILDING = "building", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    topic = models.ForeignKey("forum.Topic", on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file_name = models.CharField(max_length=150)
    storage_name = models.CharField(max_length=150, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "fingerprint"], name="export_bundle_once"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="export_bundle_state")]

    def __str__(self):
        return self.file_name
