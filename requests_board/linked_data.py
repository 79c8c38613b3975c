"""Machine-readable facts of a request's page: schema.org JSON-LD for its <head> (a Dataset for its
data, a CreativeWork per visible result) and, for feeds, the licenses that apply to each topic.
Nothing held for its license appears to who may not read it."""
import json

from django.conf import settings
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from licensing import selectors as licensing_selectors
from licensing.models import LicensedItem
from licensing.permissions import can_see_held
from licensing.registry import parse as parse_license

from . import selectors
from .panel import files_for, license_items, question_text, request_for, results_for


def _license_url(expression: str) -> str | list[str]:
    ids = parse_license(expression).ids
    urls = [f"https://spdx.org/licenses/{key}.html" for key in ids]
    return urls[0] if len(urls) == 1 else urls


_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def request_json_ld(request, topic) -> str:
    """schema.org JSON-LD for a request's page: a Dataset for its data, a CreativeWork per visible result."""
    data_request = request_for(request, topic)
    if data_request is None:
        return ""
    site = settings.SITE_URL.rstrip("/")
    page_url = site + topic.get_absolute_url()
    items = license_items(request, topic)
    graph = []
    dataset_item = items.get((LicensedItem.ItemType.DATASET, data_request.pk))
    if dataset_item is None or can_see_held(request.user, dataset_item):
        files = files_for(request, topic)["published"]
        distribution = [{"@type": "DataDownload", "name": upload.published_version.public_name,
                         "contentUrl": site + reverse("anonymization:published-download",
                                                      args=[upload.pk, upload.published_version.public_name])}
                        for upload in files if upload.post_id is None]
        distribution += [{"@type": "DataDownload", "contentUrl": url} for url in data_request.data_links]
        graph.append({
            "@type": "Dataset", "@id": page_url + "#data", "name": topic.title, "url": page_url,
            # The first post's current text: the request's own copy may predate a redaction.
            "description": " ".join(strip_tags(question_text(request, topic, data_request)).split())[:500]
            or topic.title,
            "license": _license_url(data_request.data_license),
            "creator": {"@type": "Person", "name": data_request.author.name},
            "datePublished": (data_request.published_at or data_request.created_at).date().isoformat(),
            "keywords": [tag.name for tag in topic.tags.all()],
            "isAccessibleForFree": True,
            "distribution": distribution,
            "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": site},
        })
    for result in results_for(request, topic, data_request):
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


def feed_licenses(*, topic_ids) -> dict:
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
