"""License checks run on a real worker: a result under a license the policy refuses is held and
its author emailed; fixing the license releases it; a duplicated check changes nothing."""
import datetime
import email
import email.policy
import time

import pytest
from django.utils import timezone

from forum import tasks as forum_tasks
from forum.models import Notification, OutboundEmail
from forum.permissions import Role
from licensing.models import LicensedItem, LicenseEvent
from licensing.tasks import check_license
from requests_board import services
from requests_board.notifications import NoticeKind
from tests.forum.factories import CategoryFactory, UserFactory
from tests.integration.conftest import ARTIFACTS
from tests.requests_board.factories import make_claimed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WORKER_LOG = ARTIFACTS / "celery-worker.log"


def wait_until(predicate, *, timeout: float = 30.0, what: str = "the worker"):
    """Poll `predicate` until it returns something truthy; fail, saying what was awaited, after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"Timed out after {timeout}s waiting for {what}")


def result_item(result) -> LicensedItem:
    return LicensedItem.objects.get(item_type=LicensedItem.ItemType.RESULT, object_id=result.pk)


def subjects_by_recipient(messages) -> list[tuple[str, str]]:
    """(recipient, decoded subject) of each message the SMTP server received, in order."""
    pairs = []
    for recipients, raw in messages:
        message = email.message_from_string(raw, policy=email.policy.default)
        pairs.extend((recipient, str(message["Subject"])) for recipient in recipients)
    return pairs


def notices(data_request) -> list[tuple[str, int, str]]:
    """(kind, recipient, what became of its email) of each notification about the request."""
    emails = dict(OutboundEmail.objects.filter(notification__isnull=False).values_list("notification_id", "status"))
    return sorted(
        (kind, user_id, emails.get(pk, "none"))
        for pk, kind, user_id in Notification.objects.filter(topic_id=data_request.topic_id)
        .values_list("pk", "kind", "user_id")
    )


def send_when_due(kind: str) -> None:
    """The worker (production settings) owes a notification's email a little later, so that what the
    person reads on the site meanwhile is not sent: once it is owed, let that time pass and run the
    beat's sweep."""
    wait_until(lambda: OutboundEmail.objects.filter(kind=kind).exists(), what=f"the {kind} email to be owed")
    OutboundEmail.objects.filter(kind=kind, status=OutboundEmail.Status.PENDING).update(
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=5))
    forum_tasks.send_due_emails.delay()


SENT = OutboundEmail.Status.SENT


def test_result_under_refused_license_is_held_then_released_once_by_the_worker(real_celery):
    inbox = real_celery
    requester = UserFactory(roles=[Role.REQUESTER], email="clinician.testpatient@example.org")
    volunteer = UserFactory(roles=[Role.VOLUNTEER], email="volunteer.testpatient@example.org")
    data_request, _claim = make_claimed(requester, volunteer, CategoryFactory(slug="data-requests"))
    inbox.wait_for(1)  # the requester hears of the claim

    # The volunteer delivers under a license results may not use (results: BSD-3-Clause or BSD-2-Clause).
    result = services.result_deliver(
        actor=volunteer, data_request_id=data_request.pk, summary="The median is 5.1 days (synthetic).",
        repository_url="https://github.com/example/incubation", license="GPL-3.0-only", repository_license="MIT",
    )
    held = wait_until(lambda: result_item(result).state == LicensedItem.State.HELD and result_item(result),
                      what="the check to hold the result")
    assert held.checked_revision == held.revision == 1
    assert held.held_at is not None
    assert len(held.problems) == 1 and "GPL-3.0-only" in held.problems[0]
    events = list(LicenseEvent.objects.filter(item=held).values_list("action", "revision", "expression"))
    assert events == [(LicenseEvent.Action.HELD, 1, "GPL-3.0-only")]
    send_when_due(NoticeKind.LICENSE_HELD)
    wait_until(lambda: OutboundEmail.objects.filter(kind=NoticeKind.LICENSE_HELD, status=SENT).exists(),
               what="the hold's email to be sent")
    sent = subjects_by_recipient(inbox.wait_for(2))
    held_emails = [(to, subject) for to, subject in sent if "Held for its license" in subject]
    assert [to for to, _subject in held_emails] == [volunteer.email]
    # The requester is not told of a result the hold keeps from everybody but its author and the
    # moderators: they hear of it once it is released.
    assert notices(data_request) == sorted([
        (NoticeKind.CLAIMED, requester.pk, SENT), (NoticeKind.LICENSE_HELD, volunteer.pk, SENT),
    ])

    # The volunteer fixes the license: the worker checks the new revision and releases the result.
    services.result_license_edit(actor=volunteer, result_id=result.pk, license="BSD-3-Clause",
                                 repository_license="MIT")
    released = wait_until(lambda: result_item(result).state == LicensedItem.State.OK and result_item(result),
                          what="the check to release the result")
    assert released.checked_revision == released.revision == 2
    assert released.held_at is None and released.problems == []
    assert list(LicenseEvent.objects.filter(item=released).values_list("action", "revision", "expression")) == [
        (LicenseEvent.Action.HELD, 1, "GPL-3.0-only"), (LicenseEvent.Action.RELEASED, 2, "BSD-3-Clause"),
    ]
    send_when_due(NoticeKind.LICENSE_RELEASED)
    send_when_due(NoticeKind.RESULT_DELIVERED)  # released, the result is news for the requester now
    wait_until(lambda: OutboundEmail.objects.filter(kind=NoticeKind.LICENSE_RELEASED, status=SENT).exists()
               and OutboundEmail.objects.filter(kind=NoticeKind.RESULT_DELIVERED, status=SENT).exists(),
               what="the release's and the result's emails to be sent")
    sent = subjects_by_recipient(inbox.wait_for(4))
    released_emails = [to for to, subject in sent if "Released: the license of your item" in subject]
    assert released_emails == [volunteer.email]
    expected_notices = sorted([
        (NoticeKind.CLAIMED, requester.pk, SENT), (NoticeKind.RESULT_DELIVERED, requester.pk, SENT),
        (NoticeKind.LICENSE_HELD, volunteer.pk, SENT), (NoticeKind.LICENSE_RELEASED, volunteer.pk, SENT),
    ])
    assert notices(data_request) == expected_notices

    # The same check delivered twice more (a retry, a duplicate message): both run and change nothing.
    checked_at = released.checked_at
    duplicates = [check_license.delay(item_id=released.pk), check_license.delay(item_id=released.pk)]
    wait_until(
        lambda: all(f"check_license[{task.id}] succeeded" in WORKER_LOG.read_text() for task in duplicates),
        what="both duplicated checks to run",
    )
    log = WORKER_LOG.read_text()
    for task in duplicates:
        line = next(line for line in log.splitlines() if f"check_license[{task.id}] succeeded" in line)
        assert line.endswith("'unchanged'"), line
    time.sleep(3)  # room for a duplicate email to arrive, were there one
    again = result_item(result)
    assert again.state == LicensedItem.State.OK
    assert (again.revision, again.checked_revision, again.checked_at) == (2, 2, checked_at)
    assert LicenseEvent.objects.filter(item=again).count() == 2
    assert notices(data_request) == expected_notices
    assert len(inbox.messages) == 4
    assert not OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING).exists()
