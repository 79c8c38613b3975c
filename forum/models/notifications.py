"""Notifications, email preferences, digests and the email outbox.

Every email the site owes is first an `OutboundEmail` row with a unique key,
written in the transaction that decided it: a retried task or a second beat
can never owe it twice, and a failed send stays visible until it is resolved.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..notifications import Delivery
from .content import Post, Topic


class Notification(models.Model):
    """One thing one person should hear about, shown under the bell until read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    # Unique per person: "post:<id>" makes one notification per post whatever the reasons.
    key = models.CharField(max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # Stored at creation so the list needs no join per kind; private kinds leave it empty.
    title = models.CharField(max_length=200, blank=True)
    url = models.CharField(max_length=500)
    count = models.PositiveIntegerField(default=1, help_text=_("People batched into one notification (likes)."))
    actor_names = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once")]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_latest"),
            models.Index(fields=["user", "topic"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.user_id}"


class EmailPreference(models.Model):
    """How one person wants email about one kind of notification (absent: the kind's default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences")
    kind = models.CharField(max_length=40)
    delivery = models.CharField(max_length=12, choices=Delivery.choices)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="email_preference_once")]

    def __str__(self):
        return f"{self.user_id}: {self.kind} = {self.delivery}"


class DigestSubscription(models.Model):
    """Who gets a digest, how often and when: an account holder, or a newsletter subscriber by email."""

    class Frequency(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        OFF = "off", _("Never")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="digest_subscription",
    )
    # A newsletter subscriber's address; for an account holder the account's current address is used.
    email = models.EmailField(_("email address"), blank=True)
    frequency = models.CharField(_("how often"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY)
    weekday = models.PositiveSmallIntegerField(_("on"), choices=Weekday.choices, default=Weekday.MONDAY)
    hour = models.PositiveSmallIntegerField(_("at"), default=8, help_text=_("The hour, in your time zone."))
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty until the address is confirmed."))
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    last_period = models.CharField(max_length=16, blank=True, help_text=_("The last period a digest was made for."))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=Q(user__isnull=True), name="digest_subscriber_email_once",
            ),
            models.CheckConstraint(condition=Q(hour__lte=23) & Q(weekday__lte=6), name="digest_time_valid"),
        ]
        indexes = [
            models.Index(fields=["frequency"], condition=Q(confirmed_at__isnull=False), name="digest_due"),
        ]

    def __str__(self):
        return f"{self.user_id or self.email}: {self.frequency}"

    @property
    def address(self) -> str:
        return self.user.email if self.user_id else self.email


class MailboxStatus(models.Model):
    """What sending to one address taught us; a failing address gets no more email until cleared."""

    email = models.CharField(max_length=254, unique=True, help_text=_("Lower case."))
    hard_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("mailbox status")
        verbose_name_plural = _("mailbox statuses")

    def __str__(self):
        return self.email


class OutboundEmail(models.Model):
    """One email owed to one address: rendered once, sent at most once per success."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not needed any more")
        FAILED = "failed", _("Failed")

    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    kind = models.CharField(max_length=40)
    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.CharField(max_length=200)
    text_body = models.TextField()
    html_body = models.TextField()
    unsubscribe_url = models.CharField(max_length=500, blank=True)
    # Whether the email names its topic or quotes its post: such an email is dropped if that stops being public.
    shows_content = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbound_email_due"),
            models.Index(fields=["status", "-created_at"], name="outbound_email_status"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.to} ({self.status})"


class DigestDelivery(models.Model):
    """The one digest of one subscription for one period; its uniqueness is what makes digests idempotent."""

    subscription = models.ForeignKey(DigestSubscription, on_delete=models.CASCADE, related_name="deliveries")
    period = models.CharField(max_length=16)  # "D2026-11-21" or "W2026-47", in the subscriber's time zone
    created_at = models.DateTimeField(default=timezone.now)
    item_count = models.PositiveIntegerField(default=0)
    email = models.OneToOneField(OutboundEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "period"], name="digest_once_per_period")]

    def __str__(self):
        return f"{self.subscription_id} {self.period}"
