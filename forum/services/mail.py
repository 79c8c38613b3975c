"""The email outbox: owing emails, sending them in batches, retrying, giving up visibly.

Every email is an `OutboundEmail` row with a unique key, written in the
transaction that decided it. Sending locks the row for the length of the SMTP
exchange and marks it sent in the same transaction: a worker that dies before
the server accepted the message leaves it pending for the next run (nothing is
lost), and two workers never send the same row. The one gap left is a worker
dying after the server accepted but before the commit: the message goes again,
with the same Message-ID, which mail clients use to show it once.
"""
import datetime
import hashlib
import logging
import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from ..models import (
    DigestSubscription,
    EmailPreference,
    MailboxStatus,
    OutboundEmail,
    Post,
    TopicRead,
    User,
)
from ..notifications import DIGEST, Delivery, kind_get, notification_kinds
from ..permissions import post_texts_readable_by, topic_readers_among

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "forum.email.unsubscribe"
# Minutes to wait after the n-th failed attempt; after the last, the email is marked failed.
RETRY_MINUTES = (1, 5, 30, 120, 720)


# --- Preferences ------------------------------------------------------------------

def email_deliveries(*, user_ids, kind: str) -> dict[int, str]:
    """How each person wants email about `kind` (their choice, else the kind's default). One query."""
    default = kind_get(kind).email_default
    chosen = dict(EmailPreference.objects.filter(user_id__in=list(user_ids), kind=kind).values_list("user_id",
                                                                                                       "delivery"))
    return {uid: chosen.get(uid, default) for uid in user_ids}


def email_preference_set(*, user: User, kind: str, delivery: str) -> None:
    """Choose how `user` hears about `kind` by email."""
    if kind not in notification_kinds():
        raise ValueError(f"unknown notification kind {kind!r}")
    EmailPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"delivery": Delivery(delivery), "updated_at": timezone.now()},
    )


# --- Unsubscribing ----------------------------------------------------------------

def unsubscribe_token(*, kind: str, user_id: int | None = None, subscription_id: int | None = None) -> str:
    """A signed, non-expiring token that stops one kind of email for one person without signing in."""
    payload = {"k": kind, "u": user_id} if user_id else {"k": kind, "s": subscription_id}
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(**token_args) -> str:
    return settings.SITE_URL + reverse("forum:email-unsubscribe", kwargs={"token": unsubscribe_token(**token_args)})


def unsubscribe_read(token: str) -> dict:
    """The payload of a valid token; raises signing.BadSignature for a tampered or foreign one."""
    payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(payload, dict) or "k" not in payload or not (payload.get("u") or payload.get("s")):
        raise signing.BadSignature("incomplete unsubscribe token")
    return payload


@transaction.atomic
def unsubscribe_apply(*, token: str) -> str:
    """Stop what the token names: a kind of notification email for an account, or a digest.
    Returns the kind. Raises signing.BadSignature for a bad token; applying twice is harmless."""
    payload = unsubscribe_read(token)
    kind = payload["k"]
    if payload.get("s"):
        DigestSubscription.objects.filter(pk=payload["s"]).update(
            frequency=DigestSubscription.Frequency.OFF, unsubscribed_at=timezone.now())
    elif kind == DIGEST:
        DigestSubscription.objects.filter(user_id=payload["u"]).update(
            frequency=DigestSubscription.Frequency.OFF, unsubscribed_at=timezone.now())
    elif kind in notification_kinds():
        user = User.objects.filter(pk=payload["u"]).first()
        if user is not None:
            email_preference_set(user=user, kind=kind, delivery=Delivery.NEVER)
    else:
        raise signing.BadSignature("unknown kind")
    return kind


# --- Owing emails -----------------------------------------------------------------

def site_context() -> dict:
    return {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, "LANGUAGE_CODE": settings.LANGUAGE_CODE,
            "settings_url": settings.SITE_URL + reverse("forum:notification-settings")}


def _excerpt(post) -> str:
    text = " ".join(post.raw.split())
    return text if len(text) <= 300 else text[:299].rstrip() + "…"


def _post_shareable(post, topic) -> bool:
    """Whether a post's words may go into an email: it and its topic are public and nothing
    withholds it from the public (e.g. a result held for its license)."""
    from django.contrib.auth.models import AnonymousUser


    if post.deleted_at is not None or not _topic_public(topic):
        return False
    return post_texts_readable_by(AnonymousUser(), Post.objects.filter(pk=post.pk)).exists()


def _topic_public(topic) -> bool:
    return topic is not None and topic.deleted_at is None and topic.category.is_public


