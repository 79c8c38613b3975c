"""Recording licensed items, checking them against the policy, and the state of export bundles."""
import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from forum import services as forum_services
from forum.models import Post, Topic, User
from forum.pagecache import invalidate_on_commit

from . import hooks
from .bundles import license_ids_of
from .models import ExportBundle, LicensedItem, LicenseEvent
from .policy import item_problems

State = LicensedItem.State


def _license_ids(*expressions: str) -> str:
    ids = license_ids_of(*expressions)
    return f" {' '.join(ids)} " if ids else ""


@transaction.atomic
def item_record(
    *, item_type: str, object_id: int, topic: Topic, post: Post | None, author: User, title: str, kind: str,
    expression: str, code_expression: str = "", file_kinds=(),
) -> LicensedItem:
    """Record what an item is licensed under (on posting or after any edit) and check it at once.

    Locks the item's row. Nothing changes when the facts are the ones already recorded;
    otherwise the revision goes up and the item is checked in the same transaction, so a
    result with a license the policy refuses is held before anybody can read it, hear about it
    or find it (the worker's periodic checks still catch policy changes and anything left over).
    """
    facts = {
        "topic": topic, "post": post, "author": author, "title": title[:300], "kind": kind,
        "expression": (expression or "")[:100], "code_expression": (code_expression or "")[:100],
        "file_kinds": sorted(set(file_kinds)),
    }
    item = LicensedItem.objects.select_for_update().filter(item_type=item_type, object_id=object_id).first()
    if item is None:
        item = LicensedItem(item_type=item_type, object_id=object_id, **facts)
    else:
        checked = ("kind", "expression", "code_expression", "file_kinds")
        changed = any(getattr(item, name) != facts[name] for name in checked)
        shown = any(getattr(item, name) != facts[name] for name in ("title", "topic", "post", "author"))
        if not changed and not shown:
            return item
        for name, value in facts.items():
            setattr(item, name, value)
        if not changed:
            item.save()
            invalidate_on_commit(topic_ids=[item.topic_id])  # its topic's pages keep its items
            return item
        item.revision += 1
    item.license_ids = _license_ids(item.expression, item.code_expression)
    item.save()
    invalidate_on_commit(topic_ids=[item.topic_id])
    _check_locked(item)  # the row is ours already: no second read
    return item


@transaction.atomic
def item_check(*, item_id: int, now: datetime.datetime | None = None) -> str:
    """Check one item against the policy (see _check_locked). Locks the item."""
    item = LicensedItem.objects.select_for_update().filter(pk=item_id).first()
    if item is None:
        return "gone"
    return _check_locked(item, now=now)


def _check_locked(item: LicensedItem, *, now: datetime.datetime | None = None) -> str:
    """Check `item`, whose row the caller holds locked, against the policy: hold it, release it, or
    confirm it, in the site's language so the problems stored and compared do not depend on who
    triggered the check.

    Idempotent: a revision already checked is left alone, so a retried or duplicated
    task holds, releases and notifies once. Returns what happened.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _apply_policy(item, now=now)


def _apply_policy(item: LicensedItem, *, now: datetime.datetime | None) -> str:
    if item.checked_revision >= item.revision:
        return "unchanged"
    now = now or timezone.now()
    problems = item_problems(kind=item.kind, expression=item.expression, code_expression=item.code_expression,
                             file_kinds=item.file_kinds)
    was_held = item.state == State.HELD
    outcome = "ok"
    if problems:
        outcome = "held"
        if not was_held:
            item.held_at = now
        if not was_held or problems != item.problems:
            LicenseEvent.objects.create(item=item, action=LicenseEvent.Action.HELD, revision=item.revision,
                                        expression=item.expression, code_expression=item.code_expression,
                                        problems=problems, created_at=now)
            item.problems = problems  # the hook's email is about these
            hooks.license_held(item=item)
    elif was_held:
        outcome = "released"
        LicenseEvent.objects.create(item=item, action=LicenseEvent.Action.RELEASED, revision=item.revision,
                                    expression=item.expression, code_expression=item.code_expression,
                                    created_at=now)
        item.held_at = None
        hooks.license_released(item=item)
        if item.post_id:
            # Nobody who may not read a held post heard of it: its watchers hear now (once each:
            # notifications are keyed by post, so those already told are not told again).
            forum_services.post_notify_queue(item.post)
    item.state = State.HELD if problems else State.OK
    item.problems = problems
    item.checked_revision, item.checked_at = item.revision, now
    item.save()
    if outcome != "ok" or was_held:
        invalidate_on_commit()
    else:
        invalidate_on_commit(topic_ids=[item.topic_id])  # its topic's pages keep its items
    return outcome


def items_unchecked(*, older_than_seconds: int = 120) -> list[int]:
    """Items whose latest revision no worker has checked a while after it was recorded."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        LicensedItem.objects.filter(checked_revision__lt=F("revision"))
        .filter(created_at__lte=cutoff).order_by("pk").values_list("pk", flat=True)[:1000]
    )


