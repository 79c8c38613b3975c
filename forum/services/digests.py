"""Digests and newsletter subscriptions: who gets one, when, and making exactly one per period.

A digest is made for a (subscription, period) pair at most once: the
`DigestDelivery` row is unique on it and is written in the same transaction
as the email it owes. Beat may fire twice, a task may be retried, a worker may
die mid-run: the next run finds the pair taken and only sends what is still
pending.
"""
import datetime
import zoneinfo
from functools import cache

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import DigestDelivery, DigestSubscription, EmailPreference, OutboundEmail, User
from ..notifications import DIGEST, NEWSLETTER_CONFIRM, Delivery, notification_kinds
from . import mail

Frequency = DigestSubscription.Frequency
CONFIRM_SALT = "forum.newsletter.confirm"
# Account holders who were deactivated get nothing; newsletter subscribers have no account.
Q_ACTIVE_ACCOUNT = Q(user__isnull=True) | Q(user__is_active=True)
PERIOD_LENGTH = {Frequency.DAILY: datetime.timedelta(days=1), Frequency.WEEKLY: datetime.timedelta(days=7)}


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted (read from disk once)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def digest_period(*, frequency: str, weekday: int, hour: int, tz: str, now: datetime.datetime) -> tuple[str, bool]:
    """The period `now` falls in for this schedule, in the subscriber's time zone, and whether its
    digest is due yet (the chosen hour, and for weekly digests the chosen day, has come)."""
    local = now.astimezone(_zone(tz))
    if frequency == Frequency.DAILY:
        return f"D{local.date().isoformat()}", local.hour >= hour
    year, week, _day = local.isocalendar()
    return f"W{year}-{week:02d}", (local.weekday(), local.hour) >= (weekday, hour)


# --- Settings ---------------------------------------------------------------------

def _clean_schedule(frequency: str, weekday: int, hour: int, tz: str) -> dict:
    errors = {}
    if frequency not in Frequency.values:
        errors["frequency"] = _("Choose daily, weekly or never.")
    if weekday not in range(7):
        errors["weekday"] = _("Choose a day of the week.")
    if hour not in range(24):
        errors["hour"] = _("Choose an hour from 0 to 23.")
    if tz not in time_zone_names():
        errors["time_zone"] = _("Choose a time zone from the list.")
    if errors:
        raise ValidationError(errors)
    return {"frequency": frequency, "weekday": weekday, "hour": hour, "time_zone": tz}


@transaction.atomic
def notification_settings_update(
    *, user: User, frequency: str, weekday: int, hour: int, tz: str, deliveries: dict[str, str],
) -> DigestSubscription:
    """Save how `user` hears from the site: their digest's schedule and, per kind, email at once,
    in the digest, or never. Raises ValidationError by field."""
    schedule = _clean_schedule(frequency, weekday, hour, tz)
    kinds = notification_kinds()
    bad = [kind for kind, delivery in deliveries.items() if kind not in kinds or delivery not in Delivery.values]
    if bad:
        raise ValidationError({"deliveries": _("Choose at once, digest or never for every kind.")})
    subscription = DigestSubscription.objects.select_for_update().filter(user=user).first()
    now = timezone.now()
    if subscription is None:
        subscription = DigestSubscription(user=user, confirmed_at=now)
    for field, value in schedule.items():
        setattr(subscription, field, value)
    subscription.unsubscribed_at = now if frequency == Frequency.OFF else None
    subscription.save()
    for kind, delivery in deliveries.items():
        EmailPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"delivery": delivery, "updated_at": now})
    return subscription


@transaction.atomic
def digest_subscription_for_account(*, user: User) -> DigestSubscription:
    """When an account's address is confirmed: keep the newsletter subscription of that address
    (now the account's), or start the default weekly digest. Never replaces a choice made before."""
    existing = DigestSubscription.objects.select_for_update().filter(user=user).first()
    if existing is not None:
        return existing
    newsletter = (
        DigestSubscription.objects.select_for_update()
        .annotate(lower=Lower("email")).filter(user__isnull=True, lower=user.email.lower(), confirmed_at__isnull=False)
        .first()
    )
    if newsletter is not None:
        newsletter.user, newsletter.email = user, ""
        newsletter.save(update_fields=["user", "email"])
        return newsletter
    return DigestSubscription.objects.create(user=user, confirmed_at=timezone.now())


