"""Request emails go out from a real worker over SMTP, once, even when the periodic task runs twice."""
import datetime
import time

import pytest
from django.utils import timezone

from requests_board import tasks
from requests_board.models import Claim, Notice
from tests.forum.factories import CategoryFactory, UserFactory
from tests.requests_board.factories import make_claimed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


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
    messages = inbox.wait_for(2)
    time.sleep(3)  # room for a duplicate to arrive, were there one
    assert [recipients for recipients, _raw in inbox.messages] == [[requester.email], [volunteer.email]]
    assert "Reminder" in inbox.messages[1][1]
    assert Notice.objects.filter(sent_at__isnull=True).count() == 0
    assert len(messages) == 2
