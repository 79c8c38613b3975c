"""Every rule about who may see or do what with data requests.

Seeing a published request is seeing its topic: the forum's visibility rule
(`forum.permissions.topics_visible_to`) decides, so a request waiting in the
private Anonymization channel is hidden from the board, search, feeds and its
URL alike. A draft is seen by its author only.
"""
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from forum.models import Topic
from forum.permissions import can_moderate, can_moderate_topic, check_not_silenced, topics_visible_to


def request_is_public(data_request) -> bool:
    """Whether anybody, signed in or not, may see `data_request`: the single hand-off point.

    True only for a published request whose topic sits in a public or read-only
    category and is not deleted, and, when it was declared as possibly
    identifying a patient, only after the anonymization team cleared it.
    """
    from .models import DataRequest

    if data_request.state == DataRequest.State.DRAFT or data_request.topic_id is None:
        return False
    if data_request.needs_anonymization and data_request.cleared_at is None:
        return False
    topic = data_request.topic
    return topic.deleted_at is None and topic.hidden_at is None and topic.category.is_public


def public_requests(queryset: QuerySet) -> QuerySet:
    """The queryset form of `request_is_public`, for counts and digests."""
    from forum.models import Category

    from .models import DataRequest

    return queryset.exclude(state=DataRequest.State.DRAFT).filter(
        Q(needs_anonymization=False) | Q(cleared_at__isnull=False),
        topic__deleted_at__isnull=True, topic__hidden_at__isnull=True,
        topic__category__security__in=[Category.Security.PUBLIC, Category.Security.READ_ONLY],
    )


def requests_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Published requests whose topic `user` may see (drafts are never listed here)."""
    from .models import DataRequest

    topics = topics_visible_to(user, Topic.objects.all()).values("pk")
    return queryset.exclude(state=DataRequest.State.DRAFT).filter(topic__in=topics)


def can_see_request(user, data_request) -> bool:
    if data_request.state == "draft":
        return user.is_authenticated and data_request.author_id == user.pk
    return topics_visible_to(user, Topic.objects.filter(pk=data_request.topic_id)).exists()


def can_post_request(user) -> bool:
    """Requesters (life scientists, clinicians) and moderators ask for help."""
    return user.is_authenticated and user.has_perm("forum.post_request")


def check_can_post_request(user) -> None:
    if not can_post_request(user):
        raise PermissionDenied(_("Only requesters can post data requests. Add the requester role on your profile."))


def can_moderate_request(user, data_request) -> bool:
    return data_request.topic_id is not None and can_moderate_topic(user, data_request.topic)


def is_requester(user, data_request) -> bool:
    return user.is_authenticated and data_request.author_id == user.pk


def can_edit_request(user, data_request) -> bool:
    """The requester edits the request's details until a result is accepted; moderators too."""
    if data_request.state in ("accepted", "withdrawn", "closed"):
        return can_moderate_request(user, data_request) and data_request.state != "closed"
    return is_requester(user, data_request) or can_moderate_request(user, data_request)


def check_can_edit_request(user, data_request) -> None:
    if data_request.author_id == user.pk:
        check_not_silenced(user)
    if not can_edit_request(user, data_request):
        raise PermissionDenied(_("You cannot edit this request."))


def can_claim(user) -> bool:
    """Volunteers (and moderators) claim requests."""
    return user.is_authenticated and user.has_perm("forum.claim_request")


def check_can_claim(user, data_request) -> None:
    """Whether `user` may claim `data_request` now, or why not. Limits and states are checked by the service."""
    if not can_claim(user):
        raise PermissionDenied(_("Only volunteers can claim requests. Add the volunteer role on your profile."))
    check_not_silenced(user)
    needed = settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL
    if user.trust_level < needed and not can_moderate(user):
        raise PermissionDenied(_(
            "Volunteers can claim requests from trust level %(needed)d; you are at level %(current)d. "
            "Read a few topics and requests first: the level rises on its own as you take part."
        ) % {"needed": needed, "current": user.trust_level})
    if is_requester(user, data_request):
        raise PermissionDenied(_("This is your own request: a volunteer claims it."))
    if not request_is_public(data_request):
        raise PermissionDenied(_("This request is not public yet: the anonymization team must clear it first."))


