"""Every write on data requests: drafts, publishing, the life cycle, claims, updates, results.

Lock order, the same everywhere so no two services deadlock: the request row,
then the forum topic (taken by the forum's services), then claims.
Emails are owed through `Notice` rows written in the same transaction and
sent after commit, so a retried or concurrent task never sends one twice.
"""
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from license_expression import get_spdx_licensing

from forum import selectors as forum_selectors
from forum import services as forum_services
from forum.models import Category, Post, User
from forum.pagecache import invalidate_on_commit
from forum.permissions import check_can_post_in_category

from .models import Claim, DataRequest, Notice, ProgressUpdate, RequestEvent, Result
from .permissions import (
    can_see_request,
    check_can_accept_result,
    check_can_claim,
    check_can_close,
    check_can_edit_request,
    check_can_post_request,
    check_can_release_claim,
    check_can_withdraw,
    check_is_active_claimant,
)

State = DataRequest.State


class InvalidTransition(ValidationError):
    """A life-cycle step the request's current state does not allow."""


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


def _notify(recipient: User, kind: str, data_request: DataRequest, key: str) -> None:
    """Owe `recipient` one email, once per `key`; sent after commit."""
    from .tasks import send_notice

    try:
        with transaction.atomic():
            notice, created = Notice.objects.get_or_create(
                key=key[:200], defaults={"recipient": recipient, "kind": kind, "data_request": data_request}
            )
    except IntegrityError:  # a concurrent transaction owed it first
        return
    if created:
        send_notice.delay_on_commit(notice_id=notice.pk)


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


# --- Details: validation ---------------------------------------------------------

DETAIL_FIELDS = (
    "title", "question", "category", "modality", "data_size", "data_links", "result_description",
    "result_type", "deadline", "expertise", "serves_covid", "patient_data",
)
_https = URLValidator(schemes=["https"])


def clean_data_links(links) -> list[str]:
    """Links to where the data lives: https addresses, one per line, at most REQUESTS_MAX_DATA_LINKS."""
    if isinstance(links, str):
        links = links.splitlines()
    cleaned, errors = [], []
    for number, link in enumerate(links, start=1):
        link = link.strip()
        if not link:
            continue
        if len(link) > 500:
            errors.append(_("Link %(number)d is longer than 500 characters.") % {"number": number})
            continue
        try:
            _https(link)
        except ValidationError:
            errors.append(
                _("Link %(number)d (“%(link)s”) is not a web address starting with https://.")
                % {"number": number, "link": link[:80]}
            )
            continue
        if link not in cleaned:
            cleaned.append(link)
    if len(cleaned) > settings.REQUESTS_MAX_DATA_LINKS:
        errors.append(_("Give at most %(limit)d links.") % {"limit": settings.REQUESTS_MAX_DATA_LINKS})
    if errors:
        raise ValidationError({"data_links": errors})
    return cleaned


def clean_expertise(expertise) -> list[str]:
    if isinstance(expertise, str):
        expertise = expertise.split(",")
    try:
        return forum_services.clean_tags(expertise)
    except ValidationError as error:
        raise ValidationError({"expertise": error.message_dict["tags"]}) from None


def check_future_date(value, field: str) -> None:
    if value is not None and value < timezone.localdate():
        raise ValidationError({field: _("This date is in the past. Please choose today or a later date.")})


