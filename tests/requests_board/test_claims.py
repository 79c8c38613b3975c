"""Claiming: leads and collaborators, limits, releasing, citizen-science parts, expiry and its
notifications (forum Notification rows, and the emails owed through OutboundEmail rows)."""
import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from forum import services as forum_services
from forum import tasks as forum_tasks
from forum.models import Notification, NotificationLevel, OutboundEmail
from forum.notifications import Delivery
from forum.permissions import Role
from requests_board import services, tasks
from requests_board.models import Claim, DataRequest, RequestEvent
from requests_board.notifications import NoticeKind
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_claimed, make_request

pytestmark = pytest.mark.django_db
State = DataRequest.State
# Emails leave after commit: these tests commit for real.
committed = pytest.mark.django_db(transaction=True)


def active_claims(data_request):
    return list(Claim.objects.filter(data_request=data_request, status="active").order_by("created_at"))


def notifications_to(user, kind):
    return list(Notification.objects.filter(user=user, kind=kind))


def test_first_claim_leads_later_ones_collaborate(requester, volunteer, public_category):
    data_request = make_request(requester, public_category)
    lead = services.request_claim(actor=volunteer, data_request_id=data_request.pk, plan="Fit a gamma distribution",
                                  expected_date=timezone.localdate() + datetime.timedelta(days=3))
    helper = UserFactory(roles=[Role.VOLUNTEER])
    collaborator = services.request_claim(actor=helper, data_request_id=data_request.pk)
    assert (lead.role, collaborator.role) == (Claim.Role.LEAD, Claim.Role.COLLABORATOR)
    data_request.refresh_from_db()
    assert data_request.state == State.CLAIMED
    assert list(data_request.events.values_list("kind", flat=True))[-2:] == ["claimed", "joined"]


def test_claiming_twice_is_refused(requester, volunteer, public_category):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    with pytest.raises(ValidationError, match="already claimed"):
        services.request_claim(actor=volunteer, data_request_id=data_request.pk)
    assert len(active_claims(data_request)) == 1


def test_claiming_above_the_limit_is_refused(settings, requester, volunteer, public_category):
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 2
    for number in range(2):
        make_claimed(requester, volunteer, public_category, title=f"Request {number}")
    third = make_request(requester, public_category, title="One too many")
    with pytest.raises(ValidationError) as raised:
        services.request_claim(actor=volunteer, data_request_id=third.pk)
    assert "2 active claims" in raised.value.messages[0]
    third.refresh_from_db()
    assert third.state == State.OPEN and not active_claims(third)


def test_a_past_expected_date_is_refused(requester, volunteer, public_category):
    data_request = make_request(requester, public_category)
    with pytest.raises(ValidationError) as raised:
        services.request_claim(actor=volunteer, data_request_id=data_request.pk,
                               expected_date=datetime.date(2020, 1, 1))
    assert "expected_date" in raised.value.message_dict and not active_claims(data_request)


def test_people_without_the_volunteer_role_cannot_claim(requester, member, public_category):
    data_request = make_request(requester, public_category)
    with pytest.raises(PermissionDenied, match="volunteer"):
        services.request_claim(actor=member, data_request_id=data_request.pk)


def test_requesters_cannot_claim_their_own_request(requester, public_category):
    requester_and_volunteer = UserFactory(roles=[Role.REQUESTER, Role.VOLUNTEER])
    data_request = make_request(requester_and_volunteer, public_category)
    with pytest.raises(PermissionDenied, match="your own"):
        services.request_claim(actor=requester_and_volunteer, data_request_id=data_request.pk)


def test_requests_waiting_for_anonymization_cannot_be_claimed(requester, volunteer, public_category,
                                                              anonymization_category):
    data_request = make_request(requester, public_category, patient_data="yes")
    with pytest.raises(PermissionDenied, match="anonymization"):
        services.request_claim(actor=volunteer, data_request_id=data_request.pk)


