"""The email outbox: which notifications are emailed and how, one-click unsubscribing, nothing
sent that was read meanwhile or is private, and what happens when the mail server fails."""
import datetime
import smtplib
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.mail.backends import smtp
from django.core.mail.utils import DNS_NAME
from django.urls import resolve
from django.utils import timezone

from anonymization import services as anonymization_services
from anonymization.notifications import ReviewKind
from forum import services
from forum.models import MailboxStatus, Notification, OutboundEmail
from forum.notifications import LIKED, MENTIONED, POSTED, REPLIED, Delivery
from forum.services import mail
from requests_board import services as request_services
from tests.anonymization import files
from tests.forum.factories import TopicFactory
from tests.requests_board.factories import make_claimed, make_request

from .notification_factories import committed, emails_to, reply, told, watch

pytestmark = pytest.mark.django_db
Status = OutboundEmail.Status
SITE = "https://helpdesk.example.org"


@pytest.fixture(autouse=True)
def _https_site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def topic(public_category, requester):
    return committed(TopicFactory, category=public_category, author=requester, title="Public synthetic request")


def messages_to(mailoutbox, user) -> list:
    return [message for message in mailoutbox if message.to == [user.email]]


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def token_from(message) -> str:
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    return resolve(urlsplit(url).path).kwargs["token"]


# --- What is emailed, and how -----------------------------------------------------------------------