def clean_license(value: str) -> str:
    """An SPDX license expression, normalized (e.g. "mit" → "MIT"); raises ValidationError if unknown."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({"license": _("Choose a license so others may reuse the result.")})
    if len(value) > 100:
        raise ValidationError({"license": _("Please keep the license under 100 characters.")})
    info = get_spdx_licensing().validate(value)
    if info.errors:
        raise ValidationError({"license": _(
            "“%(value)s” is not an SPDX license identifier. Use one such as MIT, BSD-3-Clause, "
            "Apache-2.0 or CC-BY-4.0."
        ) % {"value": value}})
    return info.normalized_expression


def clean_repository_url(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({"repository_url": _(
            "Give the address of an open repository or archive, so others can reproduce the result."
        )})
    try:
        _https(value)
    except ValidationError:
        raise ValidationError({"repository_url": _("Give a web address starting with https://.")}) from None
    if len(value) > 500:
        raise ValidationError({"repository_url": _("Please keep the address under 500 characters.")})
    return value


def _collect(errors: dict, function, *args):
    """Call a cleaning function; gather its field errors into `errors` instead of raising."""
    try:
        return function(*args)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
        return None


def _clean_details(details: dict, *, actor: User, publishing: bool) -> dict:
    """Check a request's details. Drafts need a title and a category; publishing needs everything."""
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"unknown request details: {sorted(unknown)}")
    cleaned = {field: details.get(field) for field in DETAIL_FIELDS}
    errors = {}

    def collect(function, *args):
        return _collect(errors, function, *args)

    title = " ".join(str(details.get("title") or "").split())
    if not title:
        errors["title"] = [_("Please give the request a short title.")]
    elif len(title) > 200:
        errors["title"] = [_("Please keep the title under 200 characters.")]
    cleaned["title"] = title
    cleaned["question"] = str(details.get("question") or "")
    category = details.get("category")
    if category is None:
        errors["category"] = [_("Choose the topic area of your request.")]
    elif not category.is_public:
        errors["category"] = [_(
            "Choose a public topic area. If the data may identify a patient, say so below: "
            "the request then goes to the anonymization team first."
        )]
    else:
        try:
            check_can_post_in_category(actor, category)
        except Exception:  # PermissionDenied: explained as a field error
            errors["category"] = [_("You cannot post in this topic area.")]
    cleaned["data_links"] = collect(clean_data_links, details.get("data_links") or []) or []
    cleaned["expertise"] = collect(clean_expertise, details.get("expertise") or []) or []
    collect(check_future_date, details.get("deadline"), "deadline")
    for field, choices in (
        ("modality", DataRequest.Modality), ("data_size", DataRequest.DataSize),
        ("result_type", DataRequest.ResultType), ("patient_data", DataRequest.PatientData),
    ):
        value = details.get(field) or ""
        if value and value not in choices.values:
            errors[field] = [_("Choose one of the options.")]
        cleaned[field] = value
    cleaned["serves_covid"] = bool(details.get("serves_covid"))
    cleaned["result_description"] = str(details.get("result_description") or "")
    if publishing:
        required = {
            "question": _("Please describe your question: what you have and what you need."),
            "modality": _("Choose the kind of data you have."),
            "data_size": _("Choose roughly how large the data is (“I don't know” is fine)."),
            "result_description": _("Please describe the result you need."),
            "result_type": _("Choose the form of the result."),
            "patient_data": _(
                "Please tell us whether the data may identify a patient. If you are not sure, choose "
                "“I am not sure”: the anonymization team will check it privately."
            ),
        }
        for field, message in required.items():
            if not str(details.get(field) or "").strip() and field not in errors:
                errors[field] = [message]
        if not cleaned["expertise"] and "expertise" not in errors:
            errors["expertise"] = [_("Name at least one kind of expertise, e.g. statistics or imaging.")]
        if not cleaned["serves_covid"]:
            errors["serves_covid"] = [_(
                "Please confirm that the work serves mitigating COVID-19: this help desk is for that work only."
            )]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _apply_details(data_request: DataRequest, cleaned: dict) -> None:
    for field in DETAIL_FIELDS:
        setattr(data_request, field, cleaned[field])
    data_request.expertise = ", ".join(cleaned["expertise"])


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
        if data_request.author_id != actor.pk or data_request.state != State.DRAFT:
            raise InvalidTransition(_("Only drafts are saved this way; this request is already published."))
    cleaned = _clean_details(details, actor=actor, publishing=publish)
    _apply_details(data_request, cleaned)
    data_request.updated_at = now
    data_request.save()
    if data_request_id is None:
        _event(data_request, actor, RequestEvent.Kind.CREATED, to_state=State.DRAFT, now=now)
    if publish:
        _publish(data_request, actor=actor, now=now)
    return data_request


