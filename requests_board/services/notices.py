"""Sending the emails owed through Notice rows."""
import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ..models import Notice
from ..permissions import (
    can_see_request,
)

# --- Notices ----------------------------------------------------------------------

def notice_send(*, notice_id: int) -> bool:
    """Send one owed email unless it was sent already. Holds the notice's row lock while sending,
    so two workers never send it at once; a crash before commit sends it again (at least once)."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(of=("self",))
            .select_related("recipient", "data_request", "data_request__topic")
            .filter(pk=notice_id).first()
        )
        if notice is None or notice.sent_at is not None:
            return False
        recipient = notice.recipient
        if not recipient.is_active or not recipient.email:
            notice.sent_at = timezone.now()
            notice.save(update_fields=["sent_at"])
            return False
        data_request = notice.data_request
        visible = data_request.topic_id is not None and can_see_request(recipient, data_request)
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "notice": notice, "recipient": recipient, "data_request": data_request, "visible": visible,
                "site_name": settings.SITE_NAME, "site_url": settings.SITE_URL.rstrip("/"),
                "board_url": settings.SITE_URL.rstrip("/") + "/requests/claims/",
            }
            subject = render_to_string("requests_board/email/notice_subject.txt", context).strip()
            body = render_to_string("requests_board/email/notice.txt", context)
        EmailMessage(
            subject=" ".join(subject.split())[:200], body=body, to=[recipient.email],
        ).send()
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True


def notices_pending(*, older_than_seconds: int = 300) -> list[int]:
    """Notices still unsent a while after they were owed (a worker crashed or the broker lost them)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Notice.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at").values_list("pk", flat=True)[:1000]
    )
