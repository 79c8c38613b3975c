"""Forum background tasks: thin, load by id, call a service, safe to run twice."""
import smtplib

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from . import services


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def send_welcome_email(*, user_id: int) -> bool:
    return services.welcome_email_send(user_id=user_id)


def _chunks(items, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


@shared_task(autoretry_for=(OperationalError,), retry_backoff=10, max_retries=5)
def notify_post(*, post_id: int) -> int:
    """Tell the people a new post speaks to, then its watchers in chunks (one task per chunk,
    never one per person). Notifications are unique per person and post, so a rerun adds nothing."""
    kind, watcher_ids = services.post_notify(post_id=post_id)
    chunks = list(_chunks(watcher_ids, settings.NOTIFICATIONS_FANOUT_CHUNK))
    if len(chunks) == 1:
        services.post_notify_watchers(post_id=post_id, kind=kind, user_ids=chunks[0])
    else:
        for chunk in chunks:
            notify_watchers.delay(post_id=post_id, kind=kind, user_ids=chunk)
    return len(watcher_ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=10, max_retries=5)
def notify_watchers(*, post_id: int, kind: str, user_ids: list[int]) -> int:
    return services.post_notify_watchers(post_id=post_id, kind=kind, user_ids=user_ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=10, max_retries=5)
def send_emails(*, email_ids: list[int]) -> dict:
    """Send a batch of owed emails through one SMTP connection; failures are recorded per email."""
    return services.emails_send(email_ids=email_ids)


@shared_task
def send_due_emails(*, older_than_seconds: int = 60) -> int:
    """Beat: send what is due and was not sent (retries, or a crashed worker's leftovers), in batches.
    The grace keeps it from racing the task queued for a fresh email; row locks make a race harmless."""
    email_ids = services.emails_due(older_than_seconds=older_than_seconds)
    for chunk in _chunks(email_ids, settings.EMAIL_BATCH_SIZE):
        services.emails_send(email_ids=chunk)
    return len(email_ids)


@shared_task
def send_digests() -> int:
    """Beat: queue the digests that are due, in chunks. Firing twice is harmless: each digest
    is made once per subscription and period."""
    due = services.digests_due()
    for chunk in _chunks(due, settings.DIGEST_CHUNK):
        send_digest_batch.delay(items=[list(pair) for pair in chunk])
    return len(due)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=10, max_retries=5)
def send_digest_batch(*, items: list) -> dict:
    """Make and send one chunk of digests; what every newsletter subscriber gets is read once."""
    from .selectors.digests import digest_sections

    now = timezone.now()
    public: dict = {}

    def public_sections(since, at):
        key = since.replace(minute=0, second=0, microsecond=0)
        if key not in public:
            public[key] = digest_sections(user=None, since=key, now=at)
        return public[key]

    email_ids = []
    for subscription_id, period in items:
        email_id = services.digest_prepare(
            subscription_id=subscription_id, period=period, now=now, public_sections=public_sections)
        if email_id:
            email_ids.append(email_id)
    return services.emails_send(email_ids=email_ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=10, max_retries=5)
def update_trust_level(*, user_id: int) -> int:
    return services.trust_level_update(user_id=user_id)


@shared_task
def update_trust_levels() -> int:
    return services.trust_levels_update_all()
