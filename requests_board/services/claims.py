"""Claims, progress updates, results, acceptance, and the expiry of quiet claims."""
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anonymization import services as anonymization_services
from forum import selectors as forum_selectors
from forum import services as forum_services
from forum.models import Post, User
from forum.pagecache import invalidate_on_commit

from ..models import Claim, DataRequest, ProgressUpdate, RequestEvent, Result
from ..notifications import NoticeKind
from ..permissions import (
    can_see_request,
    check_can_accept_result,
    check_can_claim,
    check_can_release_claim,
    check_is_active_claimant,
    claims_refusal,
    declares_identifying,
)
from .details import _collect, check_future_date, clean_license, clean_repository_url
from .licenses import _record_result, result_license_problems
from .lifecycle import (
    InvalidTransition,
    _end_claims,
    _event,
    _lock_request,
    _notify,
    _transition,
    check_transition,
)

State = DataRequest.State


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
    target = check_transition(data_request, "claim")
    User.objects.select_for_update().filter(pk=actor.pk).first()
    active = list(Claim.objects.filter(data_request=data_request, status=Claim.Status.ACTIVE))
    refusal = claims_refusal(actor, claims=active, active_claim_count=Claim.objects.filter(
        volunteer=actor, status=Claim.Status.ACTIVE).count())
    if refusal:
        raise ValidationError(refusal)
    errors = {}
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
    if target != data_request.state:
        _transition(data_request, "claim", actor=actor, kind=RequestEvent.Kind.CLAIMED, detail=detail, now=now)
    else:
        _event(data_request, actor, RequestEvent.Kind.JOINED, detail=detail, now=now)
    if data_request.first_claimed_at is None:
        data_request.first_claimed_at = now
        data_request.save(update_fields=["first_claimed_at"])
    _notify(data_request.author, NoticeKind.CLAIMED, data_request, f"claimed:{claim.pk}", actor=actor)
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
        _notify(claim.volunteer, NoticeKind.CLAIM_EXPIRED, data_request, f"claim-ended:{claim.pk}")
    _after_claim_ended(data_request, claim, actor=actor, now=now)
    invalidate_on_commit()
    return claim


def _check_claimant(actor: User, data_request: DataRequest) -> list[Claim]:
    active = list(Claim.objects.select_for_update().filter(data_request=data_request, status=Claim.Status.ACTIVE))
    check_is_active_claimant(actor, active)
    return active


def _touch_claim(active: list[Claim], actor: User, now) -> None:
    """An update or a result restarts the claim's expiry clock (its post bumps the lists that keep
    "my claims")."""
    for claim in active:
        if claim.volunteer_id == actor.pk:
            claim.last_activity_at, claim.reminded_at = now, None
            claim.save(update_fields=["last_activity_at", "reminded_at"])


def _vet_attachment(actor: User, attachment, ip: str | None) -> None:
    # Before the transaction, so that a refused file's audit record survives the refusal.
    if attachment is not None:
        try:
            anonymization_services.upload_vet(actor=actor, file=attachment, ip=ip)
        except ValidationError as error:
            raise ValidationError({"attachment": error.messages}) from None


def _attach(actor: User, data_request: DataRequest, post: Post, attachment, ip: str | None) -> None:
    if attachment is not None:
        anonymization_services.upload_create(
            actor=actor, topic=data_request.topic, post=post, file=attachment, ip=ip,
            declared_identifying=declares_identifying(data_request),
        )


def update_post(*, actor: User, data_request_id: int, raw: str, attachment=None, ip: str | None = None) -> Post:
    """A claimant posts a progress update in the request's topic, with an optional file
    that goes to quarantine. Locks the request."""
    _vet_attachment(actor, attachment, ip)
    return _update_post(actor=actor, data_request_id=data_request_id, raw=raw, attachment=attachment, ip=ip)


@transaction.atomic
def _update_post(*, actor: User, data_request_id: int, raw: str, attachment, ip: str | None) -> Post:
    data_request = _lock_request(data_request_id)
    target = check_transition(data_request, "update")
    active = _check_claimant(actor, data_request)
    now = timezone.now()
    post = forum_services.post_create(actor=actor, topic_id=data_request.topic_id, raw=raw)
    ProgressUpdate.objects.create(data_request=data_request, post=post, created_at=now)
    _touch_claim(active, actor, now)
    if target != data_request.state:
        _transition(data_request, "update", actor=actor, kind=RequestEvent.Kind.UPDATED, now=now)
    else:
        _event(data_request, actor, RequestEvent.Kind.UPDATED, now=now)
    _attach(actor, data_request, post, attachment, ip)
    return post