def test_a_notification_is_emailed_once_with_text_and_html_parts_unsubscribe_headers_and_why(
    topic, requester, member, volunteer, mailoutbox,
):
    post = reply(volunteer, topic, f"Could @{member.username} check the synthetic median of 5.1 days?")

    [message] = messages_to(mailoutbox, member)
    assert message.subject == f"{volunteer.name} mentioned you in “Public synthetic request”"
    assert "Could @" in message.body and "synthetic median of 5.1 days" in message.body
    assert f"{SITE}{post.get_absolute_url()}" in message.body
    html = html_of(message)
    assert "<strong>" in html and f'href="{SITE}{post.get_absolute_url()}"' in html
    for part in (message.body, html):
        assert "You get this email because of your notification settings" in part
        assert "Mentions of your @name" in part  # the kind that made it
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{SITE}/") and unsubscribe.endswith(">")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    rendered = message.message()
    assert rendered["List-Unsubscribe"] == unsubscribe
    assert rendered["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    [email] = emails_to(member)
    assert (email.status, email.kind, email.notification.user_id) == (Status.SENT, MENTIONED, member.pk)
    assert len(messages_to(mailoutbox, requester)) == 1  # the asker: a reply in their topic


def test_every_notification_wanted_at_once_gets_its_own_email(topic, requester, member, volunteer, mailoutbox):
    reply(volunteer, topic, f"Hello @{member.username}.")
    reply(volunteer, topic, f"Hello again @{member.username}.")
    assert len(messages_to(mailoutbox, member)) == 2
    assert len(messages_to(mailoutbox, requester)) == 2
    assert OutboundEmail.objects.filter(notification__isnull=False).count() == Notification.objects.count() == 4


@pytest.mark.parametrize("delivery", [Delivery.DIGEST, Delivery.NEVER])
def test_no_email_when_the_person_wants_the_kind_in_the_digest_or_never(topic, member, volunteer, mailoutbox, delivery):
    services.email_preference_set(user=member, kind=MENTIONED, delivery=delivery)
    reply(volunteer, topic, f"Hello @{member.username}.")
    assert [n.kind for n in told(member)] == [MENTIONED]
    assert emails_to(member) == [] and messages_to(mailoutbox, member) == []


def test_no_email_for_kinds_whose_default_is_the_digest_or_never(topic, public_category, member, volunteer,
                                                                 mailoutbox):
    watch(member, category=public_category)
    post = reply(volunteer, topic)
    services.post_like(actor=member, post_id=post.pk)
    assert [n.kind for n in told(member)] == [POSTED]
    assert [n.kind for n in told(volunteer)] == [LIKED]
    assert emails_to(member) == [] and emails_to(volunteer) == []
    assert messages_to(mailoutbox, member) == messages_to(mailoutbox, volunteer) == []


def test_the_unsubscribe_link_of_an_email_stops_that_kind_only(topic, member, volunteer, mailoutbox):
    reply(volunteer, topic, f"Hello @{member.username}.")
    [message] = messages_to(mailoutbox, member)

    assert services.unsubscribe_apply(token=token_from(message)) == MENTIONED
    assert services.unsubscribe_apply(token=token_from(message)) == MENTIONED  # twice is harmless
    deliveries = {kind: mail.email_deliveries(user_ids=[member.pk], kind=kind)[member.pk]
                  for kind in (MENTIONED, REPLIED)}
    assert deliveries == {MENTIONED: Delivery.NEVER, REPLIED: Delivery.IMMEDIATELY}

    mailoutbox.clear()
    answer = reply(member, topic)
    reply(volunteer, topic, f"Hello once more @{member.username}.")
    reply(volunteer, topic, "A reply to the member.", reply_to_number=answer.number)
    assert [message.subject for message in messages_to(mailoutbox, member)] == [
        f"{volunteer.name} replied in “Public synthetic request”"]


def test_a_tampered_or_foreign_unsubscribe_token_is_refused(member):
    token = mail.unsubscribe_token(kind=MENTIONED, user_id=member.pk)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    foreign = signing.dumps({"k": MENTIONED, "u": member.pk}, salt="another.salt", compress=True)
    for bad in (tampered, foreign, "not-a-token"):
        with pytest.raises(signing.BadSignature):
            services.unsubscribe_apply(token=bad)
    assert mail.email_deliveries(user_ids=[member.pk], kind=MENTIONED)[member.pk] == Delivery.IMMEDIATELY


# --- Read meanwhile, private content ----------------------------------------------------------------

@pytest.fixture
def delayed(settings):
    settings.NOTIFICATIONS_EMAIL_DELAY_SECONDS = 300


def send_now(email):
    """The delay has passed: send it as the worker would."""
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    return services.emails_send(email_ids=[email.pk])


def test_an_email_is_skipped_when_its_notification_was_read_before_sending(delayed, topic, member, volunteer,
                                                                          mailoutbox):
    reply(volunteer, topic, f"Hello @{member.username}.")
    [email] = emails_to(member)
    assert email.status == Status.PENDING and email.next_attempt_at > timezone.now()
    assert services.emails_due() == []

    services.notification_open(user=member, notification_id=email.notification_id)
    assert send_now(email) == {"skipped": 1}
    email.refresh_from_db()
    assert email.status == Status.SKIPPED and email.last_error == "read on the site" and email.sent_at is None
    assert messages_to(mailoutbox, member) == []


def test_an_email_is_skipped_when_the_topic_was_read_past_its_post_before_sending(delayed, topic, member,
                                                                                 volunteer, mailoutbox):
    post = reply(volunteer, topic, f"Hello @{member.username}.")
    [email] = emails_to(member)
    services.topic_mark_read(user=member, topic=topic, number=post.number)
    assert send_now(email) == {"skipped": 1}
    assert messages_to(mailoutbox, member) == []


def test_an_unread_delayed_email_is_sent_once_due(delayed, topic, member, volunteer, mailoutbox):
    reply(volunteer, topic, f"Hello @{member.username}.")
    [email] = emails_to(member)
    assert send_now(email) == {"sent": 1}
    assert send_now(email) == {"not due": 1}  # a second worker finds it sent
    assert len(messages_to(mailoutbox, member)) == 1


def test_an_email_about_a_private_topic_has_no_title_or_excerpt(private_topic, requester, anonymizer, mailoutbox):
    reply(anonymizer, private_topic, "The synthetic column patient_name still holds names.")
    [message] = messages_to(mailoutbox, requester)
    [notification] = told(requester)
    assert notification.kind == REPLIED
    for part in (message.subject, message.body, html_of(message)):
        assert "Private synthetic request" not in part
        assert "patient_name" not in part and "holds names" not in part
    assert message.subject == f"{anonymizer.name} replied in “a private topic”"


def test_a_result_held_for_its_license_is_never_quoted_in_an_email(requester, volunteer, public_category, member,
                                                                   mailoutbox):
    data_request, _claim = committed(make_claimed, author=requester, volunteer=volunteer, category=public_category)
    watch(member, category=public_category)
    services.email_preference_set(user=member, kind="result_delivered", delivery=Delivery.IMMEDIATELY)
    committed(request_services.result_deliver, actor=volunteer, data_request_id=data_request.pk,
              summary="Withheld synthetic summary text.", repository_url="https://github.com/example/incubation",
              license="GPL-3.0-only")
    owed = OutboundEmail.objects.filter(kind="result_delivered")
    # Held from them, the requester and the watcher are not even told of it (they are once it is released).
    assert not owed.exists()
    assert all(email.status != Status.SENT or "Withheld synthetic" not in email.text_body + email.html_body
               for email in owed)
    for message in mailoutbox:
        assert "Withheld synthetic" not in message.body + html_of(message)


def test_anonymization_notifications_never_carry_a_file_name_title_or_message(
    requester, public_category, private_category, anonymizer, mailoutbox,
):
    data_request = committed(make_request, author=requester, category=public_category, patient_data="yes")
    upload = committed(request_services.request_attach, actor=requester, data_request_id=data_request.pk,
                       file=files.uploaded("qz_synthetic_cohort.csv", files.identifying_columns_csv()),
                       ip="192.0.2.1")
    committed(anonymization_services.message_post, actor=anonymizer, upload_id=upload.pk,
              raw="Column patient_name lists row QZ-7.")
    committed(anonymization_services.upload_decide, actor=anonymizer, upload_id=upload.pk, decision="changes",
              reason="Drop the MRN column of the synthetic file.")

    notifications = list(Notification.objects.filter(kind__in=[ReviewKind.WAITING, ReviewKind.MESSAGE,
                                                                ReviewKind.DECIDED]))
    assert {(n.user_id, n.kind) for n in notifications} == {
        (anonymizer.pk, ReviewKind.WAITING), (requester.pk, ReviewKind.MESSAGE), (requester.pk, ReviewKind.DECIDED)}
    assert all(n.title == "" and n.topic_id is None and n.post_id is None for n in notifications)
    messages = [m for m in mailoutbox if m.subject in {
        "A file waits for your review", "A new message about a file under review",
        "A decision was made about your file"}]
    assert len(messages) == 3
    secrets = ("qz_synthetic_cohort", "QZ-7", "patient_name", "MRN", data_request.title)
    for message in messages:
        for part in (message.subject, message.body, html_of(message)):
            assert not any(secret in part for secret in secrets), part


# --- When the mail server fails ---------------------------------------------------------------------

class FakeSMTP:
    """Stands in for smtplib.SMTP behind Django's real SMTP backend: counts the connections
    opened and the messages offered, and refuses them with `error` when set."""

    connections = 0
    offered: list = []
    error: Exception | None = None

    def __init__(self, host=None, port=None, **kwargs):
        FakeSMTP.connections += 1

    def sendmail(self, from_addr, to_addrs, msg, *args, **kwargs):
        FakeSMTP.offered.append(list(to_addrs))
        if FakeSMTP.error is not None:
            raise FakeSMTP.error
        return {}

    def quit(self):
        return (221, b"Bye")

    def close(self):
        pass


class FakeSMTPBackend(smtp.EmailBackend):
    @property
    def connection_class(self):
        return FakeSMTP


@pytest.fixture
def smtp_server(settings, monkeypatch):
    settings.EMAIL_BACKEND = f"{__name__}.FakeSMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "smtp.example.org", 25
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    monkeypatch.setattr(DNS_NAME, "_fqdn", "helpdesk.example.org", raising=False)
    monkeypatch.setattr(FakeSMTP, "connections", 0)
    monkeypatch.setattr(FakeSMTP, "offered", [])
    monkeypatch.setattr(FakeSMTP, "error", None)
    return FakeSMTP


def owe(to="jane.testpatient@example.org", n=1):
    """Owe `n` plain emails to `to` (not queued: the test sends them)."""
    start = OutboundEmail.objects.count()
    return [
        OutboundEmail.objects.get(pk=services.email_owe(
            key=f"test:{start + i}", to=to, kind="test", subject=f"Synthetic message {start + i}",
            text_body="Synthetic text.", html_body="<p>Synthetic text.</p>", queue=False))
        for i in range(n)
    ]


def due_now(email):
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))


