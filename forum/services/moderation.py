"""Moderation: flags, the review queue, silences and suspensions, spam sweeps, the log.

Every decision writes its `ModerationLogEntry` in the same transaction, and tells the
people concerned (the author, the flaggers) through notifications in that transaction too.
Holding posts for approval or for the anonymization team is in `holds`.
"""
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import notifications as kinds
from ..models import Flag, ModerationLogEntry, Post, ReviewItem, Topic, User
from ..pagecache import invalidate_on_commit
from ..permissions import (
    can_approve_own_personal_data,
    can_moderate,
    check_can_flag_post,
    check_can_restrict_user,
    check_can_review_item,
    posts_visible_to,
    triagers_q,
)
from .content import _lock_post, _set_post_deleted, edit_locked_post
from .notifications import notify, notify_many, post_notify_queue
from .topic_moderation import _hide_earlier_revisions

MAX_RESTRICTION_DAYS = 3650
MAX_SWEEP_POSTS = 5000  # a spam sweep larger than this is refused: ask an administrator


def moderation_log(
    *, actor: User | None, action: str, target_user: User | None = None, post: Post | None = None,
    topic: Topic | None = None, reason: str = "", detail: dict | None = None,
) -> ModerationLogEntry:
    """Write one moderation log entry, in the caller's transaction."""
    return ModerationLogEntry.objects.create(
        actor=actor, action=action, target_user=target_user, post=post,
        topic=topic if topic is not None else (post.topic if post is not None else None),
        reason=reason[:500], detail=detail or {},
    )


def _set_hidden(post: Post, hidden: str) -> None:
    """Hide a locked post (or show it, `hidden` empty); a first post hides or shows its topic."""
    post.hidden = hidden
    post.save(update_fields=["hidden"])
    if post.number == 1:
        hidden_at = timezone.now() if hidden else None
        Topic.objects.filter(pk=post.topic_id).update(hidden_at=hidden_at)
        post.topic.hidden_at = hidden_at
    invalidate_on_commit()


def _review_url() -> str:
    return reverse("forum:review-queue")


def _post_url(post: Post) -> str:
    return reverse("forum:post-permalink", kwargs={"pk": post.pk})


def _pending_item(post: Post, kind: str) -> ReviewItem:
    """The post's pending review item, created if there is none (under the post's lock)."""
    item = ReviewItem.objects.select_for_update().filter(post=post, status=ReviewItem.Status.PENDING).first()
    if item is None:
        item = ReviewItem.objects.create(post=post, kind=kind)
    return item


def _personal_data_reviewers() -> list[int]:
    """Active members of the anonymization team, who review posts flagged for personal data."""
    return list(User.objects.filter(triagers_q(), is_active=True).values_list("pk", flat=True).distinct())


def _without_values(findings: list) -> list:
    return [{key: value for key, value in finding.items() if key != "value"} for finding in findings or ()]


# --- Flags ------------------------------------------------------------------------