def result_deliver(*, actor: User, data_request_id: int, summary: str, repository_url: str, license: str,
                   repository_license: str = "", attachment=None, ip: str | None = None) -> Result:
    """A claimant posts a result: a summary, an open repository to reproduce it, a license, the
    repository's code license as the author declares it, and an optional file that goes to
    quarantine. Locks the request. A worker then checks the licenses against the policy."""
    _vet_attachment(actor, attachment, ip)
    return _result_deliver(actor=actor, data_request_id=data_request_id, summary=summary,
                           repository_url=repository_url, license=license, repository_license=repository_license,
                           attachment=attachment, ip=ip)


@transaction.atomic
def _result_deliver(*, actor: User, data_request_id: int, summary: str, repository_url: str, license: str,
                    repository_license: str, attachment, ip: str | None) -> Result:
    data_request = _lock_request(data_request_id)
    check_transition(data_request, "deliver")
    active = _check_claimant(actor, data_request)
    errors = {}
    repository_url = _collect(errors, clean_repository_url, repository_url)
    license = _collect(errors, clean_license, license)
    if (repository_license or "").strip():
        repository_license = _collect(errors, clean_license, repository_license, "repository_license")
    else:
        repository_license = ""
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
        license=license, repository_license=repository_license, created_at=now,
    )
    _touch_claim(active, actor, now)
    _transition(data_request, "deliver", actor=actor, kind=RequestEvent.Kind.DELIVERED, now=now)
    _attach(actor, data_request, post, attachment, ip)
    item = _record_result(result, data_request)
    if not item.is_held:
        # Keyed like the forum's own notice of a new post, so the requester hears about it once. A
        # held result is for its author and moderators: the requester hears when it is released.
        _notify(data_request.author, NoticeKind.RESULT_DELIVERED, data_request, f"post:{post.pk}", actor=actor,
                post=post)
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
    if result.post.hidden:
        raise InvalidTransition(_("This result waits for review (it may identify a patient, or it was flagged); "
                                  "it can be accepted once it is published."))
    problems = result_license_problems(result, data_request)
    if problems:
        raise InvalidTransition(
            _("This result is held for its license and cannot be accepted until its author fixes it: %(problems)s")
            % {"problems": " ".join(problems)}
        )
    now = timezone.now()
    _transition(data_request, "accept", actor=actor, kind=RequestEvent.Kind.ACCEPTED, subject=result.author, now=now)
    result.accepted_at = now
    result.save(update_fields=["accepted_at"])
    data_request.accepted_result = result
    data_request.accepted_at = now
    data_request.save(update_fields=["accepted_result", "accepted_at"])
    _end_claims(data_request, actor=actor, status=Claim.Status.COMPLETED)
    _notify(result.author, NoticeKind.RESULT_ACCEPTED, data_request, f"accepted:{result.pk}", actor=actor)
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
    invalidate_on_commit(topic_ids=[data_request.topic_id])  # its history shows the reminder
    _notify(claim.volunteer, NoticeKind.CLAIM_REMINDER, data_request,
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
    _notify(claim.volunteer, NoticeKind.CLAIM_EXPIRED, data_request, f"claim-ended:{claim.pk}")
    watchers = set(forum_selectors.topic_watcher_ids(topic=data_request.topic)) | {data_request.author_id}
    watchers.discard(claim.volunteer_id)
    for watcher in User.objects.filter(pk__in=watchers, is_active=True):
        if can_see_request(watcher, data_request):
            _notify(watcher, NoticeKind.CLAIM_RELEASED, data_request, f"claim-released:{claim.pk}:{watcher.pk}")
    _after_claim_ended(data_request, claim, actor=None, now=now)
    invalidate_on_commit()
    return 1


def person_work_end(*, user: User) -> None:
    """A person deleting their account: their unpublished drafts go (private text nobody else has
    seen, possibly about patients), and their active claims end so volunteers can take over.
    Published requests and results stay, attributed to "deleted user"."""
    DataRequest.objects.filter(author=user, state=DataRequest.State.DRAFT, topic__isnull=True).delete()
    for claim_id in Claim.objects.filter(volunteer=user, status=Claim.Status.ACTIVE).values_list("pk", flat=True):
        claim_release(actor=user, claim_id=claim_id)