def _publish(data_request: DataRequest, *, actor: User, now) -> None:
    check_transition(data_request, "publish")
    needs_anonymization = data_request.patient_data in (DataRequest.PatientData.YES, DataRequest.PatientData.UNSURE)
    destination = anonymization_category() if needs_anonymization else data_request.category
    try:
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
    if title_changed or cleaned["question"] != first_post.raw:
        try:
            forum_services.post_edit(
                actor=actor, post_id=first_post.pk, raw=cleaned["question"], title=cleaned["title"],
            )
        except ValidationError as error:
            raise ValidationError({"question": error.messages}) from None
    if sorted(cleaned["expertise"]) != sorted(tag.name for tag in data_request.topic.tags.all()):
        forum_services.topic_set_tags(actor=actor, topic_id=data_request.topic_id, tags=cleaned["expertise"])
    patient_before = data_request.patient_data
    _apply_details(data_request, cleaned)
    data_request.updated_at = timezone.now()
    data_request.save()
    _event(data_request, actor, RequestEvent.Kind.EDITED)
    may_identify = (DataRequest.PatientData.YES, DataRequest.PatientData.UNSURE)
    waiting = data_request.needs_anonymization and data_request.cleared_at is None
    if data_request.patient_data in may_identify and patient_before not in may_identify and not waiting:
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

    The hand-off point for the anonymization app, which adds scanning and the audit
    log before calling this; the move itself checks the actor moderates both ends.
    """
    data_request = _lock_request(data_request_id)
    if not data_request.needs_anonymization or data_request.cleared_at is not None:
        raise InvalidTransition(_("This request is not waiting for the anonymization team."))
    if data_request.state == State.DRAFT:
        raise InvalidTransition(_("This request is a draft."))
    forum_services.topic_move(actor=actor, topic_id=data_request.topic_id, category=data_request.category)
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


def _end_claims(data_request: DataRequest, *, actor: User | None, status: str) -> None:
    now = timezone.now()
    for claim in Claim.objects.select_for_update().filter(data_request=data_request, status=Claim.Status.ACTIVE):
        claim.status, claim.ended_at, claim.ended_by = status, now, actor
        claim.save(update_fields=["status", "ended_at", "ended_by"])
        if status != Claim.Status.COMPLETED:
            _notify(claim.volunteer, Notice.Kind.REQUEST_ENDED, data_request, f"request-ended:{claim.pk}")


# --- Claims -----------------------------------------------------------------------

@transaction.atomic
def request_claim(
    *, actor: User, data_request_id: int, plan: str = "", expected_date: datetime.date | None = None, part: str = "",
) -> Claim:
    """Make `actor` a claimant: the lead, a collaborator, or (citizen science) the taker of one part.

    Locks the request, then the volunteer's row, so neither two claims on one
    request nor two claims by one person can slip past the limits.
    """
    data_request = _lock_request(data_request_id)
    check_can_claim(actor, data_request)
    if data_request.state not in (State.OPEN, State.CLAIMED, State.IN_PROGRESS):
        raise _refuse("claim", data_request)
    User.objects.select_for_update().filter(pk=actor.pk).first()
    active = list(Claim.objects.filter(data_request=data_request, status=Claim.Status.ACTIVE))
    errors = {}
    if any(claim.volunteer_id == actor.pk for claim in active):
        raise ValidationError(_("You have already claimed this request."))
    limit = settings.REQUESTS_MAX_ACTIVE_CLAIMS
    if Claim.objects.filter(volunteer=actor, status=Claim.Status.ACTIVE).count() >= limit:
        raise ValidationError(_(
            "You already have %(limit)d active claims, the most allowed. Deliver or give one up first."
        ) % {"limit": limit})
    try:
        check_future_date(expected_date, "expected_date")
    except ValidationError as error:
        errors.update(error.message_dict)
    plan = (plan or "").strip()
    if len(plan) > 2000:
        errors["plan"] = [_("Please keep the plan under 2,000 characters.")]
    part = " ".join((part or "").split())
    if data_request.is_citizen_science:
        role = Claim.Role.PARTICIPANT
        if not part:
            errors["part"] = [_("Say which part you take on, e.g. “images 1–50”.")]
        elif len(part) > 120:
            errors["part"] = [_("Please keep the part under 120 characters.")]
        elif any(claim.part.lower() == part.lower() for claim in active):
            errors["part"] = [_("Someone is already doing “%(part)s”. Choose another part.") % {"part": part}]
    else:
        part = ""
        role = Claim.Role.COLLABORATOR if any(c.role == Claim.Role.LEAD for c in active) else Claim.Role.LEAD
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    claim = Claim.objects.create(
        data_request=data_request, volunteer=actor, role=role, part=part, plan=plan,
        expected_date=expected_date, created_at=now, last_activity_at=now,
    )
    detail = part or plan[:200]
    if data_request.state == State.OPEN:
        _transition(data_request, "claim", actor=actor, kind=RequestEvent.Kind.CLAIMED, detail=detail, now=now)
    else:
        _event(data_request, actor, RequestEvent.Kind.JOINED, detail=detail, now=now)
    if data_request.first_claimed_at is None:
        data_request.first_claimed_at = now
        data_request.save(update_fields=["first_claimed_at"])
    _notify(data_request.author, Notice.Kind.CLAIMED, data_request, f"claimed:{claim.pk}")
    invalidate_on_commit()
    return claim


def _lock_claim(claim_id: int) -> tuple[DataRequest, Claim]:
    data_request_id = Claim.objects.values_list("data_request_id", flat=True).get(pk=claim_id)
    data_request = _lock_request(data_request_id)
    claim = Claim.objects.select_for_update().select_related("volunteer").get(pk=claim_id)
    claim.data_request = data_request
    return data_request, claim


def _after_claim_ended(data_request: DataRequest, claim: Claim, *, actor: User | None, now) -> None:
    """Hand the lead on to the longest-standing collaborator; reopen the request when nobody is left."""
    remaining = Claim.objects.select_for_update().filter(
        data_request=data_request, status=Claim.Status.ACTIVE
    ).order_by("created_at", "pk")
    if claim.role == Claim.Role.LEAD:
        successor = remaining.filter(role=Claim.Role.COLLABORATOR).first()
        if successor is not None:
            successor.role = Claim.Role.LEAD
            successor.save(update_fields=["role"])
    if not remaining.exists() and data_request.state in (State.CLAIMED, State.IN_PROGRESS):
        _transition(data_request, "reopen", actor=actor, kind=RequestEvent.Kind.RELEASED,
                    detail=_("open again: nobody holds a claim"), now=now)


@transaction.atomic
def claim_release(*, actor: User, claim_id: int) -> Claim:
    """End a claim: the volunteer gives it up, or the requester or a moderator releases it. Locks the request."""
    data_request, claim = _lock_claim(claim_id)
    check_can_release_claim(actor, claim)
    if claim.status != Claim.Status.ACTIVE:
        raise InvalidTransition(_("This claim has already ended."))
    now = timezone.now()
    own = claim.volunteer_id == actor.pk
    claim.status = Claim.Status.UNCLAIMED if own else Claim.Status.RELEASED
    claim.ended_at, claim.ended_by = now, actor
    claim.save(update_fields=["status", "ended_at", "ended_by"])
    kind = RequestEvent.Kind.UNCLAIMED if own else RequestEvent.Kind.RELEASED
    _event(data_request, actor, kind, subject=claim.volunteer, now=now)
    if not own:
        _notify(claim.volunteer, Notice.Kind.CLAIM_EXPIRED, data_request, f"claim-ended:{claim.pk}")
    _after_claim_ended(data_request, claim, actor=actor, now=now)
    invalidate_on_commit()
    return claim


def _check_claimant(actor: User, data_request: DataRequest) -> list[Claim]:
    active = list(Claim.objects.select_for_update().filter(data_request=data_request, status=Claim.Status.ACTIVE))
    check_is_active_claimant(actor, active)
    return active


def _touch_claim(active: list[Claim], actor: User, now) -> None:
    """An update or a result restarts the claim's expiry clock."""
    for claim in active:
        if claim.volunteer_id == actor.pk:
            claim.last_activity_at, claim.reminded_at = now, None
            claim.save(update_fields=["last_activity_at", "reminded_at"])


