"""What the anonymization app adds to the forum (see forum/extensions.py): its notification kinds,
its part of a person's data export and erasure, and its queue beside the review queue."""
from django.urls import reverse
from django.utils.translation import gettext as _

from . import detector
from .models import AuditRecord, Upload
from .notifications import NOTIFICATION_KINDS
from .permissions import can_triage


def notification_kinds() -> list:
    return NOTIFICATION_KINDS


def personal_data(*, user) -> dict:
    """What a person uploaded, as metadata: the files themselves may hold patients' data and are
    only ever handed out through review."""
    return {"uploads": list(Upload.objects.filter(uploader=user).order_by("created_at").values(
        "pk", "topic_id", "state", "created_at",
    ))}


def personal_data_erase(*, user) -> None:
    """The audit log keeps what was done and by whom (now "deleted user"), but not from where.

    The log is append-only (its queryset refuses updates); erasing a deleted person's address
    is the one change allowed, so it goes around that guard on purpose.
    """
    from django.db.models import QuerySet

    QuerySet.update(AuditRecord.objects.filter(actor=user), ip=None)


def review_queue_links(*, user) -> list:
    if not can_triage(user):
        return []
    waiting = Upload.objects.filter(state__in=[Upload.State.SCANNING, Upload.State.REVIEW]).count()
    return [(_("Uploads waiting for the anonymization team"), waiting, reverse("anonymization:queue"))]


def screen_text(*, text: str) -> dict:
    """The identifier check of text about to be published (see anonymization/detector/)."""
    findings = detector.find_identifiers(text)
    return {"hold": detector.holds(findings), "findings": [finding.as_dict() for finding in findings]}


def identifier_labels() -> dict:
    return dict(detector.LABELS)
