"""The request panel on a request's topic page, and the marks on its posts ("Result", "Progress
update", their files): what the request is, who works on it, and what the reader may do, which
`permissions.request_actions` decides.

forum_hooks.py adapts these to the forum's hooks. The memos below look each thing up once per
HTTP request, shared by the panel, the marks and the page's <head>: a topic page runs the same
queries however many claims, results and files its request has.
"""
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from anonymization import selectors as anonymization_selectors
from forum.permissions import can_read_post_text
from licensing import bundles
from licensing import selectors as licensing_selectors
from licensing.models import LicensedItem
from licensing.permissions import can_see_held

from . import selectors
from .permissions import can_edit_result_license, claim_refusal, dataset_withheld
from .rules import transition_refusal

ItemType = LicensedItem.ItemType


def _memo(request, name: str, key, load):
    cache = request.__dict__.setdefault(name, {})
    if key not in cache:
        cache[key] = load()
    return cache[key]


def panel_data(request, topic):
    """What the panel and marks show every reader (`selectors.RequestPanelData`), or None."""
    return _memo(request, "_request_panel_data", topic.pk, lambda: selectors.request_panel_data(topic=topic))


def request_for(request, topic):
    """The request on `topic`, or None."""
    data = panel_data(request, topic)
    return data.data_request if data is not None else None


def question_text(request, topic, data_request) -> str:
    """The request's question as its topic's first post now says it (the request's own copy may predate
    a redaction), or "" where this viewer may not read that post. Read from the page's posts when the
    first post is among them (`request_post_marks` keeps it), else one query."""
    return _memo(request, "_question_for_topic", topic.pk,
                 lambda: selectors.request_question(data_request=data_request, reader=request.user) or "")


def files_for(request, topic) -> dict:
    """The topic's files: published, and in review for the uploader and the team."""
    return _memo(request, "_files_for_topic", topic.pk,
                 lambda: anonymization_selectors.uploads_for_topic(user=request.user, topic_id=topic.pk))


def results_for(request, topic, data_request) -> list:
    """Every result of the topic's request (a handful)."""
    return panel_data(request, topic).results


def license_items(request, topic) -> dict:
    """The topic's licensed items by (type, object id), shared with licensing's own hooks."""
    return licensing_selectors.topic_items(request=request, topic_id=topic.pk)


def withheld_post_ids(request, topic) -> set:
    """Posts of results held for their license that this viewer may not read (nor their files)."""
    return licensing_selectors.withheld_post_ids(request=request, topic_id=topic.pk)


def visible_files(request, topic) -> dict:
    files = files_for(request, topic)
    withheld = withheld_post_ids(request, topic)
    if not withheld:
        return files
    return {name: [upload for upload in uploads if upload.post_id not in withheld] for name, uploads in files.items()}


def result_held(request, topic, result_id) -> bool:
    item = license_items(request, topic).get((ItemType.RESULT, result_id))
    return item is not None and item.is_held


def result_withheld(request, topic, result_id) -> bool:
    item = license_items(request, topic).get((ItemType.RESULT, result_id))
    return item is not None and not can_see_held(request.user, item)


def dataset_attribution(data_request, topic) -> str:
    return bundles.attribution(
        title=topic.title, author=data_request.author.name, site=settings.SITE_NAME,
        date=(data_request.published_at or data_request.created_at).date(), expression=data_request.data_license)


def result_attribution(result, topic) -> str:
    return bundles.attribution(
        title=_("Result for “%(title)s”") % {"title": topic.title}, author=result.author.name,
        site=settings.SITE_NAME, date=result.created_at.date(), expression=result.license)


