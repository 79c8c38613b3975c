"""Digests and the newsletter: when a digest is due in each time zone, who gets one, exactly one
per period, what it says (only what the reader may see, nothing held for its license), and the
newsletter's double opt-in."""
import datetime
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone

from forum import services, tasks
from forum.models import DigestDelivery, DigestSubscription, OutboundEmail, User
from forum.notifications import DIGEST, MENTIONED, NEWSLETTER_CONFIRM, Delivery
from forum.permissions import Role
from forum.selectors.digests import ITEMS_PER_SECTION, absolute, digest_sections
from forum.services import mail
from forum.services.digests import CONFIRM_SALT, TokenError
from licensing.models import LicensedItem
from requests_board import services as request_services
from requests_board.models import Result
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.requests_board.factories import make_claimed, make_delivered, make_request

from .notification_factories import committed, reply, watch

pytestmark = pytest.mark.django_db
Frequency = DigestSubscription.Frequency
UTC = datetime.UTC
MONDAY, SUNDAY = 0, 6
QUERY_BOUND = 11  # an account's digest, whatever its sections hold


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def schedule(user, frequency=Frequency.DAILY, *, weekday=MONDAY, hour=0, tz="UTC") -> DigestSubscription:
    """`user`'s digest (started as when their address was confirmed), on the schedule they chose."""
    services.digest_subscription_for_account(user=user)
    return services.notification_settings_update(user=user, frequency=frequency, weekday=weekday, hour=hour, tz=tz,
                                                 deliveries={})


def newsletter(email, *, confirm=True) -> DigestSubscription:
    committed(services.newsletter_subscribe, email=email)
    subscription = DigestSubscription.objects.get(user__isnull=True, email__iexact=email)
    if confirm:
        services.newsletter_confirm(token=confirm_token(subscription))
        subscription.refresh_from_db()
    return subscription


def confirm_token(subscription) -> str:
    email = OutboundEmail.objects.filter(kind=NEWSLETTER_CONFIRM, to=subscription.email).latest("pk")
    url = re.search(r"https?://\S+/newsletter/confirm/\S+/", email.text_body).group(0)
    return resolve(urlsplit(url).path).kwargs["token"]


def digests_to(mailoutbox, address) -> list:
    return [message for message in mailoutbox if message.to == [address] and "digest" in message.subject]


def contents(sections) -> dict[str, list[str]]:
    return {section.title: [item.title for item in section.items] for section in sections}


def urls(sections) -> set[str]:
    return {item.url for section in sections for item in section.items}


def window():
    """A digest window that holds everything made so far in the test."""
    now = timezone.now() + datetime.timedelta(minutes=1)
    return {"since": now - datetime.timedelta(days=1), "now": now}


# --- When a digest is due ---------------------------------------------------------------------------

@pytest.mark.parametrize(("now", "frequency", "weekday", "hour", "tz", "expected"), [
    # Just after midnight UTC it is already Monday afternoon in Auckland and still Sunday in Los Angeles.
    (at(2026, 11, 23, 0, 30), Frequency.DAILY, MONDAY, 8, "Pacific/Auckland", ("D2026-11-23", True)),
    (at(2026, 11, 23, 0, 30), Frequency.DAILY, MONDAY, 8, "America/Los_Angeles", ("D2026-11-22", True)),
    (at(2026, 11, 23, 0, 30), Frequency.DAILY, MONDAY, 8, "UTC", ("D2026-11-23", False)),
    (at(2026, 11, 23, 0, 30), Frequency.DAILY, MONDAY, 17, "America/Los_Angeles", ("D2026-11-22", False)),
    (at(2026, 11, 23, 0, 30), Frequency.WEEKLY, MONDAY, 8, "Pacific/Auckland", ("W2026-48", True)),
    (at(2026, 11, 23, 0, 30), Frequency.WEEKLY, MONDAY, 14, "Pacific/Auckland", ("W2026-48", False)),
    (at(2026, 11, 23, 0, 30), Frequency.WEEKLY, MONDAY, 8, "America/Los_Angeles", ("W2026-47", True)),
    (at(2026, 11, 23, 0, 30), Frequency.WEEKLY, SUNDAY, 16, "America/Los_Angeles", ("W2026-47", True)),
    (at(2026, 11, 23, 0, 30), Frequency.WEEKLY, SUNDAY, 17, "America/Los_Angeles", ("W2026-47", False)),
    # Midday UTC on Sunday: Auckland's new week has begun at midnight, Los Angeles is still in the old one.
    (at(2026, 11, 22, 11, 30), Frequency.WEEKLY, MONDAY, 0, "Pacific/Auckland", ("W2026-48", True)),
    (at(2026, 11, 22, 11, 30), Frequency.WEEKLY, MONDAY, 1, "Pacific/Auckland", ("W2026-48", False)),
    (at(2026, 11, 22, 11, 30), Frequency.WEEKLY, SUNDAY, 3, "America/Los_Angeles", ("W2026-47", True)),
    # The chosen hour, to the second.
    (at(2026, 11, 23, 8, 0), Frequency.DAILY, MONDAY, 8, "UTC", ("D2026-11-23", True)),
    (at(2026, 11, 23, 7, 59, 59), Frequency.DAILY, MONDAY, 8, "UTC", ("D2026-11-23", False)),
    # New Year in Auckland is still ISO week 53 of 2026.
    (at(2026, 12, 31, 12, 0), Frequency.DAILY, MONDAY, 0, "Pacific/Auckland", ("D2027-01-01", True)),
    (at(2026, 12, 31, 12, 0), Frequency.WEEKLY, MONDAY, 0, "Pacific/Auckland", ("W2026-53", True)),
])
def test_the_digest_period_and_whether_it_is_due_follow_the_subscribers_time_zone(
    now, frequency, weekday, hour, tz, expected,
):
    assert services.digest_period(frequency=frequency, weekday=weekday, hour=hour, tz=tz, now=now) == expected