@transaction.atomic
def post_flag(*, actor: User, post_id: int, reason: str, note: str = "") -> Flag:
    """Flag a post for moderators. Locks its topic and the post.

    "Contains personal data" hides the post at once and tells the anonymization team;
    other reasons hide it once `FORUM_FLAGS_TO_HIDE` trusted people have flagged it.
    """
    post = _lock_post(post_id)
    if not posts_visible_to(actor, Post.objects.filter(pk=post.pk)).exists():
        raise Post.DoesNotExist
    check_can_flag_post(actor, post)
    if reason not in Flag.Reason.values:
        raise ValidationError({"reason": _("Please choose why you flag this post.")})
    note = " ".join(note.split())
    if reason == Flag.Reason.OTHER and not note:
        raise ValidationError({"note": _("Please say what is wrong with this post.")})
    if len(note) > 500:
        raise ValidationError({"note": _("Please keep the note under 500 characters.")})
    if Flag.objects.filter(post=post, flagger=actor).exists():
        raise ValidationError(_("You already flagged this post; moderators will look at it."))
    item = _pending_item(post, ReviewItem.Kind.FLAGGED)
    trusted = actor.trust_level >= settings.FORUM_FLAG_TRUSTED_LEVEL or can_moderate(actor)
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                post=post, flagger=actor, reason=reason, note=note, trusted=trusted, review_item=item,
            )
    except IntegrityError:  # the same person flagging twice at once
        raise ValidationError(_("You already flagged this post; moderators will look at it.")) from None
    if reason == Flag.Reason.PERSONAL_DATA:
        if not item.personal_data:
            item.personal_data = True
            item.save(update_fields=["personal_data"])
        # Never weakens a stronger hide: a held post stays held, a moderator's hide stays.
        if post.hidden in (Post.Hidden.NO, Post.Hidden.FLAGGED):
            _set_hidden(post, Post.Hidden.PERSONAL_DATA)
            moderation_log(
                actor=None, action=ModerationLogEntry.Action.POST_HIDDEN_PERSONAL_DATA, target_user=post.author,
                post=post, detail={"flag": flag.pk},
            )
            # No title: it may be what identifies the patient.
            notify_many(
                user_ids=_personal_data_reviewers(), kind=kinds.PERSONAL_DATA_FLAGGED,
                key=f"personal-data-flag:{item.pk}", url=_review_url(),
            )
            _tell_author_hidden(post)
    elif not post.hidden:
        trusted_flags = Flag.objects.filter(review_item=item, trusted=True).count()
        if trusted_flags >= settings.FORUM_FLAGS_TO_HIDE:
            _set_hidden(post, Post.Hidden.FLAGGED)
            moderation_log(
                actor=None, action=ModerationLogEntry.Action.POST_HIDDEN_BY_FLAGS, target_user=post.author,
                post=post, detail={"flags": trusted_flags},
            )
            _tell_author_hidden(post)
    return flag


def _tell_author_hidden(post: Post) -> None:
    # No `post`: the author has "read" their own post, which would keep the email from going out.
    notify(
        user=post.author, kind=kinds.POST_HIDDEN, key=f"post-hidden:{post.pk}:{timezone.now().timestamp()}",
        url=_post_url(post), topic=post.topic, title=post.topic.title,
    )


# --- Review -----------------------------------------------------------------------

REVIEW_ACTIONS = ("approve", "hide", "delete", "reject")


def _lock_item(item_id: int) -> tuple[ReviewItem, Post]:
    post_id = ReviewItem.objects.values_list("post_id", flat=True).get(pk=item_id)
    post = _lock_post(post_id)
    item = ReviewItem.objects.select_for_update().get(pk=item_id)
    item.post = post
    return item, post