@transaction.atomic
def update_post(*, actor: User, data_request_id: int, raw: str) -> Post:
    """A claimant posts a progress update in the request's topic. Locks the request."""
    data_request = _lock_request(data_request_id)
    if data_request.state not in (State.CLAIMED, State.IN_PROGRESS, State.DELIVERED):
        raise _refuse("start", data_request)
    active = _check_claimant(actor, data_request)
    now = timezone.now()
    post = forum_services.post_create(actor=actor, topic_id=data_request.topic_id, raw=raw)
    ProgressUpdate.objects.create(data_request=data_request, post=post, created_at=now)
    _touch_claim(active, actor, now)
    if data_request.state == State.CLAIMED:
        _transition(data_request, "start", actor=actor, kind=RequestEvent.Kind.UPDATED, now=now)
    else:
        _event(data_request, actor, RequestEvent.Kind.UPDATED, now=now)
    return post


@transaction.atomic
def result_deliver(*, actor: User, data_request_id: int, summary: str, repository_url: str, license: str) -> Result:
    """A claimant posts a result: a summary, an open repository to reproduce it, and a license.

    Locks the request. Attachments come through the anonymization app's upload quarantine.
    """
    data_request = _lock_request(data_request_id)
    check_transition(data_request, "deliver")
    active = _check_claimant(actor, data_request)
    errors = {}
    repository_url = _collect(errors, clean_repository_url, repository_url)
    license = _collect(errors, clean_license, license)
    if not (summary or "").strip():
        errors["summary"] = [_("Please summarise the result: what you did and what you found.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    try:
        post = forum_services.post_create(actor=actor, topic_id=data_request.topic_id, raw=summary)
    except ValidationError as error:
        raise ValidationError({"summary": error.messages}) from None
    result = Result.objects.create(
        data_request=data_request, post=post, author=actor, repository_url=repository_url,
        license=license, created_at=now,
    )
    _touch_claim(active, actor, now)
    _transition(data_request, "deliver", actor=actor, kind=RequestEvent.Kind.DELIVERED, now=now)
    _notify(data_request.author, Notice.Kind.RESULT_DELIVERED, data_request, f"result:{result.pk}")
    invalidate_on_commit()
    return result


@transaction.atomic
def result_accept(*, actor: User, result_id: int) -> Result:
    """The requester accepts a delivered result: the request is solved. Locks the request."""
    data_request_id = Result.objects.values_list("data_request_id", flat=True).get(pk=result_id)
    data_request = _lock_request(data_request_id)
    check_can_accept_result(actor, data_request)
    result = Result.objects.select_related("post", "author").get(pk=result_id)
    if result.post.deleted_at is not None:
        raise InvalidTransition(_("This result was deleted and cannot be accepted."))
    now = timezone.now()
    _transition(data_request, "accept", actor=actor, kind=RequestEvent.Kind.ACCEPTED, subject=result.author, now=now)
    result.accepted_at = now
    result.save(update_fields=["accepted_at"])
    data_request.accepted_result = result
    data_request.accepted_at = now
    data_request.save(update_fields=["accepted_result", "accepted_at"])
    _end_claims(data_request, actor=actor, status=Claim.Status.COMPLETED)
    _notify(result.author, Notice.Kind.RESULT_ACCEPTED, data_request, f"accepted:{result.pk}")
    invalidate_on_commit()
    return result


# --- Claim expiry -----------------------------------------------------------------

def claims_expire(*, now: datetime.datetime | None = None, batch: int = 500) -> dict:
    """Remind claimants who have been quiet too long; release claims still quiet after the reminder.

    Each claim is handled in its own transaction under its request's lock and
    re-checked there, so running this twice, or twice at once, reminds and
    releases each claim once.
    """
    now = now or timezone.now()
    remind_before = now - datetime.timedelta(days=settings.REQUESTS_CLAIM_REMIND_AFTER_DAYS)
    release_before = now - datetime.timedelta(days=settings.REQUESTS_CLAIM_RELEASE_AFTER_DAYS)
    counts = {"reminded": 0, "released": 0}
    active = Claim.objects.filter(status=Claim.Status.ACTIVE)
    for claim_id in active.filter(reminded_at__isnull=False, reminded_at__lte=release_before).values_list(
        "pk", flat=True
    )[:batch]:
        counts["released"] += _claim_expire(claim_id, now=now, release_before=release_before)
    for claim_id in active.filter(reminded_at__isnull=True, last_activity_at__lte=remind_before).values_list(
        "pk", flat=True
    )[:batch]:
        counts["reminded"] += _claim_remind(claim_id, now=now, remind_before=remind_before)
    return counts


@transaction.atomic
def _claim_remind(claim_id: int, *, now, remind_before) -> int:
    data_request, claim = _lock_claim(claim_id)
    if claim.status != Claim.Status.ACTIVE or claim.reminded_at is not None or claim.last_activity_at > remind_before:
        return 0
    claim.reminded_at = now
    claim.save(update_fields=["reminded_at"])
    _event(data_request, None, RequestEvent.Kind.REMINDED, subject=claim.volunteer, now=now)
    _notify(claim.volunteer, Notice.Kind.CLAIM_REMINDER, data_request,
            f"claim-reminder:{claim.pk}:{claim.last_activity_at.timestamp()}")
    return 1


@transaction.atomic
def _claim_expire(claim_id: int, *, now, release_before) -> int:
    data_request, claim = _lock_claim(claim_id)
    if claim.status != Claim.Status.ACTIVE or claim.reminded_at is None or claim.reminded_at > release_before:
        return 0
    claim.status, claim.ended_at = Claim.Status.EXPIRED, now
    claim.save(update_fields=["status", "ended_at"])
    _event(data_request, None, RequestEvent.Kind.EXPIRED, subject=claim.volunteer, now=now)
    _notify(claim.volunteer, Notice.Kind.CLAIM_EXPIRED, data_request, f"claim-ended:{claim.pk}")
    watchers = set(forum_selectors.topic_watcher_ids(topic=data_request.topic)) | {data_request.author_id}
    watchers.discard(claim.volunteer_id)
    for watcher in User.objects.filter(pk__in=watchers, is_active=True):
        if can_see_request(watcher, data_request):
            _notify(watcher, Notice.Kind.CLAIM_RELEASED, data_request, f"claim-released:{claim.pk}:{watcher.pk}")
    _after_claim_ended(data_request, claim, actor=None, now=now)
    invalidate_on_commit()
    return 1


# --- Notices ----------------------------------------------------------------------

def notice_send(*, notice_id: int) -> bool:
    """Send one owed email unless it was sent already. Holds the notice's row lock while sending,
    so two workers never send it at once; a crash before commit sends it again (at least once)."""
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string
    from django.utils import translation

    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(of=("self",))
            .select_related("recipient", "data_request", "data_request__topic")
            .filter(pk=notice_id).first()
        )
        if notice is None or notice.sent_at is not None:
            return False
        recipient = notice.recipient
        if not recipient.is_active or not recipient.email:
            notice.sent_at = timezone.now()
            notice.save(update_fields=["sent_at"])
            return False
        data_request = notice.data_request
        visible = data_request.topic_id is not None and can_see_request(recipient, data_request)
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "notice": notice, "recipient": recipient, "data_request": data_request, "visible": visible,
                "site_name": settings.SITE_NAME, "site_url": settings.SITE_URL.rstrip("/"),
                "board_url": settings.SITE_URL.rstrip("/") + "/requests/claims/",
            }
            subject = render_to_string("requests_board/email/notice_subject.txt", context).strip()
            body = render_to_string("requests_board/email/notice.txt", context)
        EmailMessage(
            subject=" ".join(subject.split())[:200], body=body, to=[recipient.email],
        ).send()
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True


def notices_pending(*, older_than_seconds: int = 300) -> list[int]:
    """Notices still unsent a while after they were owed (a worker crashed or the broker lost them)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Notice.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at").values_list("pk", flat=True)[:1000]
    )

