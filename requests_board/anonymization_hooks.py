"""What the requests board tells the anonymization app about the topics files belong to
(see anonymization/hooks.py)."""
from django.urls import reverse

from .models import DataRequest
from .services import request_clear


def upload_subjects(*, topic_ids) -> dict:
    """Per topic: the request's title, page and deadline, for the triage queue (one query)."""
    rows = DataRequest.objects.filter(topic_id__in=topic_ids).values("pk", "topic_id", "title", "deadline")
    return {
        row["topic_id"]: {
            "title": row["title"], "url": reverse("requests_board:request-detail", args=[row["pk"]]),
            "deadline": row["deadline"],
        }
        for row in rows
    }


def upload_approved(*, actor, upload) -> None:
    """Approving a file of a request still waiting in the channel makes the request public."""
    data_request = DataRequest.objects.filter(topic_id=upload.topic_id).first()
    if data_request is None or actor is None:
        return
    if data_request.needs_anonymization and data_request.cleared_at is None:
        request_clear(actor=actor, data_request_id=data_request.pk)