# --- Newsletter (no account) ------------------------------------------------------

def _confirm_url(subscription: DigestSubscription) -> str:
    token = signing.TimestampSigner(salt=CONFIRM_SALT).sign(f"{subscription.pk}:{subscription.email.lower()}")
    return settings.SITE_URL + reverse("forum:newsletter-confirm", kwargs={"token": token})


@transaction.atomic
def newsletter_subscribe(*, email: str) -> None:
    """Start a double opt-in: owe a confirmation email, and nothing else, until it is confirmed.

    Says nothing about whether the address was known (the page reads the same either way);
    a confirmed subscription is left as it is; a pending one gets at most one email per
    settings.NEWSLETTER_CONFIRM_RESEND_MINUTES. Raises ValidationError for a malformed address.
    """
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Please enter a valid email address, e.g. jane@example.org.")}) from None
    now = timezone.now()
    subscription = (
        DigestSubscription.objects.select_for_update().annotate(lower=Lower("email"))
        .filter(user__isnull=True, lower=email.lower()).first()
    )
    if subscription is None:
        try:
            with transaction.atomic():
                subscription = DigestSubscription.objects.create(email=email, frequency=Frequency.WEEKLY)
        except IntegrityError:  # a concurrent request subscribed it first
            return
    elif subscription.confirmed_at is not None and subscription.unsubscribed_at is None:
        return
    else:
        recent = now - datetime.timedelta(minutes=settings.NEWSLETTER_CONFIRM_RESEND_MINUTES)
        if OutboundEmail.objects.filter(key__startswith=f"confirm:{subscription.pk}:", created_at__gte=recent).exists():
            return
    with translation.override(settings.LANGUAGE_CODE):
        context = {**mail.site_context(), "confirm_url": _confirm_url(subscription),
                   "days": settings.NEWSLETTER_CONFIRM_DAYS}
        mail.email_owe(
            key=f"confirm:{subscription.pk}:{int(now.timestamp())}", to=subscription.email, kind=NEWSLETTER_CONFIRM,
            subject=_("Confirm your subscription to %(site)s") % {"site": settings.SITE_NAME},
            text_body=render_to_string("forum/email/newsletter_confirm.txt", context),
            html_body=render_to_string("forum/email/newsletter_confirm.html", context),
        )


class TokenError(Exception):
    """A confirmation link that is tampered with, foreign or expired; the message says which."""


def newsletter_token_read(token: str) -> DigestSubscription:
    """The subscription a confirmation token names; raises TokenError explaining what is wrong."""
    signer = signing.TimestampSigner(salt=CONFIRM_SALT)
    try:
        value = signer.unsign(token, max_age=datetime.timedelta(days=settings.NEWSLETTER_CONFIRM_DAYS))
    except signing.SignatureExpired:
        raise TokenError(_("This confirmation link has expired. Please subscribe again to get a new one.")) from None
    except signing.BadSignature:
        raise TokenError(_("This confirmation link is not valid. Please copy the whole link from the email, "
                           "or subscribe again.")) from None
    subscription_id, _sep, email = value.partition(":")
    subscription = DigestSubscription.objects.filter(pk=subscription_id, user__isnull=True).first()
    if subscription is None or subscription.email.lower() != email:
        raise TokenError(_("This subscription no longer exists. Please subscribe again."))
    return subscription


@transaction.atomic
def newsletter_confirm(*, token: str) -> DigestSubscription:
    """Confirm a newsletter subscription (the second opt-in); confirming twice is harmless."""
    subscription = newsletter_token_read(token)
    subscription = DigestSubscription.objects.select_for_update().get(pk=subscription.pk)
    now = timezone.now()
    if subscription.confirmed_at is None or subscription.unsubscribed_at is not None:
        subscription.confirmed_at, subscription.unsubscribed_at = now, None
        subscription.frequency = Frequency.WEEKLY
        subscription.save(update_fields=["confirmed_at", "unsubscribed_at", "frequency"])
    return subscription


# --- Making digests ---------------------------------------------------------------

