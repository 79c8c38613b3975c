"""Notification emails, one-click unsubscribe, digests and the newsletter, on a real worker over SMTP.

Each test starts its own `celery worker` processes (production settings, the
test database and broker) sending to an aiosmtpd server of this module, whose
handler can hold one chosen message before accepting it: that lets a test kill
a worker while the server has the message but has not accepted it. A message
counts as received only when the handler answers 250.

While this module runs, the session's shared worker (tests/integration/conftest.py),
if another module started it, stops consuming, so every task goes to the workers
started here.
"""
import asyncio
import datetime
import email
import email.policy
import itertools
import json
import os
import re
import signal
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from config.celery import app
from forum import tasks
from forum.models import DigestDelivery, DigestSubscription, Notification, OutboundEmail
from forum.notifications import DIGEST, MENTIONED, NEWSLETTER_CONFIRM, REPLIED
from forum.permissions import Role
from forum.services import digests_due, post_create
from tests.forum.factories import TopicFactory, UserFactory
from tests.integration.conftest import (
    ARTIFACTS,
    _free_port,
    _services_available,
    _start_worker,
    _stop,
    _worker_env,
)
from tests.requests_board.factories import make_request

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUEUE = "celery"
WAIT = 60  # seconds; every wait ends as soon as its condition holds


