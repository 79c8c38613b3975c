"""Emails about reviews, through ReviewNotice rows. They say only that there is something
to read, with a link; never a file name, a title, a finding or a message."""
import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from forum.models import User
from forum.permissions import ROLE_GROUP_NAMES, Role

from ..models import ReviewNotice


def notify(recipient, kind: str, upload, key: str) -> None:
    """Owe `recipient` one email, once per `key`; sent after commit."""
    from ..tasks import send_review_notice

    if recipient is None or not recipient.is_active:
        return
    try:
        with transaction.atomic():
            notice, created = ReviewNotice.objects.get_or_create(
                key=key[:200], defaults={"recipient": recipient, "kind": kind, "upload": upload}
            )
    except IntegrityError:
        return
    if created:
        send_review_notice.delay_on_commit(notice_id=notice.pk)


def team_members() -> list:
    """Everyone who triages: the anonymization team, or the moderators if the team is empty."""
    team = list(User.objects.filter(groups__name=ROLE_GROUP_NAMES[Role.ANONYMIZATION], is_active=True))
    return team or list(User.objects.filter(groups__name=ROLE_GROUP_NAMES[Role.MODERATOR], is_active=True))


def review_notice_send(*, notice_id: int) -> bool:
    """Send one owed email unless sent already; the row lock keeps two workers from both sending."""
    with transaction.atomic():
        notice = (
            ReviewNotice.objects.select_for_update(of=("self",)).select_related("recipient")
            .filter(pk=notice_id).first()
        )
        if notice is None or notice.sent_at is not None:
            return False
        recipient = notice.recipient
        if recipient.is_active and recipient.email:
            with translation.override(settings.LANGUAGE_CODE):
                context = {
                    "notice": notice, "recipient": recipient, "site_name": settings.SITE_NAME,
                    "url": settings.SITE_URL.rstrip("/") + notice.upload.get_absolute_url(),
                }
                subject = render_to_string("anonymization/email/notice_subject.txt", context).strip()
                body = render_to_string("anonymization/email/notice.txt", context)
            EmailMessage(subject=" ".join(subject.split())[:200], body=body, to=[recipient.email]).send()
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True


def review_notices_pending(*, older_than_seconds: int = 300) -> list[int]:
    """Notices still unsent a while after they were owed (a worker crashed or the broker lost them)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        ReviewNotice.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at").values_list("pk", flat=True)[:1000]
    )