def test_digests_are_due_only_for_confirmed_active_subscribers_whose_hour_has_come(requester):
    now = at(2026, 11, 23, 9, 0)  # a Monday
    on_time, later, switched_off, unsubscribed, deactivated = UserFactory.create_batch(5)
    due_daily = schedule(on_time, hour=9)
    schedule(later, hour=10)
    schedule(switched_off, Frequency.OFF)
    token = mail.unsubscribe_token(kind=DIGEST, user_id=unsubscribed.pk)
    schedule(unsubscribed)
    services.unsubscribe_apply(token=token)
    schedule(deactivated)
    User.objects.filter(pk=deactivated.pk).update(is_active=False)
    confirmed = newsletter("confirmed.reader@example.org")  # weekly, Monday 08:00 UTC by default
    newsletter("unconfirmed.reader@example.org", confirm=False)

    assert sorted(services.digests_due(now=now)) == sorted([(due_daily.pk, "D2026-11-23"),
                                                            (confirmed.pk, "W2026-48")])


def test_a_digest_made_for_a_period_is_not_due_again_in_that_period(member, public_category, requester):
    subscription = schedule(member)
    watch(member, category=public_category)
    committed(TopicFactory, category=public_category, author=requester, title="New synthetic topic")
    now = timezone.now() + datetime.timedelta(minutes=1)
    [(pk, period)] = services.digests_due(now=now)
    services.digest_prepare(subscription_id=pk, period=period, now=now)
    assert services.digests_due(now=now) == []
    assert services.digests_due(now=now + datetime.timedelta(days=1)) == [
        (subscription.pk, services.digest_period(frequency=Frequency.DAILY, weekday=0, hour=0, tz="UTC",
                                                 now=now + datetime.timedelta(days=1))[0])]


# --- Exactly one per period -------------------------------------------------------------------------

@pytest.fixture
def news(public_category, requester):
    """A new topic in the public category."""
    return committed(TopicFactory, category=public_category, author=requester, title="New synthetic topic")


