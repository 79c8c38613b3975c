"""What the anonymization app adds to the forum (see forum/hooks.py): its notification kinds,
its part of a person's data export and erasure, and its queue beside the review queue."""
from django.urls import reverse
from django.utils.translation import gettext as _

from . import detector, selectors, services
from .notifications import NOTIFICATION_KINDS
from .permissions import can_triage


def notification_kinds() -> list:
    return NOTIFICATION_KINDS


def personal_data(*, user) -> dict:
    """What a person uploaded, as metadata: the files themselves may hold patients' data and are
    only ever handed out through review."""
    return {"uploads": selectors.uploads_of_person(user=user)}


def personal_data_erase(*, user) -> None:
    services.audit_addresses_erase(user=user)


def review_queue_links(*, user) -> list:
    if not can_triage(user):
        return []
    return [(_("Uploads waiting for the anonymization team"), selectors.uploads_waiting_count(),
             reverse("anonymization:queue"))]


def screen_text(*, text: str) -> dict:
    """The identifier check of text about to be published (see anonymization/detector/)."""
    findings = detector.find_identifiers(text)
    return {"hold": detector.holds(findings), "findings": [finding.as_dict() for finding in findings]}


def identifier_labels() -> dict:
    return dict(detector.LABELS)
