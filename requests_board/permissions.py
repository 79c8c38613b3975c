"""Every rule about who may see or do what with data requests.

Seeing a published request is seeing its topic: the forum's visibility rule
(`forum.permissions.topics_visible_to`) decides, so a request waiting in the
private Anonymization channel is hidden from the board, search, feeds and its
URL alike. A draft is seen by its author only.

Each step a person takes on a request has one rule, written once as a `*_refusal`
function: the words telling them why not and what to do, or None. The `check_*`
functions that services call raise those words, `can_*` are their yes or no, and
`request_actions` gathers every step for pages (and the API) from the same rules
and the life-cycle table in rules.py.
"""
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from anonymization.permissions import can_triage
from forum.models import Topic
from forum.permissions import (
    can_moderate,
    can_moderate_topic,
    check_not_silenced,
    own_topics_beyond_audience,
    topics_visible_to,
    topics_visible_to_audience,
)
from licensing.permissions import can_see_held

from .models import DataRequest
from .rules import LIVE_STATES, state_words, transition_refusal

State = DataRequest.State


def request_is_public(data_request) -> bool:
    """Whether anybody, signed in or not, may see `data_request`: the single hand-off point.

    True only for a published request whose topic sits in a public or read-only
    category and is not deleted, and, when it was declared as possibly
    identifying a patient, only after the anonymization team cleared it.
    """
    if data_request.state == DataRequest.State.DRAFT or data_request.topic_id is None:
        return False
    if data_request.needs_anonymization and data_request.cleared_at is None:
        return False
    topic = data_request.topic
    return topic.deleted_at is None and topic.hidden_at is None and topic.category.is_public


def public_requests(queryset: QuerySet) -> QuerySet:
    """The queryset form of `request_is_public`, for counts and digests."""
    from forum.models import Category

    return queryset.exclude(state=DataRequest.State.DRAFT).filter(
        Q(needs_anonymization=False) | Q(cleared_at__isnull=False),
        topic__deleted_at__isnull=True, topic__hidden_at__isnull=True,
        topic__category__security__in=[Category.Security.PUBLIC, Category.Security.READ_ONLY],
    )


def requests_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Published requests whose topic `user` may see (drafts are never listed here)."""
    topics = topics_visible_to(user, Topic.objects.all()).values("pk")
    return queryset.exclude(state=DataRequest.State.DRAFT).filter(topic__in=topics)


def requests_visible_to_audience(user, queryset: QuerySet) -> QuerySet:
    """Published requests everybody who reads and moderates the categories `user` does may see:
    what `requests_visible_to` allows but on `user`'s own topics beyond their audience
    (forum.permissions.topics_visible_to_audience), for what is kept for that audience."""
    topics = topics_visible_to_audience(user, Topic.objects.all()).values("pk")
    return queryset.exclude(state=DataRequest.State.DRAFT).filter(topic__in=topics)


def own_requests_beyond_audience(user, queryset: QuerySet) -> QuerySet:
    """Published requests `user` sees only because they wrote the topic: the rest of what
    `requests_visible_to` allows them."""
    topics = topics_visible_to(user, Topic.objects.filter(own_topics_beyond_audience(user))).values("pk")
    return queryset.exclude(state=DataRequest.State.DRAFT).filter(topic__in=topics)


def can_see_request(user, data_request) -> bool:
    """Whether `user` may see `data_request`: a draft its author only, else whoever reads its topic (one query)."""
    if data_request.state == "draft":
        return user.is_authenticated and data_request.author_id == user.pk
    return topics_visible_to(user, Topic.objects.filter(pk=data_request.topic_id)).exists()


def can_post_request(user) -> bool:
    """Requesters (life scientists, clinicians) and moderators ask for help."""
    return user.is_authenticated and user.has_perm("forum.post_request")


def post_request_refusal(user) -> str | None:
    """Why `user` may not ask for help (None: they may)."""
    if not user.is_authenticated:
        return _("Sign in to ask for help with data.")
    if not can_post_request(user):
        return _("Only requesters can post data requests. Add the requester role on your profile.")
    return None


def check_can_post_request(user) -> None:
    """Raise PermissionDenied with `post_request_refusal`'s words."""
    _raise(post_request_refusal(user))


def _raise(refusal: str | None) -> None:
    """The `check_*` form of a `*_refusal` rule: the same words, raised."""
    if refusal is not None:
        raise PermissionDenied(refusal)


def _silence_refusal(user) -> str | None:
    """The forum's words for a silenced person, or None."""
    try:
        check_not_silenced(user)
    except PermissionDenied as error:
        return str(error)
    return None