def test_preparing_a_digest_twice_for_a_period_makes_one_delivery_and_one_email(member, public_category, news,
                                                                               mailoutbox):
    subscription = schedule(member)
    watch(member, category=public_category)
    now = timezone.now() + datetime.timedelta(minutes=1)
    first = services.digest_prepare(subscription_id=subscription.pk, period="D2099-01-01", now=now)
    again = services.digest_prepare(subscription_id=subscription.pk, period="D2099-01-01", now=now)
    assert first is not None and again == first  # still owed: the second run only finishes sending it
    assert DigestDelivery.objects.filter(subscription=subscription).count() == 1
    assert OutboundEmail.objects.filter(kind=DIGEST).count() == 1

    services.emails_send(email_ids=[first])
    assert services.digest_prepare(subscription_id=subscription.pk, period="D2099-01-01", now=now) is None
    [message] = digests_to(mailoutbox, member.email)
    assert message.subject == "Your daily digest from Data Help Desk"
    assert "New synthetic topic" in message.body and "New synthetic topic" in message.alternatives[0][0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_running_the_digest_beat_twice_sends_each_subscriber_exactly_one_digest(public_category, news, mailoutbox):
    readers = UserFactory.create_batch(2)
    for reader in readers:
        schedule(reader)  # daily at midnight UTC: due whenever the test runs
        watch(reader, category=public_category)
    # The newsletter reader hears about the public requests board only.
    make_request(UserFactory(roles=[Role.REQUESTER]), public_category, title="A new synthetic request")
    subscriber = newsletter("newsletter.reader@example.org")
    DigestSubscription.objects.filter(pk=subscriber.pk).update(frequency=Frequency.DAILY, hour=0)
    mailoutbox.clear()

    assert tasks.send_digests() == 3
    assert tasks.send_digests() == 0
    for address in [reader.email for reader in readers] + [subscriber.email]:
        assert len(digests_to(mailoutbox, address)) == 1, address
    # A retried batch finds every digest made and sent.
    items = [[delivery.subscription_id, delivery.period] for delivery in DigestDelivery.objects.all()]
    assert tasks.send_digest_batch(items=items) == {}
    assert len(mailoutbox) == 3


def test_nothing_is_sent_when_there_is_nothing_to_say_but_the_period_is_recorded(member, mailoutbox):
    subscription = schedule(member)
    now = timezone.now()
    [(pk, period)] = services.digests_due(now=now)
    assert services.digest_prepare(subscription_id=pk, period=period, now=now) is None
    delivery = DigestDelivery.objects.get(subscription=subscription)
    assert (delivery.period, delivery.item_count, delivery.email) == (period, 0, None)
    subscription.refresh_from_db()
    assert subscription.last_period == period
    assert not OutboundEmail.objects.filter(kind=DIGEST).exists() and mailoutbox == []
    assert services.digests_due(now=now) == []


def test_the_unsubscribe_link_of_a_digest_stops_digests(member, public_category, news, mailoutbox):
    subscription = schedule(member)
    watch(member, category=public_category)
    tasks.send_digests()
    [message] = digests_to(mailoutbox, member.email)
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert services.unsubscribe_apply(token=resolve(urlsplit(url).path).kwargs["token"]) == DIGEST
    subscription.refresh_from_db()
    assert subscription.frequency == Frequency.OFF and subscription.unsubscribed_at is not None
    assert services.digests_due(now=timezone.now() + datetime.timedelta(days=1)) == []


def test_the_unsubscribe_link_of_a_newsletter_digest_stops_it(public_category, requester, mailoutbox):
    subscriber = newsletter("leaving.reader@example.org")
    DigestSubscription.objects.filter(pk=subscriber.pk).update(frequency=Frequency.DAILY, hour=0)
    committed(make_request, author=requester, category=public_category, title="A public synthetic request")
    tasks.send_digests()
    [message] = digests_to(mailoutbox, subscriber.email)
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert services.unsubscribe_apply(token=resolve(urlsplit(url).path).kwargs["token"]) == DIGEST
    subscriber.refresh_from_db()
    assert subscriber.frequency == Frequency.OFF and subscriber.unsubscribed_at is not None
    assert services.digests_due(now=timezone.now() + datetime.timedelta(days=1)) == []


# --- What a digest says -----------------------------------------------------------------------------

WATCHED = "New in categories and tags you watch"
WAITING = "Waiting for you"
MATCHING = "New requests that match your expertise"
NEW_REQUESTS = "New requests"
DUE_SOON = "Due within a week and nobody has claimed them yet"
RESULTS = "New results"
ACCEPTED = "Accepted results"


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def test_a_digest_lists_new_topics_the_reader_watches_and_may_see_but_not_their_own(
    member, requester, public_category, private_category,
):
    elsewhere = CategoryFactory(slug="elsewhere", name="Elsewhere")
    watch(member, category=public_category)
    watch(member, category=private_category)  # chosen, but they cannot read it
    services.digest_subscription_for_account(user=member)
    topics = {
        "in a watched category": (public_category, requester, ()),
        "with a watched tag": (elsewhere, requester, ("imaging",)),
        "unwatched": (elsewhere, requester, ()),
        "their own": (public_category, member, ()),
        "private": (private_category, requester, ()),
    }
    for title, (category, author, tags) in topics.items():
        committed(services.topic_create, actor=author, category=category, title=f"Topic {title}",
                  raw="Synthetic data only.", tags=tags)
        if tags:
            watch(member, tag=tags[0])
    sections = contents(digest_sections(user=member, **window()))
    assert sorted(sections[WATCHED]) == ["Topic in a watched category", "Topic with a watched tag"]


def test_a_digest_lists_unread_notifications_not_already_emailed(member, volunteer, requester, public_category):
    topic = committed(TopicFactory, category=public_category, author=member, title="The member's synthetic topic")
    reply(volunteer, topic, "A reply emailed at once.")
    services.email_preference_set(user=member, kind=MENTIONED, delivery=Delivery.DIGEST)
    elsewhere = committed(TopicFactory, category=public_category, author=requester, title="Someone else's topic")
    reply(volunteer, elsewhere, f"A mention kept for the digest, @{member.username}.")
    read = committed(TopicFactory, category=public_category, author=requester, title="A topic read already")
    post = reply(volunteer, read, f"A mention read on the site, @{member.username}.")
    services.topic_mark_read(user=member, topic=read, number=post.number)

    sections = contents(digest_sections(user=member, **window()))
    assert sections[WAITING] == [f"{volunteer.name} mentioned you in “Someone else's topic”"]


def test_a_digest_lists_matching_due_and_resolved_requests(requester, volunteer, public_category, settings):
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 10
    member = UserFactory(roles=[Role.REQUESTER])
    member.expertise.add("statistics")
    make_request(requester, public_category, title="Matching request", expertise=["statistics"])
    make_request(requester, public_category, title="Other expertise", expertise=["imaging"])
    make_request(requester, public_category, title="Due in three days", expertise=["imaging"], deadline=in_days(3))
    make_request(requester, public_category, title="Due in ten days", expertise=["imaging"], deadline=in_days(10))
    make_claimed(requester, volunteer, public_category, title="Due soon but claimed", expertise=["imaging"],
                 deadline=in_days(3))
    make_request(member, public_category, title="Their own matching request", expertise=["statistics"])
    delivered, _claim, _result = make_delivered(requester, volunteer, public_category, title="Delivered request",
                                                expertise=["imaging"])
    solved, _claim, result = make_delivered(requester, volunteer, public_category, title="Solved request",
                                            expertise=["imaging"])
    request_services.result_accept(actor=requester, result_id=result.pk)

    sections = contents(digest_sections(user=member, **window()))
    assert sections[MATCHING] == ["Matching request"]
    assert sections[DUE_SOON] == ["Due in three days"]
    assert sorted(sections[RESULTS]) == ["Delivered request", "Solved request"]
    assert sections[ACCEPTED] == ["Solved request"]
    assert NEW_REQUESTS not in sections  # that list is the newsletter's


@pytest.fixture
def held(requester, volunteer, public_category, settings):
    """A request whose data license is held, and a result held for its license, both on watched,
    public, recent and due requests: they would be in every digest if they were not held."""
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 10
    dataset = committed(make_request, author=requester, category=public_category, title="Request held for its data",
                        expertise=["statistics"], deadline=in_days(3), data_license="Apache-2.0")
    claimed, _claim = committed(make_claimed, author=requester, volunteer=volunteer, category=public_category,
                                title="Request with a held result")
    result = committed(request_services.result_deliver, actor=volunteer, data_request_id=claimed.pk,
                       summary="A synthetic result.", repository_url="https://github.com/example/incubation",
                       license="GPL-3.0-only")
    assert LicensedItem.objects.get(item_type="dataset", object_id=dataset.pk).is_held
    assert LicensedItem.objects.get(item_type="result", object_id=result.pk).is_held
    control = committed(make_request, author=UserFactory(roles=[Role.REQUESTER]), category=public_category,
                        title="Control request", expertise=["statistics"], deadline=in_days(3))
    return {"dataset": absolute(dataset.get_absolute_url()), "result": absolute(result.post.get_absolute_url()),
            "control": absolute(control.get_absolute_url())}


def held_urls(held) -> set[str]:
    return {held["dataset"], held["result"]}


READERS = ["requester", "volunteer", "moderator", "member"]


@pytest.mark.parametrize("reader", READERS)
def test_items_held_for_their_license_are_in_nobodys_request_news_not_even_the_authors_or_a_moderators(
    request, reader, held,
):
    person = request.getfixturevalue(reader)
    person.expertise.add("statistics")
    sections = digest_sections(user=User.objects.get(pk=person.pk), **window())
    assert held["control"] in urls(sections)  # the rest of the news is there
    assert not held_urls(held) & urls(sections)


@pytest.mark.parametrize("reader", ["volunteer", "moderator", "member"])  # not its author: their own topic
def test_a_request_held_for_its_license_is_not_among_new_topics_in_a_watched_category(
    request, reader, held, public_category,
):
    person = request.getfixturevalue(reader)
    watch(person, category=public_category)
    sections = digest_sections(user=User.objects.get(pk=person.pk), **window())
    assert not held_urls(held) & urls(sections)


@pytest.mark.parametrize("reader", ["requester", "member"])
def test_a_result_held_for_its_license_is_not_in_the_waiting_for_you_list(request, reader, held, public_category):
    person = request.getfixturevalue(reader)
    watch(person, category=public_category)
    services.email_preference_set(user=person, kind="result_delivered", delivery=Delivery.DIGEST)
    sections = digest_sections(user=User.objects.get(pk=person.pk), **window())
    assert not held_urls(held) & urls(sections)


def test_items_held_for_their_license_are_not_in_the_newsletter(held):
    sections = digest_sections(user=None, **window())
    assert not held_urls(held) & urls(sections)


def test_the_newsletter_has_public_content_only(requester, volunteer, public_category, private_category, member):
    committed(make_request, author=requester, category=public_category, title="A public synthetic request")
    committed(make_request, author=requester, category=public_category, title="Waiting for anonymization",
              patient_data="yes")
    committed(TopicFactory, category=private_category, author=requester, title="A private synthetic topic")
    committed(TopicFactory, category=public_category, author=requester, title="A forum topic")
    sections = contents(digest_sections(user=None, **window()))
    assert sections == {NEW_REQUESTS: ["A public synthetic request"]}


def test_building_a_digest_runs_the_same_queries_whatever_each_section_holds(
    requester, member, public_category, settings, django_assert_max_num_queries,
):
    """Seeded so that every section of an account's digest is full, the results' requests,
    categories, topics and authors would each cost a query per item if not joined."""
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 100
    member.expertise.add("statistics")
    watch(member, category=public_category)
    volunteers = UserFactory.create_batch(3, roles=[Role.VOLUNTEER])

    def seed(count):
        for n in range(count):
            volunteer = volunteers[n % len(volunteers)]
            committed(make_request, author=requester, category=public_category, title=f"Open request {n}",
                      expertise=["statistics"], deadline=in_days(3))
            committed(make_delivered, author=requester, volunteer=volunteer, category=public_category,
                      title=f"Solved request {n}", expertise=["imaging"])
        for result in Result.objects.filter(accepted_at__isnull=True):
            committed(request_services.result_accept, actor=requester, result_id=result.pk)

    def measure():
        reader, span = User.objects.get(pk=member.pk), window()
        with CaptureQueriesContext(connection) as queries:
            sections = digest_sections(user=reader, **span)
        return len(queries), sections

    seed(3)
    measure()  # warm the content type cache
    few, sections = measure()
    assert len(sections) == 6 and min(len(section.items) for section in sections) >= 3, contents(sections)

    seed(27)
    reader, span = User.objects.get(pk=member.pk), window()
    with django_assert_max_num_queries(QUERY_BOUND):
        sections = digest_sections(user=reader, **span)
    assert [len(section.items) for section in sections] == [ITEMS_PER_SECTION] * 6
    many, _sections = measure()
    assert many == few <= QUERY_BOUND


# --- The newsletter ---------------------------------------------------------------------------------

def test_subscribing_owes_only_a_confirmation_email_and_no_digest_until_confirmed(public_category, requester,
                                                                                  mailoutbox):
    committed(services.newsletter_subscribe, email="  New.Reader@example.org ")
    subscription = DigestSubscription.objects.get(user__isnull=True)
    assert subscription.email == "New.Reader@example.org" and subscription.confirmed_at is None
    [email] = OutboundEmail.objects.all()
    assert (email.kind, email.to, email.status) == (NEWSLETTER_CONFIRM, "New.Reader@example.org", "sent")
    [message] = mailoutbox
    assert message.subject == "Confirm your subscription to Data Help Desk" and "/newsletter/confirm/" in message.body

    committed(make_request, author=requester, category=public_category, title="A public synthetic request")
    now = at(2099, 1, 5, 9, 0)  # a Monday, after the default hour
    assert services.digests_due(now=now) == []
    assert services.digest_prepare(subscription_id=subscription.pk, period="W2099-02", now=now) is None
    assert not DigestDelivery.objects.exists() and len(mailoutbox) == 1


def test_subscribing_again_soon_sends_no_second_confirmation(mailoutbox, settings):
    start = timezone.now()
    committed(services.newsletter_subscribe, email="again@example.org")
    with time_machine.travel(start + datetime.timedelta(minutes=settings.NEWSLETTER_CONFIRM_RESEND_MINUTES - 1)):
        committed(services.newsletter_subscribe, email="AGAIN@example.org")
    assert len(mailoutbox) == 1
    with time_machine.travel(start + datetime.timedelta(minutes=settings.NEWSLETTER_CONFIRM_RESEND_MINUTES + 1)):
        committed(services.newsletter_subscribe, email="again@example.org")
    assert len(mailoutbox) == 2
    assert DigestSubscription.objects.count() == 1


def test_subscribing_a_confirmed_address_again_sends_nothing(mailoutbox):
    newsletter("confirmed@example.org")
    mailoutbox.clear()
    committed(services.newsletter_subscribe, email="Confirmed@example.org")
    assert mailoutbox == [] and DigestSubscription.objects.count() == 1


@pytest.mark.parametrize("address", ["not-an-address", "jane@", "", "jane testpatient@example.org"])
def test_a_malformed_address_is_refused_with_a_message_about_the_email(address):
    with pytest.raises(ValidationError) as error:
        services.newsletter_subscribe(email=address)
    assert "email" in error.value.message_dict
    assert not DigestSubscription.objects.exists() and not OutboundEmail.objects.exists()


def test_a_tampered_confirmation_token_is_refused_with_a_clear_message():
    subscription = newsletter("tamper@example.org", confirm=False)
    token = confirm_token(subscription)
    value, _sep, signature = token.rpartition(":")
    for bad in (f"{value}:{signature[::-1]}", token.replace(str(subscription.pk), str(subscription.pk + 1), 1),
                signing.TimestampSigner(salt="another.salt").sign(f"{subscription.pk}:tamper@example.org")):
        with pytest.raises(TokenError, match="not valid"):
            services.newsletter_token_read(bad)
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None


def test_an_expired_confirmation_token_is_refused_with_a_clear_message(settings):
    subscription = newsletter("late@example.org", confirm=False)
    with time_machine.travel(timezone.now() - datetime.timedelta(days=settings.NEWSLETTER_CONFIRM_DAYS, hours=1)):
        old = signing.TimestampSigner(salt=CONFIRM_SALT).sign(f"{subscription.pk}:late@example.org")
    with pytest.raises(TokenError, match="expired"):
        services.newsletter_token_read(old)
    with pytest.raises(TokenError, match="expired"):
        services.newsletter_confirm(token=old)
    token = confirm_token(subscription)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=settings.NEWSLETTER_CONFIRM_DAYS, hours=1)):
        with pytest.raises(TokenError, match="expired"):
            services.newsletter_token_read(token)
    assert services.newsletter_token_read(token).pk == subscription.pk