def digests_due(*, now: datetime.datetime | None = None) -> list[tuple[int, str]]:
    """(subscription id, period) of every confirmed subscription whose digest for the current
    period is due and not made yet. Two queries whatever the number of subscribers."""
    now = now or timezone.now()
    rows = (
        DigestSubscription.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)
        .exclude(frequency=Frequency.OFF)
        .filter(Q_ACTIVE_ACCOUNT)
        .values_list("pk", "frequency", "weekday", "hour", "time_zone", "last_period")
    )
    due = []
    for pk, frequency, weekday, hour, tz, last_period in rows.iterator(chunk_size=2000):
        period, ready = digest_period(frequency=frequency, weekday=weekday, hour=hour, tz=tz, now=now)
        if ready and period != last_period:
            due.append((pk, period))
    return due


def digest_prepare(*, subscription_id: int, period: str, now: datetime.datetime | None = None,
                   public_sections=None) -> int | None:
    """Make the digest of one subscription for one period, once: returns the id of its email when
    that email still has to be sent (made now or by an earlier, interrupted run), else None
    (already sent, nothing to say, or no longer subscribed). Locks the subscription row.

    `public_sections(since, now)` may memoize what every newsletter subscriber gets.
    """
    from ..selectors.digests import digest_sections

    now = now or timezone.now()
    with transaction.atomic():
        subscription = (
            DigestSubscription.objects.select_for_update(of=("self",)).select_related("user")
            .filter(pk=subscription_id).first()
        )
        if subscription is None:
            return None
        delivery = DigestDelivery.objects.filter(subscription=subscription, period=period).select_related(
            "email").first()
        if delivery is not None:
            email = delivery.email
            return email.pk if email is not None and email.status == OutboundEmail.Status.PENDING else None
        if (subscription.confirmed_at is None or subscription.unsubscribed_at is not None
                or subscription.frequency == Frequency.OFF):
            return None
        user = subscription.user
        if user is not None and (not user.is_active or not user.email):
            return None
        length = PERIOD_LENGTH.get(subscription.frequency, PERIOD_LENGTH[Frequency.WEEKLY])
        previous = subscription.deliveries.order_by("-created_at").values_list("created_at", flat=True).first()
        if previous is not None and previous > now - length * 0.75:
            # A changed schedule (weekly to daily, another time zone) starts a new period label:
            # the period is recorded as done, but nobody gets two digests within a period's length.
            DigestDelivery.objects.create(subscription=subscription, period=period, created_at=previous)
            subscription.last_period = period
            subscription.save(update_fields=["last_period"])
            return None
        since = max(previous, now - length) if previous else now - length
        with translation.override(settings.LANGUAGE_CODE):
            if user is None and public_sections is not None:
                sections = public_sections(since, now)
            else:
                sections = digest_sections(user=user, since=since, now=now)
            delivery = DigestDelivery(subscription=subscription, period=period, created_at=now,
                                      item_count=sum(len(section.items) for section in sections))
            subscription.last_period = period
            subscription.save(update_fields=["last_period"])
            if not delivery.item_count:
                delivery.save()
                return None
            email_id = _digest_email_owe(subscription, period, sections, since)
        delivery.email_id = email_id
        delivery.save()
    return email_id


def _digest_email_owe(subscription, period: str, sections, since) -> int | None:
    unsubscribe = (
        mail.unsubscribe_url(kind=DIGEST, user_id=subscription.user_id) if subscription.user_id
        else mail.unsubscribe_url(kind=DIGEST, subscription_id=subscription.pk)
    )
    context = {
        **mail.site_context(), "sections": sections, "since": since, "subscription": subscription,
        "recipient": subscription.user, "unsubscribe_url": unsubscribe,
    }
    if subscription.frequency == Frequency.DAILY:
        subject = _("Your daily digest from %(site)s") % {"site": settings.SITE_NAME}
    else:
        subject = _("Your weekly digest from %(site)s") % {"site": settings.SITE_NAME}
    return mail.email_owe(
        key=f"digest:{subscription.pk}:{period}", to=subscription.address, kind=DIGEST, subject=subject,
        text_body=render_to_string("forum/email/digest.txt", context),
        html_body=render_to_string("forum/email/digest.html", context),
        user=subscription.user, unsubscribe=unsubscribe, queue=False,  # the digest run sends its batch itself
    )