def can_moderate_request(user, data_request) -> bool:
    """Moderators of the request's topic: global ones and those of its topic area (no draft has any)."""
    return data_request.topic_id is not None and can_moderate_topic(user, data_request.topic)


def is_requester(user, data_request) -> bool:
    """Whether `user` asked for `data_request`."""
    return user.is_authenticated and data_request.author_id == user.pk


# --- Editing ----------------------------------------------------------------------------

def edit_refusal(user, data_request) -> str | None:
    """Why `user` may not edit the request's details now (None: they may). Its author edits a draft
    and, once published, the request until it is solved or withdrawn; moderators until it is closed."""
    if not user.is_authenticated:
        return _("Sign in to edit this request.")
    requester = is_requester(user, data_request)
    if data_request.state == State.DRAFT:
        if not requester:
            return _("Only its author edits a draft.")
        return post_request_refusal(user) or transition_refusal(data_request, "save_draft")
    moderator = can_moderate_request(user, data_request)
    if requester and (silenced := _silence_refusal(user)):
        return silenced
    if not (requester or moderator):
        return _("Only the person who asked and moderators edit a request.")
    if refusal := transition_refusal(data_request, "edit"):
        return refusal
    if data_request.state in (State.ACCEPTED, State.WITHDRAWN) and not moderator:
        return _("This request is %(state)s: its details can no longer be changed. A moderator can still "
                 "correct them if something is wrong.") % {"state": state_words(data_request)}
    return None


def can_edit_request(user, data_request) -> bool:
    """The yes or no of `edit_refusal`."""
    return edit_refusal(user, data_request) is None


def check_can_edit_request(user, data_request) -> None:
    """Raise PermissionDenied with `edit_refusal`'s words."""
    _raise(edit_refusal(user, data_request))


# --- Claiming ---------------------------------------------------------------------------

def can_claim(user) -> bool:
    """Volunteers (and moderators) claim requests."""
    return user.is_authenticated and user.has_perm("forum.claim_request")


