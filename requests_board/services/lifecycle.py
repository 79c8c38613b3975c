"""The history and the steps every service shares: moving along the life cycle (rules.py holds its
table), locking, notices, claims ending."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from forum import services as forum_services
from forum.models import Category, User

from ..models import Claim, DataRequest, RequestEvent
from ..notifications import NoticeKind

# The table lives in rules.py (permissions read it too); services import it from here as before.
from ..rules import TRANSITIONS as TRANSITIONS
from ..rules import InvalidTransition as InvalidTransition
from ..rules import check_transition

State = DataRequest.State


def _transition(data_request, action, *, actor, kind, detail="", subject=None, now=None):
    """Move the request along the life cycle and record who did it, in the caller's transaction."""
    now = now or timezone.now()
    target = check_transition(data_request, action)
    source = data_request.state
    data_request.state = target
    data_request.updated_at = now
    data_request.save(update_fields=["state", "updated_at"])
    _event(data_request, actor, kind, from_state=source, to_state=target, detail=detail, subject=subject, now=now)


def _event(data_request, actor, kind, *, from_state="", to_state="", detail="", subject=None, now=None):
    RequestEvent.objects.create(
        data_request=data_request, actor=actor, kind=kind, from_state=from_state, to_state=to_state,
        detail=detail[:500], subject=subject, created_at=now or timezone.now(),
    )


def _lock_request(data_request_id: int) -> DataRequest:
    return (
        DataRequest.objects.select_for_update(of=("self",))
        .select_related("topic", "topic__category", "category", "author")
        .get(pk=data_request_id)
    )


def _notify(recipient: User, kind: str, data_request: DataRequest, key: str, *, actor: User | None = None,
            post=None) -> None:
    """Tell `recipient` about a request once per `key` (a forum notification; the email, if they
    want one, is owed in this transaction and sent after commit). Someone who can no longer read
    the request is sent to their claims instead."""
    topic = data_request.topic
    forum_services.notify(
        user=recipient, kind=kind, key=key, actor=actor, topic=topic, post=post,
        title=topic.title if topic is not None else data_request.title,
        url=post.get_absolute_url() if post is not None else data_request.get_absolute_url(),
        unreadable_url=reverse("requests_board:my-claims"),
    )


def anonymization_category() -> Category:
    """The private channel where patient data waits; created on first use if a site lacks it."""
    slug = settings.REQUESTS_ANONYMIZATION_CATEGORY
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        category = forum_services.category_create(
            name=_("Anonymization (private)"), slug=slug, security=Category.Security.PRIVATE,
            description=_("Data that may identify a patient is reviewed here privately before anything is published."),
            group_names=("Moderators", "Anonymization team"), members_start_private_topics=True, color="#6b7280",
        )
    return category


def _end_claims(data_request: DataRequest, *, actor: User | None, status: str) -> None:
    now = timezone.now()
    for claim in Claim.objects.select_for_update().filter(data_request=data_request, status=Claim.Status.ACTIVE):
        claim.status, claim.ended_at, claim.ended_by = status, now, actor
        claim.save(update_fields=["status", "ended_at", "ended_by"])
        if status != Claim.Status.COMPLETED:
            _notify(claim.volunteer, NoticeKind.REQUEST_ENDED, data_request, f"request-ended:{claim.pk}")