def items_recheck(*, apply: bool = False) -> int:
    """After a change of policy: mark every item to be checked again (dry run unless `apply`)."""
    count = LicensedItem.objects.count()
    if apply:
        from .tasks import check_license

        for item_id in LicensedItem.objects.order_by("pk").values_list("pk", flat=True).iterator():
            with transaction.atomic():
                item = LicensedItem.objects.select_for_update().get(pk=item_id)
                item.revision += 1
                item.save(update_fields=["revision"])
                check_license.delay_on_commit(item_id=item.pk)
    return count


# --- Export bundles -----------------------------------------------------------------

@transaction.atomic
def bundle_get_or_create(*, topic: Topic, fingerprint: str, file_name: str, actor: User | None) -> tuple:
    """The bundle of `topic` with this content, created if new; (bundle, created)."""
    bundle, created = ExportBundle.objects.get_or_create(
        topic=topic, fingerprint=fingerprint,
        defaults={"file_name": file_name[:150], "requested_by": actor},
    )
    if not created:
        bundle = ExportBundle.objects.select_for_update().get(pk=bundle.pk)
    if not created and bundle.state == ExportBundle.State.FAILED:
        bundle.state, bundle.progress, bundle.error = ExportBundle.State.QUEUED, 0, ""
        bundle.save(update_fields=["state", "progress", "error"])
        created = True
    return bundle, created


def bundle_progress(*, bundle: ExportBundle, progress: int) -> None:
    """Record how far a build is (0–100), in its own short transaction so the person waiting sees it."""
    _own_build(bundle).update(progress=max(0, min(99, progress)))


@transaction.atomic
def bundle_start(*, bundle_id: int) -> ExportBundle | None:
    """Claim a queued bundle for building; None when it is built or being built. Locks the bundle."""
    bundle = ExportBundle.objects.select_for_update().filter(pk=bundle_id).first()
    if bundle is None or bundle.state == ExportBundle.State.READY:
        return None
    stale = bundle.started_at and bundle.started_at < timezone.now() - datetime.timedelta(minutes=30)
    if bundle.state == ExportBundle.State.BUILDING and not stale:
        return None
    bundle.state, bundle.progress, bundle.started_at = ExportBundle.State.BUILDING, 0, timezone.now()
    bundle.save(update_fields=["state", "progress", "started_at"])
    return bundle


def _own_build(bundle: ExportBundle):
    # Only the build that started last may finish or fail the bundle: a builder taken over after
    # a stall finds its start time replaced and changes nothing.
    return ExportBundle.objects.filter(pk=bundle.pk, state=ExportBundle.State.BUILDING,
                                       started_at=bundle.started_at)


def bundle_finish(*, bundle: ExportBundle, storage_name: str, size: int) -> bool:
    """Mark a build done; False when another build took the bundle over meanwhile."""
    return bool(_own_build(bundle).update(
        state=ExportBundle.State.READY, progress=100, storage_name=storage_name, size=size,
        finished_at=timezone.now(), error="",
    ))


def bundle_fail(*, bundle: ExportBundle, error: str) -> bool:
    """Mark a build failed (the reason is shown to the person waiting); asking again retries it."""
    return bool(_own_build(bundle).update(
        state=ExportBundle.State.FAILED, error=error[:500], finished_at=timezone.now(),
    ))


def bundles_stalled(*, older_than_seconds: int = 600) -> list[int]:
    """Bundles queued or building for too long (a worker died): to queue again."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(ExportBundle.objects.filter(
        state__in=(ExportBundle.State.QUEUED, ExportBundle.State.BUILDING), created_at__lte=cutoff,
    ).values_list("pk", flat=True)[:100])