def _trust_steps(level: int) -> str:
    """What earns trust level `level`, in words: "read 3 topics and been a member for 3 days"."""
    needs: dict[str, int] = {}
    for step in range(1, level + 1):  # each level needs the ones below it
        for name, minimum in settings.FORUM_TRUST_LEVELS.get(step, {}).items():
            needs[name] = max(needs.get(name, 0), minimum)
    words = {
        "topics_read": lambda n: ngettext("read %(count)d topic started by someone else",
                                          "read %(count)d topics started by others", n),
        "posts": lambda n: ngettext("written %(count)d post", "written %(count)d posts", n),
        "likes_received": lambda n: ngettext("received %(count)d like", "received %(count)d likes", n),
        "days": lambda n: ngettext("been a member for %(count)d day", "been a member for %(count)d days", n),
    }
    parts = [words[name](count) % {"count": count} for name, count in needs.items() if count and name in words]
    if len(parts) > 1:
        return _("%(first)s and %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]}
    return parts[0] if parts else ""


def _trust_refusal(user) -> str | None:
    needed = settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL
    if user.trust_level >= needed or can_moderate(user):
        return None
    words = {"needed": needed, "current": user.trust_level, "steps": _trust_steps(needed)}
    if words["steps"]:
        return _("Volunteers can claim requests from trust level %(needed)d; you are at level %(current)d. "
                 "Your level rises by itself once you have %(steps)s.") % words
    return _("Volunteers can claim requests from trust level %(needed)d; you are at level %(current)d. "
             "Your level rises by itself as you read and take part.") % words


def _not_public_refusal(data_request) -> str:
    if data_request.state == State.DRAFT or data_request.topic_id is None:
        return _("This request is a draft: volunteers claim it once it is published.")
    if data_request.needs_anonymization and data_request.cleared_at is None:
        return _("This request is not public yet: the anonymization team must clear it first.")
    if data_request.topic.deleted_at is not None:
        return _("This request was deleted.")
    if data_request.topic.hidden_at is not None:
        return _("This request waits for a moderator's review: volunteers claim it once it is published.")
    return _("This request is in a private area: volunteers claim public requests only.")


def claim_refusal(user, data_request) -> str | None:
    """Why `user` may not claim `data_request` (None: they may, if its state and their claims allow).
    Volunteers and moderators claim public requests of others, once trusted enough; the state, a claim
    already held and the limit of claims are the service's (see `claims_refusal`)."""
    if not user.is_authenticated:
        return _("Sign in to claim this request.")
    if is_requester(user, data_request):
        return _("This is your own request: a volunteer claims it.")
    if not request_is_public(data_request):
        return _not_public_refusal(data_request)
    if not can_claim(user):
        return _("Only volunteers can claim requests: in Settings, Profile, tick “help with data analysis”.")
    return _silence_refusal(user) or _trust_refusal(user)


def check_can_claim(user, data_request) -> None:
    """Whether `user` may claim `data_request` now, or why not. Limits and states are checked by the service."""
    _raise(claim_refusal(user, data_request))


def claims_refusal(user, *, claims, active_claim_count: int | None) -> str | None:
    """Why `user` may not add a claim given the request's active `claims` and how many claims they
    hold anywhere (None when not known: not checked)."""
    if any(claim.volunteer_id == user.pk for claim in claims):
        return _("You have already claimed this request.")
    limit = settings.REQUESTS_MAX_ACTIVE_CLAIMS
    if active_claim_count is not None and active_claim_count >= limit:
        return _("You already have %(limit)d active claims, the most allowed. Deliver or give one up first.") % {
            "limit": limit}
    return None


def _release_words() -> str:
    return _("Only the volunteer, the requester or a moderator can release this claim.")


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
    """Raise PermissionDenied unless `user` may end `claim` (`can_release_claim`)."""
    if not can_release_claim(user, claim):
        raise PermissionDenied(_release_words())


def claimant_refusal(user, active_claims) -> str | None:
    """Progress updates and results come from people holding an active claim."""
    if not any(user.is_authenticated and claim.volunteer_id == user.pk for claim in active_claims):
        return _("Claim the request first: updates and results come from its volunteers.")
    return None


def check_is_active_claimant(user, active_claims) -> None:
    """Raise PermissionDenied with `claimant_refusal`'s words."""
    _raise(claimant_refusal(user, active_claims))


# --- Results, withdrawing, closing, clearing ----------------------------------------------

def can_accept_result(user, data_request) -> bool:
    """The requester accepts a result; moderators may do it for them."""
    return is_requester(user, data_request) or can_moderate_request(user, data_request)


def accept_refusal(user, data_request) -> str | None:
    """Why `user` may not accept this request's results (None: they may; the state is the table's)."""
    return None if can_accept_result(user, data_request) else _("Only the person who asked can accept a result.")


def check_can_accept_result(user, data_request) -> None:
    """Raise PermissionDenied with `accept_refusal`'s words."""
    _raise(accept_refusal(user, data_request))


def withdraw_refusal(user, data_request) -> str | None:
    """The requester withdraws their request (the life-cycle table says in which states)."""
    return None if is_requester(user, data_request) else _("Only the person who asked can withdraw a request.")


def check_can_withdraw(user, data_request) -> None:
    """Raise PermissionDenied with `withdraw_refusal`'s words."""
    _raise(withdraw_refusal(user, data_request))


def close_refusal(user, data_request) -> str | None:
    """Moderators close a request (the life-cycle table says in which states)."""
    return None if can_moderate_request(user, data_request) else _("Only moderators can close a request.")


def check_can_close(user, data_request) -> None:
    """Raise PermissionDenied with `close_refusal`'s words."""
    _raise(close_refusal(user, data_request))


def waiting_refusal(data_request) -> str | None:
    """Why there is nothing to clear: the request does not wait for the anonymization team (None: it does)."""
    if not (data_request.needs_anonymization and data_request.cleared_at is None):
        return _("This request is not waiting for the anonymization team.")
    return None


def can_clear_anonymization(user, data_request) -> bool:
    """The anonymization team and moderators clear a request waiting in the channel for publication."""
    return not (waiting_refusal(data_request) or transition_refusal(data_request, "clear") or clearer_refusal(user))


def clearer_refusal(user) -> str | None:
    """Who clears; whether the request waits is `waiting_refusal` and the life-cycle table."""
    if can_triage(user):
        return None
    return _("Only the anonymization team and moderators clear a request for publication.")


def check_can_clear_anonymization(user, data_request) -> None:
    """Raise PermissionDenied with `clearer_refusal`'s words."""
    _raise(clearer_refusal(user))


def declares_identifying(data_request) -> bool:
    """The requester said the data may identify a patient (now or when publishing): every file waits for a person."""
    return data_request.needs_anonymization or data_request.patient_data in (
        DataRequest.PatientData.YES, DataRequest.PatientData.UNSURE
    )


def attach_refusal(user, data_request) -> str | None:
    """Why `user` may not attach a data file now: the requester and moderators do, to a published
    request in a state the life-cycle table allows (None: they may)."""
    if silenced := _silence_refusal(user):
        return silenced
    if data_request.topic_id is None:
        return _("Publish the request first: data files are attached to a published request.")
    if not (is_requester(user, data_request) or can_moderate_request(user, data_request)):
        return _("Only the requester and moderators attach data files to a request.")
    return transition_refusal(data_request, "attach")


def can_attach_file(user, data_request) -> bool:
    """The yes or no of `attach_refusal`."""
    return attach_refusal(user, data_request) is None


def check_can_attach_file(user, data_request) -> None:
    """Raise PermissionDenied with `attach_refusal`'s words (a draft or a finished request included)."""
    _raise(attach_refusal(user, data_request))


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
    """Whoever reads a solved request may download its bundle (one query, for the visibility)."""
    return transition_refusal(data_request, "export") is None and can_see_request(user, data_request)


def dataset_withheld(user, item) -> bool:
    """Whether a request's data (its links, its license problems) is withheld from `user`: held
    for its license, and `user` is neither its requester nor a moderator. `item` is the
    dataset's licensing record, or None before it is recorded."""
    return item is not None and not can_see_held(user, item)


# --- Everything at once -----------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    """One step a person may take on a request: allowed, or why not in their words (`reason`, what the
    service would say); `shown` when a page should show the step disabled with its reason because it
    is theirs to take (a volunteer learns what earns the trust to claim), not just absent."""

    allowed: bool
    reason: str = ""
    shown: bool = False

    def __bool__(self) -> bool:
        return self.allowed

    def as_dict(self) -> dict:
        return asdict(self)


def _action(refusal: str | None, *, shown: bool = False) -> Action:
    return Action(True) if refusal is None else Action(False, refusal, shown)


def request_actions(user, data_request, *, claims, accepted_held: bool = False,
                    active_claim_count: int | None = None) -> dict[str, Action]:
    """Every step `user` may take on `data_request` now, by name, each from the rule its service
    checks, in the service's order. No queries: `data_request` comes with its topic and category,
    `user` may see it (pages and selectors checked), `claims` are its active claims, `accepted_held`
    whether its accepted result is held for its license, and `active_claim_count` how many claims
    `user` holds anywhere (None: the limit is left to the service).

    "release" gives up `user`'s own claim; "release_others" releases anybody else's.
    """
    requester = is_requester(user, data_request)
    moderator = can_moderate_request(user, data_request)
    mine = user.is_authenticated and any(claim.volunteer_id == user.pk for claim in claims)
    state = data_request.state
    claim_state = transition_refusal(data_request, "claim")
    others = any(claim.volunteer_id != user.pk for claim in claims)
    actions = {
        # A draft is saved and published from its form, by its author.
        "publish": _action(post_request_refusal(user) or transition_refusal(data_request, "save_draft")
                           or edit_refusal(user, data_request), shown=requester and state == State.DRAFT),
        # Shown to a requester kept from editing a live request (silenced); once it is solved or withdrawn
        # the panel says so already.
        "edit": _action(edit_refusal(user, data_request), shown=requester and state in LIVE_STATES),
        "claim": _action(claim_refusal(user, data_request) or claim_state
                         or claims_refusal(user, claims=claims, active_claim_count=active_claim_count),
                         shown=claim_state is None and not requester and not mine),
        "update": _action(transition_refusal(data_request, "update") or claimant_refusal(user, claims)),
        "deliver": _action(transition_refusal(data_request, "deliver") or claimant_refusal(user, claims)),
        # One result at a time (its mark asks whether it is held): whether `user` accepts results here now.
        "accept": _action(accept_refusal(user, data_request) or transition_refusal(data_request, "accept")),
        "withdraw": _action(withdraw_refusal(user, data_request) or transition_refusal(data_request, "withdraw"),
                            shown=requester and state in LIVE_STATES),
        "close": _action(close_refusal(user, data_request) or transition_refusal(data_request, "close")),
        "clear": _action(waiting_refusal(data_request) or transition_refusal(data_request, "clear")
                         or clearer_refusal(user)),
        "attach": _action(attach_refusal(user, data_request)),
        "export": _action(transition_refusal(data_request, "export") or (_(
            "The accepted result is held for its license; it can be exported once its author fixes it.")
            if accepted_held else None)),
        "release": _action(None if mine else _("You hold no claim on this request.")),
        "release_others": _action((None if others else _("Nobody else holds a claim on this request."))
                                  or (None if requester or moderator else _release_words())),
    }
    return actions
