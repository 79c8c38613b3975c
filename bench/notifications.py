"""Notification fan-out and digest runs at scale: time and SQL queries.

    createdb -h 127.0.0.1 -U postgres helpdesk_bench_notify
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_notify
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/notifications.py --watchers 10000 --subscribers 10000

It writes to the database it is given, so give it a scratch one (it refuses a database that
holds people other than its own). Email goes to Django's in-memory backend: the figures are
the site's own work (queries, rendering, bookkeeping), not an SMTP server's.

Measured, in the order they run:
1. one reply in a category 10,000 people watch: the fan-out task's work, in its chunks
   (watchers' default for new posts is "in the digest", so no email);
2. the same with every watcher asking for email at once: notifications plus 10,000 emails
   rendered, owed and sent in batches;
3. a weekly digest run for 10,000 confirmed newsletter subscribers (what beat triggers:
   planning, then every chunk made and sent), and the same run again (must send nothing).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import setup_django  # noqa: E402

setup_django()

from django.core import mail  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from forum import services, tasks  # noqa: E402
from forum.models import (  # noqa: E402
    Category,
    CategoryNotificationSetting,
    DigestSubscription,
    EmailPreference,
    Notification,
    NotificationLevel,
    OutboundEmail,
    Topic,
    User,
)
from forum.notifications import POSTED  # noqa: E402
from requests_board.models import DataRequest  # noqa: E402

PREFIX = "notify_bench_"


class Measure:
    """Wall time and SQL queries of a block (counted by an execute wrapper: Django's own query
    log keeps only the last 9,000)."""

    def __init__(self, label: str):
        self.label = label
        self.queries = 0

    def _count(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self.wrapper = connection.execute_wrapper(self._count)
        self.wrapper.__enter__()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.wrapper.__exit__(*exc)
        print(f"| {self.label} | {self.seconds:.2f} s | {self.queries:,} |", flush=True)


def _people(count: int) -> list[int]:
    existing = User.objects.filter(username__startswith=PREFIX).count()
    if existing < count:
        User.objects.bulk_create([
            User(username=f"{PREFIX}{n}", email=f"{PREFIX}{n}@example.org", display_name=f"Bench Watcher {n}",
                 password="!")
            for n in range(existing, count)
        ], batch_size=2000)
    return list(User.objects.filter(username__startswith=PREFIX).order_by("pk").values_list("pk", flat=True)[:count])


def _run_fanout(author, topic) -> None:
    """A reply; with eager Celery its after-commit work runs here: the notify_post task, its
    notify_watchers chunks, and the send_emails batches."""
    post = services.post_create(actor=author, topic_id=topic.pk, raw="A synthetic reply for the benchmark.")
    told = Notification.objects.filter(post=post).count()
    emails = OutboundEmail.objects.filter(notification__post=post).count()
    print(f"<!-- {told:,} notified, {emails:,} emails owed, {len(mail.outbox):,} sent -->")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watchers", type=int, default=10_000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    args = parser.parse_args()
    if User.objects.exclude(username__startswith=PREFIX).exists():
        sys.exit("This database holds other people: give bench/notifications.py a scratch database.")

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                           CELERY_TASK_ALWAYS_EAGER=True, NOTIFICATIONS_EMAIL_DELAY_SECONDS=0):
        mail.outbox = []
        ids = _people(args.watchers + 1)
        author_id, watcher_ids = ids[0], ids[1:]
        author = User.objects.get(pk=author_id)
        category, _ = Category.objects.get_or_create(slug=f"{PREFIX}category", defaults={"name": "Bench"})
        CategoryNotificationSetting.objects.bulk_create([
            CategoryNotificationSetting(user_id=uid, category=category, level=NotificationLevel.WATCHING)
            for uid in watcher_ids
        ], ignore_conflicts=True, batch_size=2000)
        topic = Topic.objects.filter(category=category).first() or services.topic_create(
            actor=author, category=category, title="Benchmark topic", raw="Synthetic first post.")
        print(f"\n{args.watchers:,} watchers, {args.subscribers:,} newsletter subscribers, "
              f"{connection.vendor}\n")
        print("| step | time | SQL queries |\n|---|---|---|")
        EmailPreference.objects.filter(kind=POSTED).delete()
        with Measure(f"fan-out of one reply to {args.watchers:,} watchers (in-app only)"):
            _run_fanout(author, topic)
        EmailPreference.objects.bulk_create([
            EmailPreference(user_id=uid, kind=POSTED, delivery="immediately") for uid in watcher_ids
        ], batch_size=2000)
        mail.outbox = []
        with Measure(f"fan-out of one reply to {args.watchers:,} watchers, each emailed at once"):
            _run_fanout(author, topic)

        DigestSubscription.objects.filter(user__isnull=True, email__startswith=PREFIX).delete()
        now = timezone.now()
        DigestSubscription.objects.bulk_create([
            DigestSubscription(email=f"{PREFIX}subscriber{n}@example.org", frequency="weekly", weekday=0, hour=0,
                               confirmed_at=now)
            for n in range(args.subscribers)
        ], batch_size=2000)
        # Something to say: one new public request this week (the newsletter's "New requests").
        DataRequest.objects.get_or_create(topic=topic, defaults={
            "author": author, "category": category, "title": topic.title, "state": "open", "published_at": now})
        mail.outbox = []
        with Measure(f"weekly digest run for {args.subscribers:,} newsletter subscribers"):
            tasks.send_digests()
        print(f"<!-- {len(mail.outbox):,} digests sent -->")
        with Measure("the same digest run again (beat firing twice)"):
            tasks.send_digests()
        print(f"<!-- {len(mail.outbox):,} digests sent in all -->")
        Notification.objects.filter(user_id__in=watcher_ids).delete()


if __name__ == "__main__":
    main()