def claims_and_actions(request, topic, data_request) -> tuple[list, dict]:
    """The request's active claims, and what the viewer may do (`permissions.request_actions`)."""
    def load():
        user = request.user
        claims = panel_data(request, topic).claims
        for claim in claims:
            claim.data_request = data_request
        accepted_held = bool(data_request.accepted_result_id) and result_held(
            request, topic, data_request.accepted_result_id)
        # How many claims the viewer holds matters only where nothing else keeps them from claiming.
        claim_count = 0
        if (claim_refusal(user, data_request) is None and transition_refusal(data_request, "claim") is None
                and not any(claim.volunteer_id == user.pk for claim in claims)):
            claim_count = selectors.active_claim_count(user=user)
        return claims, selectors.actions_for(user=user, data_request=data_request, claims=claims,
                                             accepted_held=accepted_held, claim_count=claim_count)

    return _memo(request, "_request_actions_for_topic", topic.pk, load)


def request_panel(request, topic) -> str:
    """The panel above a request's discussion: its details, state, volunteers, files, accepted
    result, history, and the steps the viewer may take (and why not, where it is theirs to take)."""
    data_request = request_for(request, topic)
    if data_request is None:
        return ""
    data_request.topic = topic
    user = request.user
    claims, actions = claims_and_actions(request, topic, data_request)
    for claim in claims:
        mine = user.is_authenticated and claim.volunteer_id == user.pk
        claim.can_release = actions["release" if mine else "release_others"].allowed
    item = license_items(request, topic).get((ItemType.DATASET, data_request.pk))
    accepted = data_request.accepted_result
    context = {
        "data_request": data_request,
        "topic": topic,
        "claims": claims,
        "actions": actions,
        "events": panel_data(request, topic).events,
        "pending_anonymization": data_request.needs_anonymization and data_request.cleared_at is None,
        "files": visible_files(request, topic),
        "dataset_item": item,
        "data_withheld": dataset_withheld(user, item),
        "data_attribution": dataset_attribution(data_request, topic),
        "accepted_withheld": bool(accepted) and (
            result_withheld(request, topic, accepted.pk) or not can_read_post_text(user, accepted.post)),
    }
    return render_to_string("requests_board/_panel.html", context, request=request)


def request_post_marks(request, topic, posts) -> dict:
    """Marks on a page of the request's posts: "Result" (with its licenses, and the button to accept
    it for who may), "Progress update", and the files attached to each."""
    data_request = request_for(request, topic)
    if data_request is None or not posts:
        return {}
    data_request.topic = topic
    user = request.user
    results = {result.post_id: result for result in results_for(request, topic, data_request)}
    updates = panel_data(request, topic).update_post_ids
    may_accept = claims_and_actions(request, topic, data_request)[1]["accept"].allowed
    files = visible_files(request, topic)
    files_by_post: dict[int, list] = {}
    for upload in files["published"] + files["in_review"]:
        if upload.post_id:
            files_by_post.setdefault(upload.post_id, []).append(upload)
    items = license_items(request, topic)
    marks = {}
    for post in posts:
        readable = post.deleted_at is None and can_read_post_text(user, post)
        if post.number == 1:  # the question, for the page's JSON-LD (linked_data.py): no query of its own
            shown = readable and post.pk not in withheld_post_ids(request, topic)
            request.__dict__.setdefault("_question_for_topic", {})[topic.pk] = post.raw if shown else ""
        if not readable:
            continue  # a post hidden for review shows neither its result nor its files
        html = ""
        if post.pk in results:
            result = results[post.pk]
            item = items.get((ItemType.RESULT, result.pk))
            held = item is not None and item.is_held
            html = render_to_string("requests_board/_result_mark.html", {
                "result": result, "item": item, "withheld": item is not None and not can_see_held(user, item),
                "may_accept": may_accept and not held,
                "attribution": result_attribution(result, topic),
                "can_edit_license": can_edit_result_license(user, result, data_request, held=held),
            }, request=request)
        elif post.pk in updates:
            html = render_to_string("requests_board/_update_mark.html", {}, request=request)
        if post.pk in files_by_post:
            html += render_to_string("requests_board/_post_files.html", {"uploads": files_by_post[post.pk]},
                                     request=request)
        if html:
            marks[post.pk] = html
    return marks