def can_release_claim(user, claim) -> bool:
    """The claimant gives a claim up; the requester and moderators release anybody's."""
    if not user.is_authenticated:
        return False
    return (
        claim.volunteer_id == user.pk
        or is_requester(user, claim.data_request)
        or can_moderate_request(user, claim.data_request)
    )


def check_can_release_claim(user, claim) -> None:
    if not can_release_claim(user, claim):
        raise PermissionDenied(_("Only the volunteer, the requester or a moderator can release this claim."))


def check_is_active_claimant(user, active_claims) -> None:
    """Progress updates and results come from people holding an active claim."""
    if not any(claim.volunteer_id == user.pk for claim in active_claims):
        raise PermissionDenied(_("Claim the request first: updates and results come from its volunteers."))


def can_accept_result(user, data_request) -> bool:
    """The requester accepts a result; moderators may do it for them."""
    return is_requester(user, data_request) or can_moderate_request(user, data_request)


def check_can_accept_result(user, data_request) -> None:
    if not can_accept_result(user, data_request):
        raise PermissionDenied(_("Only the person who asked can accept a result."))


def check_can_withdraw(user, data_request) -> None:
    if not is_requester(user, data_request):
        raise PermissionDenied(_("Only the person who asked can withdraw a request."))


def check_can_close(user, data_request) -> None:
    if not can_moderate_request(user, data_request):
        raise PermissionDenied(_("Only moderators can close a request."))


def can_clear_anonymization(user, data_request) -> bool:
    """The anonymization team and moderators clear a request waiting in the channel for publication."""
    from anonymization.permissions import can_triage

    return (
        data_request.needs_anonymization and data_request.cleared_at is None
        and data_request.state != "draft" and can_triage(user)
    )


def check_can_clear_anonymization(user, data_request) -> None:
    if not can_clear_anonymization(user, data_request):
        raise PermissionDenied(_("Only the anonymization team and moderators clear a request for publication."))


def declares_identifying(data_request) -> bool:
    """The requester said the data may identify a patient (now or when publishing): every file waits for a person."""
    from .models import DataRequest

    return data_request.needs_anonymization or data_request.patient_data in (
        DataRequest.PatientData.YES, DataRequest.PatientData.UNSURE
    )


def can_attach_file(user, data_request) -> bool:
    """The requester (and moderators) attach data files to a published, live request."""
    from .models import DataRequest

    return (
        user.is_authenticated and data_request.topic_id is not None
        and data_request.state not in (DataRequest.State.DRAFT, DataRequest.State.WITHDRAWN, DataRequest.State.CLOSED)
        and (is_requester(user, data_request) or can_moderate_request(user, data_request))
    )


def check_can_attach_file(user, data_request) -> None:
    check_not_silenced(user)
    if not can_attach_file(user, data_request):
        raise PermissionDenied(_("Only the requester attaches data files to a live request."))


def can_edit_result_license(user, result, data_request, *, held: bool = False) -> bool:
    """A result's author changes its licenses until it is accepted (a license once relied on stays),
    and fixes them whenever the result is held; moderators at any time."""
    if can_moderate_request(user, data_request):
        return True
    if not (user.is_authenticated and result.author_id == user.pk):
        return False
    return held or (result.accepted_at is None and data_request.state not in ("withdrawn", "closed"))


def check_can_edit_result_license(user, result, data_request, *, held: bool = False) -> None:
    if not can_edit_result_license(user, result, data_request, held=held):
        raise PermissionDenied(_("Only the result's author can change its license."))


def can_export_request(user, data_request) -> bool:
    """Whoever reads a solved request may download its bundle."""
    return data_request.state == "accepted" and can_see_request(user, data_request)


def dataset_withheld(user, item) -> bool:
    """Whether a request's data (its links, its license problems) is withheld from `user`: held
    for its license, and `user` is neither its requester nor a moderator. `item` is the
    dataset's licensing record, or None before it is recorded."""
    from licensing.permissions import can_see_held

    return item is not None and not can_see_held(user, item)
