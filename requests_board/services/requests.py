"""Drafts, publishing, editing, clearing, withdrawing and closing requests."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anonymization import services as anonymization_services
from forum import services as forum_services
from forum.models import Post, User
from forum.pagecache import invalidate_on_commit

from ..models import Claim, DataRequest, RequestEvent
from ..permissions import (
    check_can_attach_file,
    check_can_clear_anonymization,
    check_can_close,
    check_can_edit_request,
    check_can_post_request,
    check_can_withdraw,
    declares_identifying,
    waiting_refusal,
)
from .details import _apply_details, _clean_details, clean_expertise
from .licenses import _record_dataset
from .lifecycle import (
    InvalidTransition,
    _end_claims,
    _event,
    _lock_request,
    _transition,
    anonymization_category,
    check_transition,
)

State = DataRequest.State


# --- Drafts, publishing, editing ----------------------------------------------------

@transaction.atomic
def request_submit(*, actor: User, details: dict, publish: bool, data_request_id: int | None = None) -> DataRequest:
    """Create or update a draft, and publish it when `publish` is set. Locks the draft.

    Nothing is saved when validation fails: a refused publish leaves the draft as it was.
    """
    check_can_post_request(actor)
    now = timezone.now()
    if data_request_id is None:
        data_request = DataRequest(author=actor, created_at=now)
    else:
        data_request = _lock_request(data_request_id)
        check_transition(data_request, "save_draft")
        check_can_edit_request(actor, data_request)
    cleaned = _clean_details(details, actor=actor, publishing=publish)
    _apply_details(data_request, cleaned)
    data_request.updated_at = now
    data_request.save()
    if data_request_id is None:
        _event(data_request, actor, RequestEvent.Kind.CREATED, to_state=State.DRAFT, now=now)
    if publish:
        _publish(data_request, actor=actor, now=now)
    return data_request


def _published_details(data_request: DataRequest) -> dict:
    """The free-text fields a request shows besides its title and question, for the identifier check."""
    return {
        "result_description": data_request.result_description,
        "data_links": "\n".join(data_request.data_links or []),
    }


def identifying_details(*, title: str, question: str, details: dict) -> bool:
    """Whether the identifier check, reading a request's title, question and structured fields
    together, holds it for something in the structured fields. Those are the request's own and
    cannot wait in the review queue like a post: such a request goes to the private channel, where
    the anonymization team reads it and the requester can edit them."""
    screening = forum_services.screen_fields({"title": title, "raw": question, **details})
    return screening["hold"] and any(finding.get("field") in details for finding in screening["findings"])


def _publish(data_request: DataRequest, *, actor: User, now) -> None:
    check_transition(data_request, "publish")
    needs_anonymization = data_request.patient_data in (
        DataRequest.PatientData.YES, DataRequest.PatientData.UNSURE,
    ) or identifying_details(title=data_request.title, question=data_request.question,
                             details=_published_details(data_request))
    destination = anonymization_category() if needs_anonymization else data_request.category
    try:
        # The title and question go through the forum's own check (a held first post waits in the
        # review queue); the structured fields were read with them above.
        topic = forum_services.topic_create(
            actor=actor, category=destination, title=data_request.title, raw=data_request.question,
            tags=clean_expertise(data_request.expertise),
        )
    except ValidationError as error:
        # The forum names the body "raw" and the tags "tags"; the request form says question and expertise.
        renamed = {{"raw": "question", "tags": "expertise"}.get(k, k): v for k, v in error.message_dict.items()}
        raise ValidationError(renamed) from None
    data_request.topic = topic
    data_request.needs_anonymization = needs_anonymization
    data_request.published_at = now
    data_request.save(update_fields=["topic", "needs_anonymization", "published_at"])
    _transition(data_request, "publish", actor=actor, kind=RequestEvent.Kind.PUBLISHED, now=now)
    if needs_anonymization:
        _event(data_request, actor, RequestEvent.Kind.SENT_TO_ANONYMIZATION, now=now)
    _record_dataset(data_request)
    invalidate_on_commit()


@transaction.atomic
def request_edit(*, actor: User, data_request_id: int, details: dict) -> DataRequest:
    """Change a published request's details. Locks the request.

    The topic area stays (moderators move topics). Saying the data may identify a
    patient moves the request into the Anonymization channel at once; saying it
    no longer does never makes it public: only clearing does.
    """
    data_request = _lock_request(data_request_id)
    if data_request.state == State.DRAFT:
        raise InvalidTransition(_("This request is a draft: save it from the draft form."))
    check_can_edit_request(actor, data_request)
    details = {**details, "category": data_request.category}
    cleaned = _clean_details(details, actor=data_request.author, publishing=True)
    title_changed = cleaned["title"] != data_request.topic.title
    first_post = Post.objects.get(topic_id=data_request.topic_id, number=1)
    details_after = {
        "result_description": cleaned["result_description"], "data_links": "\n".join(cleaned["data_links"]),
    }
    # An identifier in the structured fields cannot wait beside the old text like a held post edit:
    # the whole request goes private to the anonymization team.
    send_private = identifying_details(title=cleaned["title"], question=cleaned["question"], details=details_after)
    data_request.edit_held = False
    if title_changed or cleaned["question"] != first_post.raw:
        try:
            edited = forum_services.post_edit(
                actor=actor, post_id=first_post.pk, raw=cleaned["question"], title=cleaned["title"],
            )
        except ValidationError as error:
            raise ValidationError({"question": error.messages}) from None
        # Held for the anonymization team: the old title and question stay until they clear it,
        # and the request keeps no copy of the held ones.
        data_request.edit_held = edited.edit_held
        if edited.edit_held:
            cleaned["title"], cleaned["question"] = data_request.title, data_request.question
    if sorted(cleaned["expertise"]) != sorted(tag.name for tag in data_request.topic.tags.all()):
        forum_services.topic_set_tags(actor=actor, topic_id=data_request.topic_id, tags=cleaned["expertise"])
    patient_before = data_request.patient_data
    _apply_details(data_request, cleaned)
    data_request.updated_at = timezone.now()
    data_request.save()
    _event(data_request, actor, RequestEvent.Kind.EDITED)
    data_request.topic.refresh_from_db(fields=["title"])
    _record_dataset(data_request)
    may_identify = (DataRequest.PatientData.YES, DataRequest.PatientData.UNSURE)
    waiting = data_request.needs_anonymization and data_request.cleared_at is None
    if not waiting and (send_private or (
            data_request.patient_data in may_identify and patient_before not in may_identify)):
        _send_to_anonymization(data_request, actor=actor)
    invalidate_on_commit()
    return data_request


def _send_to_anonymization(data_request: DataRequest, *, actor: User) -> None:
    forum_services.topic_move(actor=actor, topic_id=data_request.topic_id, category=anonymization_category())
    data_request.needs_anonymization = True
    data_request.cleared_at = None
    data_request.save(update_fields=["needs_anonymization", "cleared_at"])
    _event(data_request, actor, RequestEvent.Kind.SENT_TO_ANONYMIZATION)
    # Volunteers are outside the channel's audience now: their claims end (they are told,
    # without the title), and the request waits, open, for the team's clearance.
    _end_claims(data_request, actor=actor, status=Claim.Status.RELEASED)
    if data_request.state in (State.CLAIMED, State.IN_PROGRESS):
        _transition(data_request, "reopen", actor=actor, kind=RequestEvent.Kind.RELEASED,
                    detail=_("claims ended: the data may identify a patient"))


@transaction.atomic
def request_clear(*, actor: User, data_request_id: int) -> DataRequest:
    """Publish a request waiting in the Anonymization channel into its topic area. Locks the request.

    The anonymization team or a moderator does it, directly or by approving a file
    of the request (anonymization_hooks.upload_approved); quarantined files stay
    quarantined until each is approved.
    """
    data_request = _lock_request(data_request_id)
    if refusal := waiting_refusal(data_request):
        raise InvalidTransition(refusal)
    check_transition(data_request, "clear")
    check_can_clear_anonymization(actor, data_request)
    forum_services.topic_move(
        actor=actor, topic_id=data_request.topic_id, category=data_request.category, release=True
    )
    data_request.cleared_at = timezone.now()
    data_request.save(update_fields=["cleared_at"])
    _event(data_request, actor, RequestEvent.Kind.CLEARED)
    invalidate_on_commit()
    return data_request


@transaction.atomic
def request_withdraw(*, actor: User, data_request_id: int, reason: str = "") -> DataRequest:
    """The requester takes an open or claimed request back; active claims end. Locks the request."""
    data_request = _lock_request(data_request_id)
    check_can_withdraw(actor, data_request)
    _transition(data_request, "withdraw", actor=actor, kind=RequestEvent.Kind.WITHDRAWN, detail=reason.strip())
    _end_claims(data_request, actor=actor, status=Claim.Status.RELEASED)
    invalidate_on_commit()
    return data_request


@transaction.atomic
def request_close(*, actor: User, data_request_id: int, reason: str) -> DataRequest:
    """A moderator closes a request in any state, saying why; the topic closes too. Locks the request."""
    reason = " ".join((reason or "").split())
    data_request = _lock_request(data_request_id)
    check_can_close(actor, data_request)
    if not reason:
        raise ValidationError({"reason": _("Please say why you close this request; the requester will read it.")})
    if len(reason) > 500:
        raise ValidationError({"reason": _("Please keep the reason under 500 characters.")})
    _transition(data_request, "close", actor=actor, kind=RequestEvent.Kind.CLOSED, detail=reason)
    data_request.close_reason = reason
    data_request.save(update_fields=["close_reason"])
    _end_claims(data_request, actor=actor, status=Claim.Status.RELEASED)
    forum_services.topic_set_closed(actor=actor, topic_id=data_request.topic_id, closed=True)
    invalidate_on_commit()
    return data_request


def request_attach(*, actor: User, data_request_id: int, file, ip: str | None = None):
    """The requester attaches a data file; it goes to quarantine and is published only after review.

    Not atomic itself: the anonymization service vets the file (auditing a refusal in its
    own transaction) and then stores it atomically.
    """
    data_request = DataRequest.objects.select_related("topic").get(pk=data_request_id)
    check_can_attach_file(actor, data_request)
    try:
        return anonymization_services.upload_create(
            actor=actor, topic=data_request.topic, file=file,
            declared_identifying=declares_identifying(data_request), ip=ip,
        )
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
