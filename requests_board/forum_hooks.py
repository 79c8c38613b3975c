"""What the requests board adds to forum pages (see forum/extensions.py).

A request's topic page shows the request panel (details, state, claims, the
accepted result, actions, history); its posts carry "Progress update" and
"Result" marks; a profile counts delivered and accepted results.
"""
import json

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from anonymization import selectors as anonymization_selectors
from forum.permissions import can_read_post_text
from licensing import bundles
from licensing import selectors as licensing_selectors
from licensing.models import LicensedItem
from licensing.permissions import can_see_held
from licensing.registry import parse as parse_license

from . import selectors
from .models import DataRequest
from .permissions import (
    can_accept_result,
    can_attach_file,
    can_claim,
    can_clear_anonymization,
    can_edit_request,
    can_edit_result_license,
    can_export_request,
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


def _results_for(request, topic, data_request) -> list:
    """Every result of the topic's request (a handful), looked up once per HTTP request."""
    cache = request.__dict__.setdefault("_results_for_topic", {})
    if topic.pk not in cache:
        cache[topic.pk] = selectors.result_list(data_request=data_request)
    return cache[topic.pk]


def _license_items(request, topic) -> dict:
    """The topic's licensed items by (type, object id), looked up once per HTTP request."""
    cache = request.__dict__.setdefault("_license_items_for_topic", {})
    if topic.pk not in cache:
        cache[topic.pk] = {(item.item_type, item.object_id): item
                           for item in licensing_selectors.items_for_topic(topic_id=topic.pk)}
    return cache[topic.pk]


def _dataset_attribution(data_request, topic) -> str:
    return bundles.attribution(
        title=topic.title, author=data_request.author.name, site=settings.SITE_NAME,
        date=(data_request.published_at or data_request.created_at).date(), expression=data_request.data_license)


def _result_attribution(result, topic) -> str:
    return bundles.attribution(
        title=_("Result for “%(title)s”") % {"title": topic.title}, author=result.author.name,
        site=settings.SITE_NAME, date=result.created_at.date(), expression=result.license)


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
        "files": _visible_files(request, topic),
    }
    item = _license_items(request, topic).get((LicensedItem.ItemType.DATASET, data_request.pk))
    context["dataset_item"] = item
    context["data_withheld"] = item is not None and not can_see_held(user, item)
    context["data_attribution"] = _dataset_attribution(data_request, topic)
    context["can_export"] = can_export_request(user, data_request) and not (
        data_request.accepted_result_id and _result_held(request, topic, data_request.accepted_result_id))
    accepted = data_request.accepted_result
    context["accepted_withheld"] = bool(accepted) and (
        _result_withheld(request, topic, accepted.pk) or not can_read_post_text(user, accepted.post))
    return render_to_string("requests_board/_panel.html", context, request=request)


def _withheld_post_ids(request, topic) -> set:
    """Posts of results held for their license that this viewer may not read (nor their files)."""
    return {
        item.post_id for item in _license_items(request, topic).values()
        if item.post_id and item.item_type == LicensedItem.ItemType.RESULT and not can_see_held(request.user, item)
    }


def _visible_files(request, topic) -> dict:
    files = _files_for(request, topic)
    withheld = _withheld_post_ids(request, topic)
    if not withheld:
        return files
    return {name: [upload for upload in uploads if upload.post_id not in withheld] for name, uploads in files.items()}


def _result_held(request, topic, result_id) -> bool:
    item = _license_items(request, topic).get((LicensedItem.ItemType.RESULT, result_id))
    return item is not None and item.is_held


def _result_withheld(request, topic, result_id) -> bool:
    item = _license_items(request, topic).get((LicensedItem.ItemType.RESULT, result_id))
    return item is not None and not can_see_held(request.user, item)