def notification_emails_owe(notifications) -> list[int]:
    """Owe an email for each new notification whose person wants it at once; queued after commit,
    a little later (settings.NOTIFICATIONS_EMAIL_DELAY_SECONDS) so what they read meanwhile is not sent."""
    if not notifications:
        return []
    first = notifications[0]
    kind = kind_get(first.kind)
    deliveries = email_deliveries(user_ids=[n.user_id for n in notifications], kind=kind.name)
    wanted = [n for n in notifications if deliveries[n.user_id] == Delivery.IMMEDIATELY and n.user.email]
    if not wanted:
        return []
    # The topic was read with its category when the notification was made (notify, post_notify).
    topic, post = first.topic, first.post
    shareable_post = post is not None and _post_shareable(post, topic)
    show_title = _topic_public(topic) if topic is not None else bool(first.title)
    now = timezone.now()
    send_at = now + datetime.timedelta(seconds=settings.NOTIFICATIONS_EMAIL_DELAY_SECONDS)
    rows = []
    with translation.override(settings.LANGUAGE_CODE):
        for notification in wanted:
            title = notification.title if show_title else ""
            actor = notification.actor_names[0] if notification.actor_names else ""
            subject = kind.describe(actor=actor, title=title, count=notification.count)
            context = {
                **site_context(), "subject": subject, "kind": kind, "recipient": notification.user,
                "url": settings.SITE_URL + notification.url,
                "excerpt": _excerpt(post) if shareable_post else "",
                "unsubscribe_url": unsubscribe_url(kind=kind.name, user_id=notification.user_id),
            }
            rows.append(OutboundEmail(
                key=f"notification:{notification.pk}", to=notification.user.email, user_id=notification.user_id,
                kind=kind.name, notification=notification, subject=_one_line(subject),
                text_body=render_to_string("forum/email/notification.txt", context),
                html_body=render_to_string("forum/email/notification.html", context),
                unsubscribe_url=context["unsubscribe_url"], next_attempt_at=send_at, created_at=now,
                shows_content=bool(first.topic_id) and show_title,
            ))
    return _owe(rows, countdown=settings.NOTIFICATIONS_EMAIL_DELAY_SECONDS)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


def email_owe(*, key: str, to: str, kind: str, subject: str, text_body: str, html_body: str,
              user: User | None = None, unsubscribe: str = "", queue: bool = True) -> int | None:
    """Owe one email (not a notification's), once per `key`; returns its id, None if owed before.
    `queue` False leaves sending to the caller (a batch) or to send_due_emails."""
    ids = _owe([OutboundEmail(
        key=key[:200], to=to, kind=kind, user=user, subject=_one_line(subject), text_body=text_body,
        html_body=html_body, unsubscribe_url=unsubscribe,
    )], countdown=0, queue=queue)
    return ids[0] if ids else None


def _owe(rows, *, countdown: int, queue: bool = True) -> list[int]:
    from ..tasks import send_emails

    keys = [row.key for row in rows]
    existing = set(OutboundEmail.objects.filter(key__in=keys).values_list("key", flat=True))
    OutboundEmail.objects.bulk_create([r for r in rows if r.key not in existing], batch_size=500,
                                      ignore_conflicts=True)
    ids = list(OutboundEmail.objects.filter(key__in=[k for k in keys if k not in existing])
               .values_list("pk", flat=True))
    batch = settings.EMAIL_BATCH_SIZE
    for start in range(0, len(ids) if queue else 0, batch):
        chunk = ids[start:start + batch]
        transaction.on_commit(
            lambda chunk=chunk: send_emails.apply_async(kwargs={"email_ids": chunk}, countdown=countdown),
            robust=True,  # a broker hiccup leaves the rows pending for send_due_emails, never fails the write
        )
    return ids


# --- Sending ----------------------------------------------------------------------