def test_volunteer_unclaims_and_the_request_reopens(requester, volunteer, public_category):
    data_request, claim = make_claimed(requester, volunteer, public_category)
    services.claim_release(actor=volunteer, claim_id=claim.pk)
    claim.refresh_from_db()
    data_request.refresh_from_db()
    assert claim.status == Claim.Status.UNCLAIMED and data_request.state == State.OPEN
    with pytest.raises(services.InvalidTransition, match="already ended"):
        services.claim_release(actor=volunteer, claim_id=claim.pk)


@committed
@pytest.mark.parametrize("who", ["requester", "moderator"])
def test_requester_and_moderators_release_a_claim_and_the_volunteer_is_told(requester, volunteer, moderator,
                                                                             public_category, who):
    data_request, claim = make_claimed(requester, volunteer, public_category)
    mail.outbox.clear()
    services.claim_release(actor={"requester": requester, "moderator": moderator}[who], claim_id=claim.pk)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.RELEASED
    assert len(notifications_to(volunteer, NoticeKind.CLAIM_EXPIRED)) == 1
    assert [message.to for message in mail.outbox] == [[volunteer.email]]


def test_others_cannot_release_a_claim(requester, volunteer, public_category):
    data_request, claim = make_claimed(requester, volunteer, public_category)
    stranger = UserFactory(roles=[Role.VOLUNTEER])
    with pytest.raises(PermissionDenied):
        services.claim_release(actor=stranger, claim_id=claim.pk)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACTIVE


def test_when_the_lead_leaves_the_longest_standing_collaborator_leads(requester, volunteer, public_category):
    data_request, lead = make_claimed(requester, volunteer, public_category)
    first, second = UserFactory(roles=[Role.VOLUNTEER]), UserFactory(roles=[Role.VOLUNTEER])
    services.request_claim(actor=first, data_request_id=data_request.pk)
    services.request_claim(actor=second, data_request_id=data_request.pk)
    services.claim_release(actor=volunteer, claim_id=lead.pk)
    roles = {claim.volunteer_id: claim.role for claim in active_claims(data_request)}
    assert roles == {first.pk: Claim.Role.LEAD, second.pk: Claim.Role.COLLABORATOR}
    data_request.refresh_from_db()
    assert data_request.state == State.CLAIMED


def test_citizen_science_claims_are_parts(requester, volunteer, citizen_science_category):
    data_request = make_request(requester, citizen_science_category)
    services.request_claim(actor=volunteer, data_request_id=data_request.pk, part="images 1-50")
    other = UserFactory(roles=[Role.VOLUNTEER])
    with pytest.raises(ValidationError) as raised:
        services.request_claim(actor=other, data_request_id=data_request.pk, part="Images 1-50")
    assert "already doing" in raised.value.message_dict["part"][0]
    with pytest.raises(ValidationError) as raised:
        services.request_claim(actor=other, data_request_id=data_request.pk)
    assert "part" in raised.value.message_dict
    services.request_claim(actor=other, data_request_id=data_request.pk, part="images 51-100")
    assert {claim.role for claim in active_claims(data_request)} == {Claim.Role.PARTICIPANT}
    assert len(active_claims(data_request)) == 2


@committed
def test_claiming_tells_the_requester_once(requester, volunteer, public_category):
    mail.outbox.clear()
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    [notification] = Notification.objects.all()
    assert (notification.user, notification.kind, notification.actor, notification.topic_id) == (
        requester, NoticeKind.CLAIMED, volunteer, data_request.topic_id)
    assert [message.to for message in mail.outbox] == [[requester.email]]
    [message] = mail.outbox
    assert "claimed" in message.subject and data_request.topic.title in message.subject
    assert [mimetype for _content, mimetype in message.alternatives] == ["text/html"]
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    email = OutboundEmail.objects.get()
    assert (email.notification, email.status) == (notification, OutboundEmail.Status.SENT)
    assert email.sent_at is not None


