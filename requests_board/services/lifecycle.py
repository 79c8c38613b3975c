"""The life cycle table, the history and the steps every service shares: locking, notices, claims ending."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from forum import services as forum_services
from forum.models import Category, User

from ..models import Claim, DataRequest, RequestEvent
from ..notifications import NoticeKind

State = DataRequest.State


class InvalidTransition(ValidationError):
    """A life-cycle step the request's current state does not allow."""

    api_status, api_code = 409, "invalid_state"  # the API answers 409 Conflict (forum/api/errors.py)


# action: (states it may start from, state it leads to, message when refused)
TRANSITIONS = {
    "publish": ({State.DRAFT}, State.OPEN, _lazy("This request is already published.")),
    "claim": ({State.OPEN}, State.CLAIMED, _lazy("This request is %(state)s: it can no longer be claimed.")),
    "start": ({State.CLAIMED}, State.IN_PROGRESS, _lazy("This request is %(state)s: progress updates are closed.")),
    "deliver": (
        {State.CLAIMED, State.IN_PROGRESS, State.DELIVERED}, State.DELIVERED,
        _lazy("This request is %(state)s: results can no longer be delivered."),
    ),
    "accept": ({State.DELIVERED}, State.ACCEPTED, _lazy("This request is %(state)s: there is no result to accept.")),
    "reopen": ({State.CLAIMED, State.IN_PROGRESS}, State.OPEN, _lazy("This request is %(state)s.")),
    "withdraw": (
        {State.OPEN, State.CLAIMED}, State.WITHDRAWN,
        _lazy("This request is %(state)s: only open or claimed requests can be withdrawn."),
    ),
    "close": (set(State) - {State.CLOSED}, State.CLOSED, _lazy("This request is already closed.")),
}


def _refuse(action: str, data_request: DataRequest):
    message = TRANSITIONS[action][2]
    return InvalidTransition(message % {"state": data_request.get_state_display().lower()})


def check_transition(data_request: DataRequest, action: str) -> str:
    """The state `action` leads to from the request's state; raises InvalidTransition if not allowed."""
    sources, target, _message = TRANSITIONS[action]
    if data_request.state not in sources:
        raise _refuse(action, data_request)
    return target


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