class _BatchFacts:
    """What decides whether each owed email of a batch is still wanted, read in a few queries
    for the whole batch (not per email): failing addresses, accounts, read positions,
    preferences and digest subscriptions."""

    def __init__(self, emails):
        addresses = {email.to.lower() for email in emails}
        self.mailboxes = {
            status.email: status for status in MailboxStatus.objects.filter(email__in=addresses, hard_failures__gt=0)
        }
        user_ids = {email.user_id for email in emails if email.user_id}
        self.users = {row["pk"]: row for row in User.objects.filter(pk__in=user_ids).values("pk", "is_active", "email")}
        notifications = [email.notification for email in emails if email.notification is not None]
        self.read_to = {
            (user_id, topic_id): number for user_id, topic_id, number in TopicRead.objects.filter(
                user_id__in={n.user_id for n in notifications}, topic_id__in={n.topic_id for n in notifications})
            .values_list("user_id", "topic_id", "last_read_number")
        } if notifications else {}
        self.deliveries = {
            (user_id, kind): delivery for user_id, kind, delivery in EmailPreference.objects.filter(
                user_id__in={n.user_id for n in notifications}, kind__in={n.kind for n in notifications})
            .values_list("user_id", "kind", "delivery")
        } if notifications else {}
        self.readers: dict[int, set[int]] = {}
        self.public_posts: set[int] = set()
        by_topic: dict[int, list] = {}
        for notification in notifications:
            if notification.topic_id:
                by_topic.setdefault(notification.topic_id, []).append(notification)
        for group in by_topic.values():
            topic = group[0].topic
            self.readers[topic.pk] = topic_readers_among(topic, {n.user_id for n in group})
        shown_posts = {e.notification.post_id for e in emails if e.shows_content and e.notification and
                       e.notification.post_id}
        if shown_posts:
            from django.contrib.auth.models import AnonymousUser

            self.public_posts = set(post_texts_readable_by(
                AnonymousUser(), Post.objects.filter(pk__in=shown_posts, deleted_at__isnull=True),
            ).values_list("pk", flat=True))
        digest_ids = {_digest_subscription_id(email) for email in emails if email.kind == DIGEST}
        self.live_digests = set(
            DigestSubscription.objects.filter(pk__in=digest_ids, unsubscribed_at__isnull=True)
            .exclude(frequency=DigestSubscription.Frequency.OFF).values_list("pk", flat=True)
        ) if digest_ids else set()

    def skip_reason(self, email: OutboundEmail) -> str:
        """Why an owed email is no longer wanted, or '' to send it."""
        status = self.mailboxes.get(email.to.lower())
        if status is not None and status.failing_since is not None:
            return f"address failing since {status.failing_since:%Y-%m-%d}: {status.last_error}"[:500]
        if email.user_id:
            user = self.users.get(email.user_id)
            if user is None or not user["is_active"]:
                return "account inactive"
            if user["email"].lower() != email.to.lower():
                return "account address changed"
        notification = email.notification
        if notification is None and email.kind in notification_kinds():
            return "its notification was deleted"
        if notification is not None:
            if notification.read_at is not None:
                return "read on the site"
            topic = notification.topic
            if topic is not None:
                if topic.deleted_at is not None or (notification.post and notification.post.deleted_at):
                    return "deleted"
                if notification.user_id not in self.readers.get(topic.pk, ()):
                    return "no longer visible to this person"
                if email.shows_content and (not _topic_public(topic) or (
                        notification.post_id and notification.post_id not in self.public_posts)):
                    return "no longer public (the email would show its title or words)"
            read_to = self.read_to.get((notification.user_id, notification.topic_id), 0)
            if notification.post_id and read_to >= notification.post.number:
                return "read on the site"
            delivery = self.deliveries.get((notification.user_id, notification.kind),
                                           kind_get(notification.kind).email_default)
            if delivery != Delivery.IMMEDIATELY:
                return "unsubscribed"
        if email.kind == DIGEST and _digest_subscription_id(email) not in self.live_digests:
            return "unsubscribed"
        return ""


def _digest_subscription_id(email: OutboundEmail) -> int:
    return int(email.key.split(":")[1])  # digest:<subscription>:<period>


def _message_id(email: OutboundEmail) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{hashlib.sha256(email.key.encode()).hexdigest()[:32]}@{domain}>"


def _message(email: OutboundEmail, connection) -> EmailMultiAlternatives:
    headers = {"Message-ID": _message_id(email), "Auto-Submitted": "auto-generated"}
    if email.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=email.subject, body=email.text_body, to=[email.to], headers=headers, connection=connection,
    )
    message.attach_alternative(email.html_body, "text/html")
    return message


def _refused_for_good(error: Exception) -> bool:
    """The server refused this recipient permanently (5xx): it counts against the address."""
    return isinstance(error, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _msg in error.recipients.values())


def _message_refused(error: Exception) -> bool:
    """The server refused this message permanently (e.g. 552 too large): retrying cannot help.
    Authentication and sender refusals are the site's configuration, retried until fixed."""
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500


def _record_hard_failure(address: str, error: str) -> None:
    now = timezone.now()
    status, _created = MailboxStatus.objects.select_for_update().get_or_create(email=address.lower())
    status.hard_failures += 1
    status.last_error = error[:500]
    status.updated_at = now
    if status.hard_failures >= settings.EMAIL_HARD_FAILURES_BEFORE_FAILING and status.failing_since is None:
        status.failing_since = now
        logger.warning("email address marked failing after %d hard failures", status.hard_failures)
    status.save()