# --- Expiry -----------------------------------------------------------------------

@pytest.fixture
def quiet_claim(settings, requester, volunteer, public_category):
    settings.REQUESTS_CLAIM_REMIND_AFTER_DAYS = 7
    settings.REQUESTS_CLAIM_RELEASE_AFTER_DAYS = 3
    watcher = UserFactory(roles=[Role.VOLUNTEER])
    data_request, claim = make_claimed(requester, volunteer, public_category)
    forum_services.notification_level_set(
        user=watcher, topic=data_request.topic, level=NotificationLevel.WATCHING
    )
    mail.outbox.clear()
    return data_request, claim, watcher


def emails_to(user):
    return [message for message in mail.outbox if message.to == [user.email]]


@committed
def test_quiet_claims_are_reminded_once_then_released_once(quiet_claim, requester, volunteer):
    data_request, claim, watcher = quiet_claim
    # A released claim goes into the digest by default; this watcher asked for an email at once.
    forum_services.email_preference_set(user=watcher, kind=NoticeKind.CLAIM_RELEASED, delivery=Delivery.IMMEDIATELY)
    now = timezone.now()
    with time_machine.travel(now + datetime.timedelta(days=6), tick=False):
        assert tasks.expire_claims() == {"reminded": 0, "released": 0}
    with time_machine.travel(now + datetime.timedelta(days=7, hours=1), tick=False):
        assert tasks.expire_claims() == {"reminded": 1, "released": 0}
        assert tasks.expire_claims() == {"reminded": 0, "released": 0}
    assert len(emails_to(volunteer)) == 1 and "Reminder" in emails_to(volunteer)[0].subject
    with time_machine.travel(now + datetime.timedelta(days=9), tick=False):
        assert tasks.expire_claims() == {"reminded": 0, "released": 0}
    with time_machine.travel(now + datetime.timedelta(days=10, hours=2), tick=False):
        assert tasks.expire_claims() == {"reminded": 0, "released": 1}
        assert tasks.expire_claims() == {"reminded": 0, "released": 0}
    claim.refresh_from_db()
    data_request.refresh_from_db()
    assert claim.status == Claim.Status.EXPIRED and data_request.state == State.OPEN
    assert len(emails_to(volunteer)) == 2  # the reminder, then "your claim was released"
    assert len(notifications_to(volunteer, NoticeKind.CLAIM_REMINDER)) == 1
    assert len(notifications_to(volunteer, NoticeKind.CLAIM_EXPIRED)) == 1
    # The requester and the watcher are told once each; only the watcher wanted an email at once,
    # the requester's waits for their digest (the kind's default).
    assert len(notifications_to(watcher, NoticeKind.CLAIM_RELEASED)) == 1
    assert len(notifications_to(requester, NoticeKind.CLAIM_RELEASED)) == 1
    assert len(emails_to(watcher)) == 1 and len(emails_to(requester)) == 0
    assert not OutboundEmail.objects.filter(user=requester, kind=NoticeKind.CLAIM_RELEASED).exists()
    kinds = list(RequestEvent.objects.filter(data_request=data_request).values_list("kind", flat=True))
    assert kinds.count("reminded") == 1 and kinds.count("expired") == 1


@committed
def test_a_reminder_shows_in_the_history_at_once(client, quiet_claim, requester):
    """The panel's shared reads and the anonymous page are kept until a write to the topic: the
    reminder, written by the worker, is one."""
    data_request, _claim, _watcher = quiet_claim
    url = data_request.topic.get_absolute_url()
    reminded = str(RequestEvent.Kind.REMINDED.label)
    member = Client()
    member.force_login(requester)
    assert reminded not in client.get(url).content.decode()
    assert reminded not in member.get(url).content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, hours=1), tick=False):
        assert tasks.expire_claims() == {"reminded": 1, "released": 0}
    assert reminded in client.get(url).content.decode()
    assert reminded in member.get(url).content.decode()


