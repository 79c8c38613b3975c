"""What the requests board adds to forum pages (see forum/extensions.py).

A request's topic page shows the request panel (details, state, claims, the
accepted result, actions, history); its posts carry "Progress update" and
"Result" marks; a profile counts delivered and accepted results.
"""
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from anonymization import selectors as anonymization_selectors

from . import selectors
from .models import DataRequest
from .permissions import (
    can_accept_result,
    can_attach_file,
    can_claim,
    can_clear_anonymization,
    can_edit_request,
    can_moderate_request,
    can_release_claim,
    is_requester,
)

State = DataRequest.State


def _request_for(request, topic):
    """The request on `topic`, looked up once per HTTP request."""
    cache = request.__dict__.setdefault("_data_request_for_topic", {})
    if topic.pk not in cache:
        cache[topic.pk] = selectors.request_for_topic(topic=topic)
    return cache[topic.pk]


def _files_for(request, topic):
    """The topic's files (published, and in review for the uploader and the team), once per HTTP request."""
    cache = request.__dict__.setdefault("_files_for_topic", {})
    if topic.pk not in cache:
        cache[topic.pk] = anonymization_selectors.uploads_for_topic(user=request.user, topic_id=topic.pk)
    return cache[topic.pk]


def topic_panel(*, request, topic) -> str:
    data_request = _request_for(request, topic)
    if data_request is None:
        return ""
    data_request.topic = topic
    user = request.user
    claims = selectors.claim_list(data_request=data_request)
    for claim in claims:
        claim.data_request = data_request
        claim.can_release = can_release_claim(user, claim)
    mine = next((claim for claim in claims if user.is_authenticated and claim.volunteer_id == user.pk), None)
    claimable = data_request.state in (State.OPEN, State.CLAIMED, State.IN_PROGRESS)
    pending = data_request.needs_anonymization and data_request.cleared_at is None
    context = {
        "data_request": data_request,
        "topic": topic,
        "claims": claims,
        "my_claim": mine,
        "events": selectors.event_list(data_request=data_request),
        "is_requester": is_requester(user, data_request),
        "is_moderator": can_moderate_request(user, data_request),
        "pending_anonymization": pending,
        "can_claim": claimable and not pending and can_claim(user) and mine is None
        and not is_requester(user, data_request),
        "can_deliver": mine is not None and data_request.state in (State.CLAIMED, State.IN_PROGRESS, State.DELIVERED),
        "can_edit": can_edit_request(user, data_request),
        "can_withdraw": is_requester(user, data_request) and data_request.state in (State.OPEN, State.CLAIMED),
        "can_close": can_moderate_request(user, data_request) and data_request.state != State.CLOSED,
        "can_clear": can_clear_anonymization(user, data_request),
        "can_attach": can_attach_file(user, data_request),
        "files": _files_for(request, topic),
    }
    return render_to_string("requests_board/_panel.html", context, request=request)


def post_marks(*, request, topic, posts) -> dict:
    data_request = _request_for(request, topic)
    if data_request is None or not posts:
        return {}
    data_request.topic = topic
    results, updates = selectors.post_kinds(data_request=data_request, post_ids=[post.pk for post in posts])
    may_accept = data_request.state == State.DELIVERED and can_accept_result(request.user, data_request)
    files = _files_for(request, topic)
    files_by_post: dict[int, list] = {}
    for upload in files["published"] + files["in_review"]:
        if upload.post_id:
            files_by_post.setdefault(upload.post_id, []).append(upload)
    marks = {}
    for post in posts:
        if post.deleted_at is not None:
            continue
        html = ""
        if post.pk in results:
            html = render_to_string("requests_board/_result_mark.html", {
                "result": results[post.pk], "may_accept": may_accept,
            }, request=request)
        elif post.pk in updates:
            html = render_to_string("requests_board/_update_mark.html", {}, request=request)
        if post.pk in files_by_post:
            html += render_to_string("requests_board/_post_files.html", {"uploads": files_by_post[post.pk]},
                                     request=request)
        if html:
            marks[post.pk] = html
    return marks


def profile_figures(*, user, profile_user) -> list:
    figures = selectors.volunteer_figures(profile_user=profile_user)
    if not figures["delivered"]:
        return []
    return [(_("Results delivered"), figures["delivered"]), (_("Results accepted"), figures["accepted"])]


def topic_move_refusal(*, topic, destination) -> str | None:
    """A request waiting for the anonymization team leaves the channel only by their clearance."""
    data_request = selectors.request_for_topic(topic=topic)
    if data_request is None or not destination.is_public:
        return None
    if data_request.needs_anonymization and data_request.cleared_at is None:
        return _("This request waits for the anonymization team: clear it from its panel (or approve one of its "
                 "files) instead of moving it.")
    return None
