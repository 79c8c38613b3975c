"""Who may see and decide about quarantined uploads: the one place these rules live.

Anything private a person may not see is a 404, like something missing.
"""
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from forum.models import Topic
from forum.permissions import can_moderate, can_read_post_text, check_not_silenced, topics_visible_to


def can_triage(user) -> bool:
    """The anonymization team and moderators see the queue, every report, and decide."""
    return user.is_authenticated and (user.has_perm("forum.triage_anonymization") or can_moderate(user))


def uploads_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Quarantined uploads `user` may see: the team sees all, the uploader their own."""
    if can_triage(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(uploader=user)


def can_see_upload(user, upload) -> bool:
    """The item page, its report, its versions and its private thread."""
    return can_triage(user) or (user.is_authenticated and upload.uploader_id == user.pk)


def check_can_see_upload(user, upload) -> None:
    if not can_see_upload(user, upload):
        raise Http404


def can_read_audit(user) -> bool:
    """The audit log is for the team and moderators, not for the uploader."""
    return can_triage(user)


def can_write_message(user, upload) -> bool:
    return can_see_upload(user, upload) and upload.state not in (upload.State.PUBLISHED, upload.State.REJECTED)


def check_can_write_message(user, upload) -> None:
    check_can_see_upload(user, upload)
    check_not_silenced(user)
    if not can_write_message(user, upload):
        raise PermissionDenied(_("This file's review is over; the thread is closed."))


def can_decide(user, upload) -> bool:
    """The team decides about a scanned file waiting for review."""
    return can_triage(user) and upload.state == upload.State.REVIEW


def can_approve(user, upload) -> bool:
    """Deciders approve, but never their own upload (a moderator who uploaded needs a colleague)."""
    return can_decide(user, upload) and upload.uploader_id != user.pk


def check_can_decide(user, upload, *, approve: bool) -> None:
    check_can_see_upload(user, upload)
    if not can_triage(user):
        raise PermissionDenied(_("Only the anonymization team and moderators decide about files."))
    if upload.state != upload.State.REVIEW:
        raise PermissionDenied(_("This file is not waiting for a decision (it is: %(state)s).")
                               % {"state": upload.get_state_display()})
    if approve and upload.uploader_id == user.pk:
        raise PermissionDenied(_("You cannot approve your own upload; another member of the team must."))


def can_add_version(user, upload) -> bool:
    """The uploader sends a new version while the file is under review or changes were asked for."""
    return (
        user.is_authenticated and upload.uploader_id == user.pk
        and upload.state in (upload.State.REVIEW, upload.State.CHANGES)
    )


def check_can_add_version(user, upload) -> None:
    check_can_see_upload(user, upload)
    check_not_silenced(user)
    if not can_add_version(user, upload):
        raise PermissionDenied(_("A new version can be sent only while the file is under review."))


def can_download_published(user, upload) -> bool:
    """A published copy is for whoever can read the topic (and the post) it belongs to."""
    if upload.state != upload.State.PUBLISHED or upload.published_at is None:
        return False
    if not topics_visible_to(user, Topic.objects.filter(pk=upload.topic_id)).exists():
        return False
    if not (upload.post_id is None or upload.post.deleted_at is None or can_moderate(user)):
        return False
    if upload.post_id is not None and not can_read_post_text(user, upload.post):
        return False  # its post is hidden for review
    from . import hooks

    return not hooks.published_withheld(user=user, upload=upload)