@transaction.atomic
def review_resolve(*, actor: User, item_id: int, action: str, note: str = "") -> ReviewItem:
    """Decide a review item. Locks the topic, the post and the item.

    approve: the post is shown (a held post is published and its notifications go out;
      a post flagged for personal data loses its earlier versions, which may hold what
      was edited out); flags are disagreed with.
    hide: the post stays hidden for good; delete: it is soft-deleted; reject: a held post
      is deleted unpublished. Flags are agreed with. The author and flaggers are told.
    """
    item, post = _lock_item(item_id)
    check_can_review_item(actor, item)
    if action not in REVIEW_ACTIONS:
        raise ValidationError(_("Unknown action."))
    if item.status != ReviewItem.Status.PENDING:
        raise ValidationError(_("Someone already reviewed this post."))
    holds_post = item.kind in (ReviewItem.Kind.HELD, ReviewItem.Kind.IDENTIFYING) and not item.has_proposal
    if action == "reject" and not (holds_post or item.has_proposal):
        raise ValidationError(_("Only held posts are rejected; hide or delete a flagged post."))
    if action == "approve" and item.personal_data and actor.pk in (post.author_id, item.proposed_by_id) \
            and not can_approve_own_personal_data(actor):
        raise ValidationError(_("Someone else must check what you wrote yourself before it is published."))
    note = " ".join(note.split())[:500]
    was_held = holds_post
    was_hidden = bool(post.hidden)
    proposal = item.has_proposal
    Action = ModerationLogEntry.Action
    if action == "approve":
        status, log_action = ReviewItem.Status.APPROVED, Action.APPROVED
        if item.personal_data:
            _hide_earlier_revisions(Post.objects.filter(pk=post.pk))
        if proposal:  # the held edit goes public now, as its author wrote it or as the team cleaned it
            edit_locked_post(post, actor=item.proposed_by or post.author, raw=item.proposed_raw,
                             title=item.proposed_title or None, reason=_("Checked by the anonymization team"),
                             screen=False)
        if post.hidden:
            _set_hidden(post, Post.Hidden.NO)
        if was_held and post.deleted_at is None:
            post_notify_queue(post)
    elif action == "reject" and proposal:  # the held edit is dropped; the post keeps its text
        status, log_action = ReviewItem.Status.REJECTED, Action.REJECTED
    elif action == "hide":
        status, log_action = ReviewItem.Status.HIDDEN, Action.HIDDEN
        if post.hidden != Post.Hidden.MODERATOR:
            _set_hidden(post, Post.Hidden.MODERATOR)
    else:
        status = ReviewItem.Status.DELETED if action == "delete" else ReviewItem.Status.REJECTED
        log_action = Action.DELETED if action == "delete" else Action.REJECTED
        if post.deleted_at is None:
            _set_post_deleted(post, actor, deleted=True)
    item.status, item.resolved_at, item.resolved_by, item.resolution_note = status, timezone.now(), actor, note
    # A decided item keeps no copy of a text that was not published, nor the values the check found
    # (their kinds and places stay for the record).
    if proposal and action != "approve":
        item.proposed_raw, item.proposed_title = "", ""
    item.findings = _without_values(item.findings)
    item.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note", "proposed_raw",
                             "proposed_title", "findings"])
    moderation_log(
        actor=actor, action=log_action, target_user=post.author, post=post, reason=note,
        detail={"review_item": item.pk, "kind": item.kind, **({"edit": True} if proposal else {})},
    )
    agreed = action != "approve"
    Flag.objects.filter(review_item=item).update(
        outcome=Flag.Outcome.AGREED if agreed else Flag.Outcome.DISAGREED
    )
    _tell_outcome(item, post, action=action, was_held=was_held, was_hidden=was_hidden or proposal)
    invalidate_on_commit()
    return item


def _tell_outcome(item: ReviewItem, post: Post, *, action: str, was_held: bool, was_hidden: bool) -> None:
    """Tell the author and the flaggers. Without `post`: both have usually read it, and the
    email must go out all the same."""
    topic = post.topic
    title = topic.title
    if item.kind == ReviewItem.Kind.IDENTIFYING and action != "approve" and post.number == 1:
        title = ""  # a first post's title went through the check with it and may be what identifies
    identifying = item.kind == ReviewItem.Kind.IDENTIFYING
    if action == "approve":
        if was_held or was_hidden:  # published, or shown again after it was hidden
            notify(user=item.proposed_by or post.author if item.has_proposal else post.author,
                   kind=kinds.POST_CLEARED if identifying else kinds.POST_APPROVED,
                   key=f"review:{item.pk}:author", url=_post_url(post), topic=topic, title=title)
    elif action == "reject" or was_held:
        author = item.proposed_by or post.author if item.has_proposal else post.author
        if identifying:
            kind = kinds.EDIT_NOT_CLEARED if item.has_proposal else kinds.POST_NOT_CLEARED
        else:
            kind = kinds.POST_REJECTED
        notify(user=author, kind=kind, key=f"review:{item.pk}:author",
               url=_post_url(post) if item.has_proposal else reverse("forum:notification-list"), topic=topic,
               title=title)
    else:
        notify(user=post.author, kind=kinds.POST_REMOVED, key=f"review:{item.pk}:author",
               url=reverse("forum:notification-list"), topic=topic, title=title)
    kind = kinds.FLAG_DISAGREED if action == "approve" else kinds.FLAG_AGREED
    for flagger in User.objects.filter(flags__review_item=item):
        notify(user=flagger, kind=kind, key=f"review:{item.pk}:flagger", url=_post_url(post),
               topic=topic, title=topic.title, unreadable_url=reverse("forum:notification-list"))


