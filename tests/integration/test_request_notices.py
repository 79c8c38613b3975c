"""Request emails go out from a real worker over SMTP, once, even when the periodic tasks run twice."""
import datetime
import time

import pytest
from django.utils import timezone

from forum import tasks as forum_tasks
from forum.models import Notification, OutboundEmail
from requests_board import tasks
from requests_board.models import Claim
from requests_board.notifications import NoticeKind
from tests.forum.factories import CategoryFactory, UserFactory
from tests.requests_board.factories import make_claimed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _owed(kind: str) -> OutboundEmail | None:
    return OutboundEmail.objects.filter(kind=kind).first()


def test_claim_reminder_is_emailed_once_by_the_worker(real_celery):
    from forum.permissions import Role

    inbox = real_celery
    requester = UserFactory(roles=[Role.REQUESTER], email="clinician.testpatient@example.org")
    volunteer = UserFactory(roles=[Role.VOLUNTEER], email="volunteer.testpatient@example.org")
    _data_request, claim = make_claimed(requester, volunteer, CategoryFactory(slug="data-requests"))
    assert [recipients for recipients, _raw in inbox.wait_for(1)] == [[requester.email]]
    # The volunteer has been quiet for longer than the reminder period.
    Claim.objects.filter(pk=claim.pk).update(last_activity_at=timezone.now() - datetime.timedelta(days=30))
    tasks.expire_claims.delay()
    tasks.expire_claims.delay()
    deadline = time.monotonic() + 30
    while _owed(NoticeKind.CLAIM_REMINDER) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    # The worker (production settings) owes the email a little later, so that what the volunteer reads
    # on the site meanwhile is not sent: let that time pass, then the beat's sweep runs twice.
    OutboundEmail.objects.filter(kind=NoticeKind.CLAIM_REMINDER).update(
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=5))
    forum_tasks.send_due_emails.delay()
    forum_tasks.send_due_emails.delay()
    messages = inbox.wait_for(2)
    time.sleep(3)  # room for a duplicate to arrive, were there one
    assert [recipients for recipients, _raw in inbox.messages] == [[requester.email], [volunteer.email]]
    assert "Reminder" in inbox.messages[1][1]
    assert Notification.objects.filter(kind=NoticeKind.CLAIM_REMINDER, user=volunteer).count() == 1
    assert sorted(OutboundEmail.objects.values_list("kind", "status")) == sorted([
        (NoticeKind.CLAIMED, OutboundEmail.Status.SENT), (NoticeKind.CLAIM_REMINDER, OutboundEmail.Status.SENT),
    ])
    assert len(messages) == 2