@committed
def test_an_update_restarts_the_clock(quiet_claim, volunteer):
    data_request, claim, _watcher = quiet_claim
    now = timezone.now()
    with time_machine.travel(now + datetime.timedelta(days=8), tick=False):
        tasks.expire_claims()
        services.update_post(actor=volunteer, data_request_id=data_request.pk, raw="Still on it.")
    with time_machine.travel(now + datetime.timedelta(days=12), tick=False):
        assert tasks.expire_claims() == {"reminded": 0, "released": 0}
    with time_machine.travel(now + datetime.timedelta(days=15, hours=1), tick=False):
        assert tasks.expire_claims() == {"reminded": 1, "released": 0}
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACTIVE
    assert len(emails_to(volunteer)) == 2  # one reminder per quiet spell


@committed
def test_a_retried_notice_is_sent_once(quiet_claim, volunteer):
    _data_request, claim, _watcher = quiet_claim
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8), tick=False):
        tasks.expire_claims()
    email = OutboundEmail.objects.get(kind=NoticeKind.CLAIM_REMINDER)
    assert email.status == OutboundEmail.Status.SENT  # sent after commit
    assert forum_tasks.send_emails(email_ids=[email.pk]) == {"not due": 1}
    assert forum_tasks.send_due_emails(older_than_seconds=0) == 0
    assert len(emails_to(volunteer)) == 1


def test_unsent_notices_are_sent_by_the_sweeper(requester, volunteer, public_category,
                                                django_capture_on_commit_callbacks):
    data_request = make_request(requester, public_category)
    mail.outbox.clear()
    # The broker lost the message: the email row exists, nothing was sent.
    with django_capture_on_commit_callbacks(execute=False):
        services.request_claim(actor=volunteer, data_request_id=data_request.pk)
    assert not mail.outbox
    assert OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, kind=NoticeKind.CLAIMED).count() == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10), tick=False):
        assert forum_tasks.send_due_emails() == 1
        assert forum_tasks.send_due_emails() == 0
    assert [message.to for message in mail.outbox] == [[requester.email]]
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT


def _send_to_anonymization(requester, volunteer, public_category):
    data_request, claim = make_claimed(requester, volunteer, public_category, title="Ward seven synthetic cohort")
    mail.outbox.clear()
    services.request_edit(actor=requester, data_request_id=data_request.pk, details={
        **{key: value for key, value in _details(public_category).items() if key != "title"},
        "title": "Ward seven synthetic cohort", "patient_data": "yes",
    })
    claim.refresh_from_db()
    data_request.refresh_from_db()
    assert claim.status == Claim.Status.RELEASED and data_request.state == State.OPEN
    return data_request


@committed
def test_sending_a_request_to_anonymization_ends_claims_without_naming_it(client, requester, volunteer,
                                                                          public_category, anonymization_category):
    _send_to_anonymization(requester, volunteer, public_category)
    assert len(notifications_to(volunteer, NoticeKind.REQUEST_ENDED)) == 1
    # The email owed says the claim ended, never what the request is about.
    email = OutboundEmail.objects.get(user=volunteer, kind=NoticeKind.REQUEST_ENDED)
    assert not email.shows_content
    assert "Ward seven" not in email.subject + email.text_body + email.html_body
    assert "Ward seven" not in "".join(message.subject + message.body for message in mail.outbox)
    # Nor does the volunteer's list of notifications, now that the request is in a private channel.
    sign_in(client, volunteer)
    assert "Ward seven" not in client.get(reverse("forum:notification-list")).content.decode()


@committed
def test_sending_a_request_to_anonymization_tells_the_volunteer_their_claim_ended(
        requester, volunteer, public_category, anonymization_category):
    _send_to_anonymization(requester, volunteer, public_category)
    assert [message.to for message in mail.outbox] == [[volunteer.email]]


def _details(category):
    from tests.requests_board.factories import request_details

    return request_details(category)