@transaction.atomic
def review_edit(*, actor: User, item_id: int, raw: str, reason: str = "", title: str | None = None) -> Post:
    """Edit a post under review (e.g. to remove what identifies a patient), before deciding; for a
    held edit, the held version is what changes (the public text stays until approval).

    Locks the topic, the post and the item; the item stays pending, with the identifier check's
    findings in the new text.
    """
    from .content import _clean_title, _render_or_field_error, screen_fields

    item, post = _lock_item(item_id)
    check_can_review_item(actor, item)
    if item.status != ReviewItem.Status.PENDING:
        raise ValidationError(_("Someone already reviewed this post."))
    if title is not None and post.number == 1:
        title = _clean_title(title)
    else:
        title = None
    if item.has_proposal:
        _render_or_field_error(raw)
        changed = raw != item.proposed_raw or (title is not None and title != item.proposed_title)
        item.proposed_raw = raw
        if title is not None:
            item.proposed_title = title
        fields = {"title": item.proposed_title, "raw": raw} if post.number == 1 else {"raw": raw}
        item.findings = screen_fields(fields)["findings"]
        item.save(update_fields=["proposed_raw", "proposed_title", "findings"])
        if changed:
            moderation_log(actor=actor, action=ModerationLogEntry.Action.EDITED, target_user=post.author,
                           post=post, reason=reason, detail={"review_item": item.pk, "held_edit": True})
        post.proposal = item
        return post
    before = post.revision_count
    post = edit_locked_post(post, actor=actor, raw=raw, title=title, reason=reason or _("Edited during review"),
                            screen=False)
    if item.kind == ReviewItem.Kind.IDENTIFYING or item.findings:
        fields = {"title": post.topic.title, "raw": post.raw} if post.number == 1 else {"raw": post.raw}
        item.findings = screen_fields(fields)["findings"]
        item.save(update_fields=["findings"])
    if post.revision_count != before:
        moderation_log(actor=actor, action=ModerationLogEntry.Action.EDITED, target_user=post.author, post=post,
                       reason=reason, detail={"review_item": item.pk, "revision": post.revision_count})
    return post


# --- Silencing and suspending --------------------------------------------------------

def _clean_restriction(days, reason: str) -> tuple[int, str]:
    errors = {}
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_RESTRICTION_DAYS:
        errors["days"] = _("Choose between 1 and %(max)d days.") % {"max": MAX_RESTRICTION_DAYS}
    reason = " ".join((reason or "").split())
    if not reason:
        errors["reason"] = _("Please give a reason: the person will see it.")
    elif len(reason) > 500:
        errors["reason"] = _("Please keep the reason under 500 characters.")
    if errors:
        raise ValidationError(errors)
    return days, reason


# restriction: (until field, reason field, log action on, log action off, notification kind)
_RESTRICTIONS = {
    "silence": ("silenced_until", "silence_reason", ModerationLogEntry.Action.SILENCED,
                ModerationLogEntry.Action.UNSILENCED, kinds.ACCOUNT_SILENCED),
    "suspension": ("suspended_until", "suspension_reason", ModerationLogEntry.Action.SUSPENDED,
                   ModerationLogEntry.Action.UNSUSPENDED, kinds.ACCOUNT_SUSPENDED),
}


def _restrict(*, actor: User, user_id: int, restriction: str, days, reason: str) -> User:
    user = User.objects.select_for_update().get(pk=user_id)
    check_can_restrict_user(actor, user)
    days, reason = _clean_restriction(days, reason)
    until_field, reason_field, action, _lift, kind = _RESTRICTIONS[restriction]
    until = timezone.now() + timedelta(days=days)
    setattr(user, until_field, until)
    setattr(user, reason_field, reason)
    user.save(update_fields=[until_field, reason_field])
    moderation_log(actor=actor, action=action, target_user=user, reason=reason,
                   detail={"until": until.isoformat(), "days": days})
    notify(user=user, kind=kind, key=f"{restriction}:{user.pk}:{timezone.now().timestamp()}",
           url=reverse("forum:notification-list"), title=reason)
    return user


@transaction.atomic
def user_silence(*, actor: User, user_id: int, days: int, reason: str) -> User:
    """Stop a person posting for `days` (they still read); they are told why. Locks the person."""
    return _restrict(actor=actor, user_id=user_id, restriction="silence", days=days, reason=reason)