def test_a_dropped_connection_leaves_the_email_pending_for_a_later_attempt(smtp_server):
    smtp_server.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    [email] = owe()
    before = timezone.now()
    assert services.emails_send(email_ids=[email.pk]) == {"retry": 1}
    email.refresh_from_db()
    assert email.status == Status.PENDING and email.attempts == 1 and email.sent_at is None
    assert email.next_attempt_at >= before + datetime.timedelta(minutes=mail.RETRY_MINUTES[0])
    assert "SMTPServerDisconnected" in email.last_error
    assert services.emails_due() == []  # not before its time

    smtp_server.error = None
    due_now(email)
    assert services.emails_due() == [email.pk]
    assert services.emails_send(email_ids=services.emails_due()) == {"sent": 1}
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (Status.SENT, 2, "")


def test_an_email_that_keeps_failing_is_marked_failed_after_the_last_retry(smtp_server):
    smtp_server.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    [email] = owe()
    for attempt in range(1, len(mail.RETRY_MINUTES) + 1):
        due_now(email)
        services.emails_send(email_ids=[email.pk])
        email.refresh_from_db()
        assert (email.status, email.attempts) == (Status.PENDING, attempt)
    due_now(email)
    assert services.emails_send(email_ids=[email.pk]) == {"failed": 1}
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.FAILED, len(mail.RETRY_MINUTES) + 1)
    assert "SMTPServerDisconnected" in email.last_error
    assert list(OutboundEmail.objects.filter(status=Status.FAILED)) == [email]  # stays visible
    assert services.emails_due() == []