def test_confirming_twice_is_harmless():
    subscription = newsletter("twice@example.org", confirm=False)
    token = confirm_token(subscription)
    first = services.newsletter_confirm(token=token)
    second = services.newsletter_confirm(token=token)
    assert first.pk == second.pk == subscription.pk
    assert first.confirmed_at is not None and second.confirmed_at == first.confirmed_at
    assert DigestSubscription.objects.count() == 1


def test_an_account_confirmed_later_keeps_the_newsletter_subscription_and_its_schedule():
    subscription = newsletter("late.member@example.org")
    DigestSubscription.objects.filter(pk=subscription.pk).update(
        frequency=Frequency.DAILY, hour=6, time_zone="Pacific/Auckland")
    account = UserFactory(email="Late.Member@example.org")

    kept = services.digest_subscription_for_account(user=account)
    assert kept.pk == subscription.pk and kept.user_id == account.pk and kept.address == "Late.Member@example.org"
    assert (kept.frequency, kept.hour, kept.time_zone) == (Frequency.DAILY, 6, "Pacific/Auckland")
    assert kept.confirmed_at == subscription.confirmed_at
    assert services.digest_subscription_for_account(user=account).pk == subscription.pk
    assert DigestSubscription.objects.count() == 1


def test_an_account_without_a_newsletter_subscription_starts_the_default_weekly_digest(member):
    subscription = services.digest_subscription_for_account(user=member)
    assert (subscription.user_id, subscription.frequency, subscription.weekday, subscription.hour) == (
        member.pk, Frequency.WEEKLY, MONDAY, 8)
    assert subscription.confirmed_at is not None