@transaction.atomic
def user_suspend(*, actor: User, user_id: int, days: int, reason: str) -> User:
    """Keep a person off the site for `days`; every page shows them why. Locks the person."""
    return _restrict(actor=actor, user_id=user_id, restriction="suspension", days=days, reason=reason)


@transaction.atomic
def user_restriction_lift(*, actor: User, user_id: int, restriction: str, reason: str = "") -> User:
    """End a silence or a suspension early. Locks the person."""
    if restriction not in _RESTRICTIONS:
        raise ValidationError(_("Unknown restriction."))
    user = User.objects.select_for_update().get(pk=user_id)
    check_can_restrict_user(actor, user)
    until_field, reason_field, _on, action, _kind = _RESTRICTIONS[restriction]
    setattr(user, until_field, None)
    setattr(user, reason_field, "")
    fields = [until_field, reason_field]
    user.save(update_fields=fields)
    moderation_log(actor=actor, action=action, target_user=user, reason=" ".join(reason.split()))
    return user


# --- Spam sweeps ------------------------------------------------------------------

@transaction.atomic
def spammer_delete(*, actor: User, user_id: int, reason: str = "") -> ModerationLogEntry:
    """Deactivate a spammer and soft-delete every live post and topic of theirs, in one action.

    Restorable with `spammer_restore`: the log entry keeps which posts this sweep deleted
    (not those deleted before). Locks the person, then each topic and post.
    """
    user = User.objects.select_for_update().get(pk=user_id)
    check_can_restrict_user(actor, user)
    post_ids = list(
        Post.objects.filter(author=user, deleted_at__isnull=True).order_by("number", "pk").values_list("pk", flat=True)
    )
    if len(post_ids) > MAX_SWEEP_POSTS:
        raise ValidationError(_("This person has too many posts for one sweep; ask an administrator."))
    was_active = user.is_active
    user.is_active = False  # first, so they cannot post while the sweep runs
    user.save(update_fields=["is_active"])
    deleted = []
    for post_id in post_ids:  # first posts first: a topic goes with its first post
        post = _lock_post(post_id)
        if post.deleted_at is None:
            _set_post_deleted(post, actor, deleted=True)
            deleted.append(post.pk)
    ReviewItem.objects.filter(post_id__in=deleted, status=ReviewItem.Status.PENDING).update(
        status=ReviewItem.Status.DELETED, resolved_at=timezone.now(), resolved_by=actor,
    )
    invalidate_on_commit()
    return moderation_log(
        actor=actor, action=ModerationLogEntry.Action.SPAMMER_DELETED, target_user=user,
        reason=" ".join(reason.split()), detail={"post_ids": deleted, "was_active": was_active},
    )


@transaction.atomic
def spammer_restore(*, actor: User, log_entry_id: int) -> ModerationLogEntry:
    """Undo a spam sweep: the person is active again and the posts it deleted come back intact."""
    entry = ModerationLogEntry.objects.select_for_update().get(
        pk=log_entry_id, action=ModerationLogEntry.Action.SPAMMER_DELETED
    )
    user = User.objects.select_for_update().get(pk=entry.target_user_id)
    check_can_restrict_user(actor, user)
    if entry.detail.get("restored"):
        raise ValidationError(_("This sweep was already undone."))
    restored = []
    for post_id in sorted(entry.detail.get("post_ids", []), key=lambda pk: pk):
        try:
            post = _lock_post(post_id)
        except Post.DoesNotExist:
            continue
        if post.deleted_at is not None:
            _set_post_deleted(post, actor, deleted=False)
            restored.append(post.pk)
    if user.deleted_at is None and entry.detail.get("was_active", True):
        user.is_active = True
        user.save(update_fields=["is_active"])
    entry.detail = {**entry.detail, "restored": True}
    entry.save(update_fields=["detail"])
    invalidate_on_commit()
    return moderation_log(
        actor=actor, action=ModerationLogEntry.Action.SPAMMER_RESTORED, target_user=user,
        detail={"post_ids": restored, "sweep": entry.pk},
    )
