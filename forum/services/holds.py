"""Holding posts: a new member's post until a moderator approves it, and a post or an edit that may
identify a patient until the anonymization team decides.

Each hold writes its `ModerationLogEntry` in the writing transaction, under the post's lock.
"""
from django.utils import timezone

from .. import notifications as kinds
from ..models import ModerationLogEntry, Post, ReviewItem, User
from .moderation import _personal_data_reviewers, _post_url, _review_url, _set_hidden, _without_values, moderation_log
from .notifications import notify, notify_many

# --- Holding new members' posts ----------------------------------------------------

def post_hold(post: Post) -> ReviewItem:
    """Hold a just-created post of a new member for approval (in the creating transaction)."""
    _set_hidden(post, Post.Hidden.AWAITING_APPROVAL)
    item = ReviewItem.objects.create(post=post, kind=ReviewItem.Kind.HELD)
    moderation_log(actor=None, action=ModerationLogEntry.Action.POST_HELD, target_user=post.author, post=post)
    return item


# --- Holding what may identify a patient --------------------------------------------

def _kinds_of(findings: list) -> list[str]:
    return sorted({finding["kind"] for finding in findings})


def _tell_identifying_held(item: ReviewItem, post: Post) -> None:
    """The team hears (no title: it may be the identifier), and so does the author, with the
    title only of a reply (a first post's title went through the check with it)."""
    notify_many(user_ids=_personal_data_reviewers(), kind=kinds.PERSONAL_DATA_HELD,
                key=f"identifying:{item.pk}", url=_review_url())
    notify(user=post.author if not item.has_proposal else item.proposed_by or post.author,
           kind=kinds.POST_HELD_IDENTIFYING, key=f"identifying:{item.pk}:author:{timezone.now().timestamp()}",
           url=_post_url(post), topic=post.topic, title=post.topic.title if post.number > 1 else "")


def post_hold_identifying(post: Post, *, findings: list, hold: bool = True) -> ReviewItem | None:
    """Hold a post the identifier check stopped (in the writing transaction, under its lock): only
    its author and the anonymization team read it until the team decides. Watchers hear of it
    only once it is cleared. A post already waiting gets the findings on its pending item; with
    `hold` False (an edit of a waiting post found nothing) only those are brought up to date."""
    item = ReviewItem.objects.select_for_update().filter(post=post, status=ReviewItem.Status.PENDING).first()
    if item is None and post.hidden == Post.Hidden.MODERATOR:
        return None  # hidden for good by a decision: nobody else reads it, and no clearance may show it again
    if not hold:
        if item is not None and (item.personal_data or item.findings):
            item.findings = findings
            item.save(update_fields=["findings"])
        return item
    tell = item is None or not item.personal_data
    if item is None:
        item = ReviewItem.objects.create(post=post, kind=ReviewItem.Kind.IDENTIFYING, personal_data=True,
                                         findings=findings)
    else:
        item.personal_data, item.findings = True, findings
        item.save(update_fields=["personal_data", "findings"])
    if post.hidden in (Post.Hidden.NO, Post.Hidden.FLAGGED):
        _set_hidden(post, Post.Hidden.PERSONAL_DATA)
    if tell:
        moderation_log(actor=None, action=ModerationLogEntry.Action.POST_HELD_IDENTIFYING, target_user=post.author,
                       post=post, detail={"review_item": item.pk, "kinds": _kinds_of(findings)})
        _tell_identifying_held(item, post)
    return item


def edit_hold_identifying(post: Post, *, actor: User, raw: str, title: str, findings: list) -> ReviewItem:
    """Keep a shown post's current text and hold its new version (which may identify a patient)
    for the anonymization team, on the post's pending review item. Under the post's lock."""
    item = ReviewItem.objects.select_for_update().filter(post=post, status=ReviewItem.Status.PENDING).first()
    if item is None:
        item = ReviewItem(post=post, kind=ReviewItem.Kind.IDENTIFYING)
    item.personal_data = item.has_proposal = True
    item.proposed_raw, item.proposed_title, item.proposed_by, item.findings = raw, title, actor, findings
    item.save()
    moderation_log(actor=None, action=ModerationLogEntry.Action.EDIT_HELD_IDENTIFYING, target_user=actor, post=post,
                   detail={"review_item": item.pk, "kinds": _kinds_of(findings)})
    _tell_identifying_held(item, post)
    return item


def withdraw_held_edit(post: Post) -> None:
    """A newer edit replaces a held one: the held version is dropped (an item that held only that
    edit is withdrawn; one about the post itself stays, without the proposal)."""
    item = ReviewItem.objects.select_for_update().filter(
        post=post, status=ReviewItem.Status.PENDING, has_proposal=True,
    ).first()
    if item is None:
        return
    item.has_proposal, item.proposed_raw, item.proposed_title = False, "", ""
    fields = ["has_proposal", "proposed_raw", "proposed_title"]
    if item.kind == ReviewItem.Kind.IDENTIFYING:
        item.status, item.resolved_at = ReviewItem.Status.WITHDRAWN, timezone.now()
        item.findings = _without_values(item.findings)
        fields += ["status", "resolved_at", "findings"]
    item.save(update_fields=fields)