def test_a_temporary_refusal_is_retried(smtp_server):
    [email] = owe()
    smtp_server.error = smtplib.SMTPRecipientsRefused({email.to: (451, b"4.2.1 Mailbox busy, try later")})
    assert services.emails_send(email_ids=[email.pk]) == {"retry": 1}
    email.refresh_from_db()
    assert email.status == Status.PENDING and not MailboxStatus.objects.filter(hard_failures__gt=0).exists()


def test_a_permanent_refusal_fails_at_once_and_repeated_ones_stop_email_to_the_address(smtp_server, settings):
    address = "Gone.Testpatient@example.org"
    smtp_server.error = smtplib.SMTPRecipientsRefused({address: (550, b"5.1.1 No such user")})
    limit = settings.EMAIL_HARD_FAILURES_BEFORE_FAILING
    for count in range(1, limit + 1):
        [email] = owe(address)
        assert services.emails_send(email_ids=[email.pk]) == {"failed": 1}
        email.refresh_from_db()
        assert email.status == Status.FAILED and email.attempts == 1 and "550" in email.last_error
        status = MailboxStatus.objects.get(email=address.lower())
        assert status.hard_failures == count
        assert (status.failing_since is not None) == (count == limit)

    smtp_server.error = None
    offered = len(smtp_server.offered)
    [later] = owe(address.lower())
    assert services.emails_send(email_ids=[later.pk]) == {"skipped": 1}
    later.refresh_from_db()
    assert later.status == Status.SKIPPED and later.last_error.startswith("address failing since")
    assert len(smtp_server.offered) == offered  # never offered to the server

    services.mailbox_clear(email=address)
    [cleared] = owe(address)
    assert services.emails_send(email_ids=[cleared.pk]) == {"sent": 1}


def test_emails_due_lists_pending_emails_whose_time_has_come(smtp_server):
    due, later, sent, failed = owe(n=4)
    OutboundEmail.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + datetime.timedelta(minutes=5))
    services.emails_send(email_ids=[sent.pk])
    smtp_server.error = smtplib.SMTPRecipientsRefused({failed.to: (550, b"5.1.1 No such user")})
    services.emails_send(email_ids=[failed.pk])
    assert services.emails_due() == [due.pk]


def test_one_connection_is_opened_per_batch(smtp_server):
    emails = owe(n=3)
    assert services.emails_send(email_ids=[email.pk for email in emails]) == {"sent": 3}
    assert len(smtp_server.offered) == 3
    assert smtp_server.connections == 1


def test_a_failed_email_is_sent_again_when_staff_retry_it(smtp_server):
    [email] = owe()
    smtp_server.error = smtplib.SMTPRecipientsRefused({email.to: (550, b"5.1.1 No such user")})
    services.emails_send(email_ids=[email.pk])
    smtp_server.error = None
    services.mailbox_clear(email=email.to)

    assert committed(services.emails_retry, email_ids=[email.pk]) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (Status.SENT, 1, "")
    assert smtp_server.offered[-1] == [email.to]


def test_retrying_leaves_a_sent_email_alone(smtp_server):
    [email] = owe()
    services.emails_send(email_ids=[email.pk])
    assert committed(services.emails_retry, email_ids=[email.pk]) == 0
    assert len(smtp_server.offered) == 1
