"""Tasks queued in a transaction reach a real worker only after commit, and run once."""
import time

import pytest
from django.db import transaction

from forum import services
from forum.models import User
from forum.tasks import send_welcome_email
from tests.forum.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_welcome_email_is_sent_by_the_worker_only_after_commit(real_celery):
    inbox = real_celery
    user = UserFactory(email="jane.testpatient@example.org", display_name="Jane Testpatient")
    with transaction.atomic():
        services.welcome_email_queue(user=user)
        time.sleep(2)  # long enough for a worker to have sent it, had it been queued already
        assert inbox.messages == []
    messages = inbox.wait_for(1)
    assert len(messages) == 1
    recipients, raw = messages[0]
    assert recipients == ["jane.testpatient@example.org"]
    assert "Subject: Welcome to" in raw
    assert "text/html" in raw and "text/plain" in raw
    # The worker recorded the row in the same transaction as the send.
    deadline = time.monotonic() + 10
    while User.objects.get(pk=user.pk).welcome_email_sent_at is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert User.objects.get(pk=user.pk).welcome_email_sent_at is not None


def test_rolled_back_transaction_sends_nothing(real_celery):
    inbox = real_celery
    user = UserFactory(email="rolled.back@example.org")
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.welcome_email_queue(user=user)
            raise RuntimeError("the request failed")
    time.sleep(3)
    assert inbox.messages == []
    assert User.objects.get(pk=user.pk).welcome_email_sent_at is None


def test_a_task_delivered_twice_sends_one_email(real_celery):
    inbox = real_celery
    user = UserFactory(email="twice@example.org")
    send_welcome_email.delay(user_id=user.pk)
    send_welcome_email.delay(user_id=user.pk)
    inbox.wait_for(1)
    time.sleep(3)
    assert [recipients for recipients, _raw in inbox.messages] == [["twice@example.org"]]