def _wait(condition, *, what: str, timeout: float = WAIT, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


# --- The SMTP server ----------------------------------------------------------------

class HoldingInbox:
    """An aiosmtpd handler that records accepted messages and can hold one before answering.

    `hold(nth, recipients)` makes the nth message (from then on) addressed to one of
    `recipients` wait in the handler: `held` is set when it arrives; if the client's
    connection ends meanwhile, `dropped` is set and nothing is recorded; `release()`
    lets a held message go on (accepted only if its client is still connected).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.messages: list[tuple[list[str], str]] = []  # (envelope recipients, raw message), accepted only
        self.reset()

    def reset(self):
        with self._lock:
            self.messages.clear()
            self._hold_at = None
            self._hold_for: set[str] = set()
            self._matching = 0
            self.held = threading.Event()
            self.dropped = threading.Event()
            self._release = threading.Event()

    def hold(self, nth: int, recipients) -> None:
        with self._lock:
            self._hold_at, self._hold_for, self._matching = nth, {r.lower() for r in recipients}, 0

    def release(self) -> None:
        self._release.set()

    def _should_hold(self, recipients) -> bool:
        with self._lock:
            if self._hold_at is None or not {r.lower() for r in recipients} & self._hold_for:
                return False
            self._matching += 1
            return self._matching == self._hold_at

    async def handle_DATA(self, server, session, envelope):
        recipients = list(envelope.rcpt_tos)
        if self._should_hold(recipients):
            self.held.set()
            try:
                # Wait in a thread, so the server goes on serving other connections meanwhile.
                await asyncio.to_thread(self._release.wait, WAIT * 2)
            except asyncio.CancelledError:  # aiosmtpd cancels a session whose client went away
                self.dropped.set()
                raise
            if server.transport is None or server.transport.is_closing():
                self.dropped.set()
                return "421 4.4.2 Connection dropped"
        with self._lock:
            self.messages.append((recipients, envelope.content.decode("utf8", "replace")))
        return "250 Message accepted for delivery"

    def received(self, address: str | None = None) -> list[email.message.EmailMessage]:
        with self._lock:
            raw = [message for recipients, message in self.messages if address is None or address in recipients]
        return [email.message_from_string(message, policy=email.policy.default) for message in raw]


@pytest.fixture(scope="module")
def mail_server():
    from aiosmtpd.controller import Controller

    inbox = HoldingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        inbox.release()
        controller.stop()


# --- Workers ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def _shared_worker_paused():
    """The session's worker, if running, stops taking tasks from the queue while this module runs."""
    shared = f"integration-{os.getpid()}@{socket.gethostname()}"
    app.control.cancel_consumer(QUEUE, destination=[shared], reply=True, timeout=2)
    try:
        yield
    finally:
        app.control.add_consumer(QUEUE, destination=[shared], reply=True, timeout=2)


class Workers:
    """`celery worker` processes like production's default one (solo pool, late acks), each in a
    process group of its own; stopped after the test."""

    _numbers = itertools.count(1)

    def __init__(self, env: dict):
        self.env = env
        self.processes = []

    def start(self):
        number = next(self._numbers)
        log_path = ARTIFACTS / f"celery-notification-worker-{number}.log"
        process = _start_worker(
            ["--pool", "solo", "-Q", QUEUE], env=self.env, log_path=log_path,
            nodename=f"notifications-{os.getpid()}-{number}@{socket.gethostname()}",
        )
        process.log_path = log_path
        self.processes.append(process)
        return process

    def stop_all(self):
        for process in self.processes:
            _stop(process)


@pytest.fixture
def notification_workers(_shared_worker_paused, mail_server, transactional_db):
    reason = _services_available()
    if reason:
        pytest.fail(f"REQUIRE_SERVICES is set but {reason}")
    controller, inbox = mail_server
    workers = Workers(_worker_env(
        controller,
        # The web process and the worker sign unsubscribe links with the same key, as in production.
        SECRET_KEY=settings.SECRET_KEY,
        # Emails go out at once (production waits, so that what was read meanwhile is not sent).
        NOTIFICATIONS_EMAIL_DELAY_SECONDS="0",
    ))
    app.control.purge()
    inbox.reset()
    app.conf.task_always_eager = False
    try:
        yield workers, inbox
    finally:
        app.conf.task_always_eager = True
        inbox.release()
        workers.stop_all()
        app.control.purge()


_sentinels = itertools.count(1)


def _drain(inbox: HoldingInbox, rounds: int = 2) -> None:
    """Wait until the worker has run every task queued so far, and those they queued in turn.

    One worker with the solo pool and a prefetch of one runs tasks in queue order: once a
    welcome email queued now arrives, everything queued before it has run.
    """
    for _round in range(rounds):
        number = next(_sentinels)
        sentinel = UserFactory(username=f"sentinel{number}", email=f"sentinel{number}@example.net")
        tasks.send_welcome_email.delay(user_id=sentinel.pk)
        _wait(lambda sentinel=sentinel: inbox.received(sentinel.email), what="the worker to run the queued tasks")


def _to(message) -> str:
    return message["To"].addresses[0].addr_spec


def _not_sentinel(messages) -> list[str]:
    """The recipient of each message, leaving out _drain's."""
    return [_to(m) for m in messages if not _to(m).startswith("sentinel")]


def _part(message, content_type: str) -> str:
    part = message.get_body(preferencelist=(content_type.split("/")[1],))
    assert part is not None and part.get_content_type() == content_type, f"no {content_type} part"
    return part.get_content()


# --- A reply, its email, and one-click unsubscribe -----------------------------------

def test_reply_is_emailed_once_and_one_click_unsubscribe_stops_the_next(notification_workers, public_category):
    workers, inbox = notification_workers
    workers.start()
    member = UserFactory(email="member.testpatient@example.org", display_name="Mia Member")
    replier = UserFactory(display_name="Ray Replier")
    witness = UserFactory(username="wendy_witness", email="wendy.witness@example.org")
    topic = TopicFactory(category=public_category, author=member, title="Synthetic cohort sizes")

    first = post_create(actor=replier, topic_id=topic.pk, raw="Forty synthetic cases should do.", reply_to_number=1)
    messages = _wait(lambda: inbox.received(member.email), what="the reply's email")
    _drain(inbox)

    notifications = list(Notification.objects.filter(user=member))
    assert [(n.kind, n.post_id) for n in notifications] == [(REPLIED, first.pk)]
    assert len(messages) == 1
    assert _not_sentinel(inbox.received()) == [member.email]
    message = messages[0]
    assert message.get_content_type() == "multipart/alternative"
    assert "Ray Replier replied in" in _part(message, "text/plain")
    assert "Synthetic cohort sizes" in _part(message, "text/html")
    unsubscribe = re.fullmatch(r"<(https?://[^>]+)>", str(message["List-Unsubscribe"]).strip())  # may be folded
    assert unsubscribe, message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # A mail client's one-click POST (RFC 8058): no session, no CSRF token, only the signed link.
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        urlsplit(unsubscribe.group(1)).path, data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert b"Done: you will no longer get emails about" in response.content

    inbox.reset()
    second = post_create(
        actor=replier, topic_id=topic.pk, raw="And @wendy_witness agrees.", reply_to_number=1,
    )
    # The same post is emailed to the witness, who did not unsubscribe: the worker did its work.
    _wait(lambda: inbox.received(witness.email), what="the witness's email about the second reply")
    tasks.send_due_emails.delay(older_than_seconds=0)  # what beat does: anything owed and due goes now
    _drain(inbox)

    assert inbox.received(member.email) == []
    assert _not_sentinel(inbox.received()) == [witness.email]
    told = Notification.objects.get(user=member, post=second)
    assert (told.kind, told.read_at) == (REPLIED, None)
    assert Notification.objects.get(user=witness, post=second).kind == MENTIONED
    assert not OutboundEmail.objects.filter(notification=told).exists()
    # The notification still shows under the bell.
    member_client = Client()
    member_client.force_login(member)
    assert member_client.get("/my/notifications/count.json").json()["unread"] == 2


# --- Digests --------------------------------------------------------------------------

def _subscribers(prefix: str, accounts: int, newsletter: int) -> list[DigestSubscription]:
    """Confirmed subscriptions whose digest is due now: daily digests of accounts at 00:00 UTC, and
    weekly newsletters on Mondays at 00:00 UTC (due any time of the week)."""
    now = timezone.now()
    subscriptions = []
    for number in range(accounts):
        user = UserFactory(username=f"{prefix}_account{number}", email=f"{prefix}.account{number}@example.org")
        subscriptions.append(DigestSubscription.objects.create(
            user=user, frequency=DigestSubscription.Frequency.DAILY, hour=0, time_zone="UTC", confirmed_at=now))
    for number in range(newsletter):
        subscriptions.append(DigestSubscription.objects.create(
            email=f"{prefix}.reader{number}@example.net", frequency=DigestSubscription.Frequency.WEEKLY,
            weekday=0, hour=0, time_zone="UTC", confirmed_at=now))
    return subscriptions


def _news(public_category) -> None:
    """Something every digest tells: a public request, new this period, due within a week, unclaimed."""
    deadline = timezone.localdate() + datetime.timedelta(days=3)
    make_request(UserFactory(roles=[Role.REQUESTER]), public_category, deadline=deadline)


def _digests_by_address(inbox) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in inbox.received():
        if "digest" in message["Subject"]:
            address = _to(message)
            counts[address] = counts.get(address, 0) + 1
    return counts


def _assert_one_digest_each(inbox, subscriptions) -> None:
    addresses = {subscription.address: 1 for subscription in subscriptions}
    assert _digests_by_address(inbox) == addresses
    for message in inbox.received():
        if "digest" in message["Subject"]:
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert "Due within a week" in _part(message, "text/plain")
    deliveries = list(DigestDelivery.objects.values_list("subscription_id", flat=True))
    assert sorted(deliveries) == sorted(subscription.pk for subscription in subscriptions)
    emails = OutboundEmail.objects.filter(kind=DIGEST)
    assert sorted(emails.values_list("to", flat=True)) == sorted(addresses)
    assert set(emails.values_list("status", "attempts")) == {(OutboundEmail.Status.SENT, 1)}


def test_digests_run_twice_reach_every_subscriber_once(notification_workers, public_category):
    workers, inbox = notification_workers
    workers.start()
    subscriptions = _subscribers("twice", accounts=3, newsletter=3)
    _news(public_category)
    _drain(inbox, rounds=1)

    tasks.send_digests.delay()
    tasks.send_digests.delay()  # beat firing twice, or two beats
    _wait(lambda: len(_digests_by_address(inbox)) == len(subscriptions), what="a digest for every subscriber")
    _drain(inbox)

    _assert_one_digest_each(inbox, subscriptions)
    assert digests_due() == []


def _unacked_digest_batches() -> list[str]:
    """Delivery tags of send_digest_batch messages a dead worker left unacknowledged in Redis."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        return [
            tag.decode() for tag, raw in channel.client.hgetall(channel.unacked_key).items()
            if json.loads(raw)[0].get("headers", {}).get("task") == "forum.tasks.send_digest_batch"
        ]


def _drop_unacked(tags) -> None:
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for tag in tags:
            channel.client.pipeline().zrem(channel.unacked_index_key, tag).hdel(channel.unacked_key, tag).execute()


def test_digest_run_killed_mid_batch_completes_with_one_digest_each(notification_workers, public_category):
    workers, inbox = notification_workers
    first = workers.start()
    subscriptions = _subscribers("crash", accounts=3, newsletter=3)
    addresses = [subscription.address for subscription in subscriptions]
    _news(public_category)
    _drain(inbox, rounds=1)

    held_at = 3
    inbox.hold(held_at, addresses)
    tasks.send_digests.delay()
    _wait(inbox.held.is_set, what=f"digest {held_at} to reach the SMTP server")
    # Every digest was made before sending began; the ones before the held one are sent and recorded.
    assert DigestDelivery.objects.count() == len(subscriptions)
    statuses = sorted(OutboundEmail.objects.filter(kind=DIGEST).values_list("status", flat=True))
    assert statuses.count(OutboundEmail.Status.SENT) == held_at - 1
    assert statuses.count(OutboundEmail.Status.PENDING) == len(subscriptions) - (held_at - 1)
    assert sum(_digests_by_address(inbox).values()) == held_at - 1

    # The worker dies while the server holds the message: it is never accepted.
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=20)
    _wait(inbox.dropped.is_set, what="the server to see the connection end")
    inbox.release()
    assert sum(_digests_by_address(inbox).values()) == held_at - 1
    orphaned = _unacked_digest_batches()
    assert len(orphaned) == 1  # acknowledged late: Redis keeps it for its visibility timeout (hours)

    try:
        workers.start()
        assert digests_due() == []  # every digest of this period is made: none is made again
        tasks.send_digests.delay()
        tasks.send_due_emails.delay(older_than_seconds=0)  # what beat does
        _wait(lambda: sum(_digests_by_address(inbox).values()) >= len(subscriptions),
              what="the rest of the digests")
        _drain(inbox)
        _assert_one_digest_each(inbox, subscriptions)
    finally:
        _drop_unacked(orphaned)


# --- The newsletter's double opt-in ---------------------------------------------------

def test_newsletter_sends_only_the_confirmation_until_confirmed_then_digests(notification_workers, public_category):
    workers, inbox = notification_workers
    workers.start()
    reader = "newsletter.reader@example.net"
    _news(public_category)
    _drain(inbox, rounds=1)

    response = Client().post("/newsletter/", {"email": reader})
    assert response.status_code == 200
    assert b"we sent you a link to confirm" in response.content
    confirmation = _wait(lambda: inbox.received(reader), what="the confirmation email")
    tasks.send_digests.delay()  # a digest run while the address is unconfirmed
    _drain(inbox)

    assert len(confirmation) == 1 and _not_sentinel(inbox.received()) == [reader]
    assert "Confirm your subscription" in confirmation[0]["Subject"]
    subscription = DigestSubscription.objects.get(email=reader)
    assert subscription.confirmed_at is None
    assert not DigestDelivery.objects.filter(subscription=subscription).exists()
    assert list(OutboundEmail.objects.filter(to=reader).values_list("kind", flat=True)) == [NEWSLETTER_CONFIRM]

    # Following the link: the page asks first (link scanners only GET), the button confirms.
    link = re.search(r"https?://\S+/newsletter/confirm/\S+/", _part(confirmation[0], "text/plain")).group(0)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(urlsplit(link).path)
    assert page.status_code == 200
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    confirmed = browser.post(urlsplit(link).path, {"csrfmiddlewaretoken": token})
    assert confirmed.status_code == 200
    assert b"Confirmed:" in confirmed.content
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None
    # The newsletter goes out on Mondays at 08:00 UTC; make this week's due now.
    DigestSubscription.objects.filter(pk=subscription.pk).update(weekday=0, hour=0)

    tasks.send_digests.delay()
    _wait(lambda: len(inbox.received(reader)) == 2, what="the newsletter after confirmation")
    _drain(inbox)
    received = inbox.received(reader)
    assert len(received) == 2
    assert "weekly digest" in received[1]["Subject"]
    assert "New requests" in _part(received[1], "text/plain")
    assert DigestDelivery.objects.filter(subscription=subscription).count() == 1
