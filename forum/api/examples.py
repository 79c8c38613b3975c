"""Examples for the documentation page: one per request body and per response shape.

Attached to the serializers (drf-spectacular shows them on every endpoint using
them); the values are synthetic.
"""
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer

from . import serializers

PERSON = {"username": "jane.volunteer", "name": "Jane Testvolunteer"}
WHEN = "2026-11-20T09:30:00Z"
POST = {
    "id": 812, "topic": 97, "number": 3, "author": PERSON, "reply_to_number": 1, "created_at": WHEN,
    "edited_at": None, "like_count": 2, "state": "visible", "raw": "I can fit a **log-normal** model to this.",
    "html": "<p>I can fit a <strong>log-normal</strong> model to this.</p>", "url": "/p/812/",
}
TOPIC = {
    "id": 97, "title": "Estimate the incubation period from a case table", "slug": "estimate-the-incubation-period",
    "category": "data-requests", "tags": ["epidemiology", "statistics"], "author": PERSON, "created_at": WHEN,
    "last_posted_at": WHEN, "post_count": 3, "like_count": 4, "view_count": 120, "pinned": False, "closed": False,
    "archived": False, "url": "/t/estimate-the-incubation-period/97/",
}


def example(serializer, name, value, *, request=False, response=True) -> None:
    """Attach one example to `serializer`: a response (default), a request body, or both."""
    extend_schema_serializer(examples=[
        OpenApiExample(name, value=value, request_only=request and not response, response_only=response and not request)
    ])(serializer)


def attach() -> None:
    """Attach the forum's examples; called once when the API's root URLs load (config/api_urls.py),
    which attaches the other apps' too."""
    example(serializers.CategorySerializer, "A category", {
        "id": 3, "slug": "data-requests", "name": "Data requests", "description": "Ask for help with your data.",
        "color": "#2563eb", "parent": None, "security": "public", "position": 1, "url": "/c/data-requests/"})
    example(serializers.CategoryListSerializer, "A category and its counts", {
        "id": 3, "slug": "data-requests", "name": "Data requests", "description": "Ask for help with your data.",
        "color": "#2563eb", "parent": None, "security": "public", "position": 1, "url": "/c/data-requests/",
        "topic_count": 118, "latest_activity": WHEN, "subcategories": []})
    example(serializers.TagSerializer, "A tag", {"name": "statistics", "slug": "statistics", "topic_count": 54})
    example(serializers.TopicSerializer, "A topic", TOPIC)
    example(serializers.TopicDetailSerializer, "A topic with its first post", {
        **TOPIC, "first_post": {**POST, "id": 810, "number": 1, "reply_to_number": None}})
    example(serializers.PostSerializer, "A post", POST)
    example(serializers.UserSerializer, "A public profile", {
        "username": "jane.volunteer", "name": "Jane Testvolunteer", "affiliation": "Example University",
        "orcid": "", "bio_html": "<p>Biostatistician.</p>", "expertise": ["statistics"],
        "joined": "2026-03", "url": "/u/jane.volunteer/"})
    example(serializers.NotificationSerializer, "A notification", {
        "id": 501, "kind": "claimed", "kind_label": "Your request was claimed",
        "text": "Jane Testvolunteer claimed “Estimate the incubation period…”", "title": TOPIC["title"],
        "url": "/t/estimate-the-incubation-period/97/", "count": 1, "created_at": WHEN, "read": False})
    example(serializers.ReadCountSerializer, "Marked read", {"marked_read": 4})
    example(serializers.SearchPageSerializer, "One page of matches", {
        "total": 1, "more": False, "page": 1, "page_count": 1, "results": [{
            "post": 812, "number": 3, "topic": 97, "topic_title_html": "Estimate the <mark>incubation</mark> period",
            "category": "data-requests", "author": PERSON, "created_at": WHEN,
            "snippet_html": "…a log-normal model of the <mark>incubation</mark> period…", "url": "/p/812/"}]})
    example(serializers.TopicCreateSerializer, "Start a topic", {
        "category": "data-requests", "title": "Which test for paired ordinal scores?",
        "raw": "We scored 40 synthetic patients twice…", "tags": ["statistics"]}, request=True, response=False)
    example(serializers.PostCreateSerializer, "Reply", {"raw": "A Wilcoxon signed-rank test fits.",
                                                        "reply_to_number": 1}, request=True, response=False)
    example(serializers.PostEditSerializer, "Edit", {"raw": "A Wilcoxon signed-rank test fits here.",
                                                     "reason": "typo"}, request=True, response=False)