def post_marks(*, request, topic, posts) -> dict:
    data_request = _request_for(request, topic)
    if data_request is None or not posts:
        return {}
    data_request.topic = topic
    results = {result.post_id: result for result in _results_for(request, topic, data_request)}
    updates = selectors.update_post_ids(data_request=data_request, post_ids=[post.pk for post in posts])
    may_accept = data_request.state == State.DELIVERED and can_accept_result(request.user, data_request)
    files = _visible_files(request, topic)
    files_by_post: dict[int, list] = {}
    for upload in files["published"] + files["in_review"]:
        if upload.post_id:
            files_by_post.setdefault(upload.post_id, []).append(upload)
    marks = {}
    for post in posts:
        if post.deleted_at is not None or not can_read_post_text(request.user, post):
            continue  # a post hidden for review shows neither its result nor its files
        html = ""
        if post.pk in results:
            result = results[post.pk]
            item = _license_items(request, topic).get((LicensedItem.ItemType.RESULT, result.pk))
            withheld = item is not None and not can_see_held(request.user, item)
            html = render_to_string("requests_board/_result_mark.html", {
                "result": result, "item": item, "withheld": withheld,
                "may_accept": may_accept and not (item is not None and item.is_held),
                "attribution": _result_attribution(result, topic),
                "can_edit_license": can_edit_result_license(request.user, result, data_request,
                                                            held=item is not None and item.is_held),
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


def withheld_posts(*, request, topic, posts) -> set:
    """Results held for their license are read only by their authors and moderators."""
    if _request_for(request, topic) is None:
        return set()
    return _withheld_post_ids(request, topic)


def _license_url(expression: str) -> str | list[str]:
    ids = parse_license(expression).ids
    urls = [f"https://spdx.org/licenses/{key}.html" for key in ids]
    return urls[0] if len(urls) == 1 else urls


_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def topic_head(*, request, topic) -> str:
    """schema.org JSON-LD for a request's page: a Dataset for its data, a CreativeWork per visible result."""
    data_request = _request_for(request, topic)
    if data_request is None:
        return ""
    site = settings.SITE_URL.rstrip("/")
    page_url = site + topic.get_absolute_url()
    items = _license_items(request, topic)
    graph = []
    dataset_item = items.get((LicensedItem.ItemType.DATASET, data_request.pk))
    if dataset_item is None or can_see_held(request.user, dataset_item):
        files = _files_for(request, topic)["published"]
        distribution = [{"@type": "DataDownload", "name": upload.published_version.public_name,
                         "contentUrl": site + reverse("anonymization:published-download",
                                                      args=[upload.pk, upload.published_version.public_name])}
                        for upload in files if upload.post_id is None]
        distribution += [{"@type": "DataDownload", "contentUrl": url} for url in data_request.data_links]
        graph.append({
            "@type": "Dataset", "@id": page_url + "#data", "name": topic.title, "url": page_url,
            # The first post's current text: the request's own copy may predate a redaction.
            "description": " ".join(strip_tags(
                selectors.request_question(data_request=data_request) or "").split())[:500] or topic.title,
            "license": _license_url(data_request.data_license),
            "creator": {"@type": "Person", "name": data_request.author.name},
            "datePublished": (data_request.published_at or data_request.created_at).date().isoformat(),
            "keywords": [tag.name for tag in topic.tags.all()],
            "isAccessibleForFree": True,
            "distribution": distribution,
            "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": site},
        })
    for result in _results_for(request, topic, data_request):
        item = items.get((LicensedItem.ItemType.RESULT, result.pk))
        if result.post.deleted_at is not None or result.post.hidden or (item is not None and item.is_held):
            continue
        graph.append({
            "@type": "CreativeWork", "@id": site + result.post.get_absolute_url(),
            "name": _("Result for “%(title)s”") % {"title": topic.title},
            "url": site + result.post.get_absolute_url(),
            "author": {"@type": "Person", "name": result.author.name},
            "dateCreated": result.created_at.date().isoformat(),
            "license": _license_url(result.license),
            "isBasedOn": page_url + "#data",
            "sameAs": result.repository_url,
        })
    if not graph:
        return ""
    data = json.dumps({"@context": "https://schema.org", "@graph": graph}, ensure_ascii=False)
    return mark_safe(f'<script type="application/ld+json">{data.translate(_JSON_ESCAPES)}</script>')


def topic_licenses(*, topic_ids) -> dict:
    """For feeds: the data license of each request topic, and the license of its accepted result."""
    site = settings.SITE_URL.rstrip("/")
    rows = selectors.request_licenses(topic_ids=topic_ids)
    held = licensing_selectors.held_keys(
        dataset_ids=[row["pk"] for row in rows], result_ids=[row["accepted_result_id"] for row in rows])
    licenses: dict[int, list] = {}
    for row in rows:
        expressions = []
        if ("dataset", row["pk"]) not in held:
            expressions.append(row["data_license"])
        if row["accepted_result_id"] and ("result", row["accepted_result_id"]) not in held:
            expressions.append(row["accepted_result__license"])
        for expression in expressions:
            pages = [site + reverse("licensing:license-detail", args=[key]) for key in parse_license(expression).ids]
            licenses.setdefault(row["topic_id"], []).append((expression, pages))
    return licenses


def withheld_posts_query(*, user):
    """Held results are read only by their authors and moderators: search and revision history too."""
    return licensing_selectors.withheld_result_posts(user=user)


def notification_kinds() -> list:
    from .notifications import NOTIFICATION_KINDS

    return NOTIFICATION_KINDS


def post_notification_kind(*, post) -> str | None:
    """Watchers of a request hear "a progress update" or "a result", not just "a new post"."""
    from .notifications import NoticeKind

    kind = selectors.post_kind(post_id=post.pk)
    return {"result": NoticeKind.RESULT_DELIVERED, "update": NoticeKind.REQUEST_UPDATE}.get(kind)


def digest_sections(*, user, since, now) -> list:
    from forum.selectors.digests import DigestItem, DigestSection, absolute

    news = selectors.digest_news(user=user, since=since, now=now)

    def request_item(data_request, detail=""):
        return DigestItem(data_request.topic.title, absolute(data_request.get_absolute_url()), detail)

    def result_item(result):
        return DigestItem(result.data_request.topic.title, absolute(result.post.get_absolute_url()),
                          _("by %(name)s, %(license)s") % {"name": result.author.name, "license": result.license})

    sections = [
        DigestSection(_("New requests that match your expertise"),
                      [request_item(r, r.category.name) for r in news.get("matching", [])]),
        DigestSection(_("New requests"), [request_item(r, r.category.name) for r in news.get("new", [])]),
        DigestSection(_("Due within a week and nobody has claimed them yet"), [
            request_item(r, _("due %(date)s") % {"date": r.deadline.isoformat()}) for r in news["due_soon"]]),
        DigestSection(_("New results"), [result_item(r) for r in news["results"]]),
        DigestSection(_("Accepted results"), [result_item(r) for r in news["accepted"]]),
    ]
    return sections


def held_posts_query():
    """Posts held for their license, whoever reads: digests never list them."""
    return licensing_selectors.held_post_ids()


def personal_data(*, user) -> dict:
    """A person's requests, claims and results for their data export (their own words only)."""
    from .models import Claim, Result

    return {
        "data_requests": list(DataRequest.objects.filter(author=user).order_by("created_at").values(
            "pk", "title", "question", "modality", "data_size", "data_links", "data_license", "result_description",
            "result_type", "deadline", "expertise", "patient_data", "state", "created_at",
        )),
        "claims": list(Claim.objects.filter(volunteer=user).order_by("created_at").values(
            "data_request_id", "role", "part", "plan", "expected_date", "status", "created_at", "ended_at",
        )),
        "results": list(Result.objects.filter(author=user).order_by("created_at").values(
            "data_request_id", "post_id", "repository_url", "license", "repository_license", "created_at",
            "accepted_at",
        )),
    }


def review_queue_links(*, user) -> list:
    """Results and datasets held for their license, beside the review queue (moderators)."""
    from licensing.permissions import can_read_license_report

    if not can_read_license_report(user):
        return []
    held = LicensedItem.objects.filter(state=LicensedItem.State.HELD, topic__deleted_at__isnull=True).count()
    return [(_("Held for their license"), held, reverse("licensing:license-report"))]


def personal_data_erase(*, user) -> None:
    """A person deleting their account: their unpublished drafts go (private text nobody else has
    seen, possibly about patients), and their active claims end so volunteers can take over.
    Published requests and results stay, attributed to "deleted user"."""
    from .models import Claim
    from .services import claim_release

    DataRequest.objects.filter(author=user, state=DataRequest.State.DRAFT, topic__isnull=True).delete()
    for claim_id in Claim.objects.filter(volunteer=user, status=Claim.Status.ACTIVE).values_list("pk", flat=True):
        claim_release(actor=user, claim_id=claim_id)


def api_urlpatterns() -> list:
    from .api_urls import urlpatterns  # the API's views load with the URLs, not with every hook

    return urlpatterns


def api_examples(*, example) -> None:
    from .api_examples import attach

    attach(example)