def _send_one(email_id: int, connection, facts: _BatchFacts) -> str:
    """Send one due email if nobody else is; returns what happened."""
    now = timezone.now()
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification", "notification__post")
            .filter(pk=email_id, status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now).first()
        )
        if email is None:
            return "not due"
        reason = facts.skip_reason(email)
        if reason:
            email.status, email.last_error = OutboundEmail.Status.SKIPPED, reason
            email.save(update_fields=["status", "last_error"])
            return "skipped"
        email.attempts += 1
        try:
            _message(email, connection).send()
        except (smtplib.SMTPException, OSError) as error:
            detail = f"{type(error).__name__}: {error}"[:500]
            email.last_error = detail
            if _refused_for_good(error):
                email.status = OutboundEmail.Status.FAILED
                _record_hard_failure(email.to, detail)
            elif _message_refused(error) or email.attempts > len(RETRY_MINUTES):
                email.status = OutboundEmail.Status.FAILED
            else:
                email.next_attempt_at = now + datetime.timedelta(minutes=RETRY_MINUTES[email.attempts - 1])
            email.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
            _reset(connection)
            logger.warning("email %s not sent (attempt %d): %s", email.pk, email.attempts, detail)
            return "failed" if email.status == OutboundEmail.Status.FAILED else "retry"
        email.status, email.sent_at, email.last_error = OutboundEmail.Status.SENT, timezone.now(), ""
        email.save(update_fields=["status", "attempts", "sent_at", "last_error"])
        if email.to.lower() in facts.mailboxes:  # a delivery forgives earlier refusals
            MailboxStatus.objects.filter(email=email.to.lower(), failing_since__isnull=True).update(hard_failures=0)
    return "sent"


def _record_error(email_id: int, detail: str) -> None:
    """Count a failed attempt that raised outside SMTP (its own transaction: the send's rolled back)."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != OutboundEmail.Status.PENDING:
            return
        email.attempts += 1
        email.last_error = detail[:500]
        if email.attempts > len(RETRY_MINUTES):
            email.status = OutboundEmail.Status.FAILED
        else:
            email.next_attempt_at = timezone.now() + datetime.timedelta(minutes=RETRY_MINUTES[email.attempts - 1])
        email.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])


def _reset(connection) -> None:
    """After an error the SMTP session may be broken: close it; the next send opens a fresh one."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a broken session may fail in many ways; we reopen anyway
        connection.connection = None


def emails_send(*, email_ids) -> dict[str, int]:
    """Send these owed emails through one SMTP connection; each is its own transaction."""
    counts: dict[str, int] = {}
    email_ids = list(email_ids)
    facts = _BatchFacts(list(
        OutboundEmail.objects.filter(pk__in=email_ids, status=OutboundEmail.Status.PENDING)
        .select_related("notification", "notification__post", "notification__topic", "notification__topic__category")
    ))
    connection = get_connection(fail_silently=False)
    try:
        try:
            connection.open()  # one session for the batch; send() alone would open one per message
        except (smtplib.SMTPException, OSError):
            pass  # each email then records the failure and is retried
        for email_id in email_ids:
            try:
                outcome = _send_one(email_id, connection, facts)
            except Exception as error:  # noqa: BLE001 - one broken email must not stop the batch or jam the outbox
                logger.exception("email %s could not be sent", email_id)
                _record_error(email_id, f"{type(error).__name__}: {error}")
                _reset(connection)
                outcome = "error"
            counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        _reset(connection)
    return counts


def emails_due(*, older_than_seconds: int = 0, limit: int = 5000) -> list[int]:
    """Pending emails whose time has come (retries, and any a crashed worker or lost task left)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def emails_retry(*, email_ids) -> int:
    """Staff: owe failed or skipped emails again (e.g. after fixing an address); sent after commit."""
    from ..tasks import send_emails

    count = OutboundEmail.objects.filter(pk__in=email_ids).exclude(status=OutboundEmail.Status.SENT).update(
        status=OutboundEmail.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error="")
    ids = list(email_ids)
    transaction.on_commit(lambda: send_emails.delay(email_ids=ids), robust=True)
    return count


def mailbox_clear(*, email: str) -> None:
    """Let an address receive email again (an admin fixed it, or the person changed it)."""
    MailboxStatus.objects.filter(email=email.lower()).update(hard_failures=0, failing_since=None, last_error="")
