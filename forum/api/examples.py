"""Examples for the documentation page: one per request body and per response shape.

Attached to the serializers (drf-spectacular shows them on every endpoint using
them); the values are synthetic.
"""
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer

from requests_board import api as board

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
CLAIM = {"id": 31, "volunteer": PERSON, "role": "lead", "part": "", "plan": "A bootstrap estimate by Friday.",
         "expected_date": "2026-11-27", "status": "active", "created_at": WHEN}
REQUEST = {
    "id": 42, "title": "Estimate the incubation period from a case table", "state": "claimed",
    "category": "data-requests", "author": {"username": "sam.requester", "name": "Sam Testclinician"}, "topic": 97,
    "expertise": ["epidemiology", "statistics"], "modality": "tabular", "data_size": "small", "result_type": "answer",
    "deadline": "2026-12-01", "data_license": "CC-BY-SA-4.0", "data_license_state": {"state": "ok", "problems": []},
    "claims": [CLAIM], "created_at": WHEN, "published_at": WHEN, "accepted_at": None,
    "url": "/t/estimate-the-incubation-period/97/",
}
RESULT = {
    "id": 7, "request": 42, "post": 815, "author": PERSON, "summary_html": "<p>Median 5.1 days (95% CI 4.5–5.8).</p>",
    "repository_url": "https://github.com/example/incubation-estimate", "repository_host": "GitHub",
    "license": "BSD-3-Clause", "repository_license": "MIT", "license_state": {"state": "ok", "problems": []},
    "accepted": True, "created_at": WHEN, "accepted_at": WHEN, "url": "/p/815/",
}


def _example(serializer, name, value, *, request=False, response=True):
    extend_schema_serializer(examples=[
        OpenApiExample(name, value=value, request_only=request and not response, response_only=response and not request)
    ])(serializer)


def attach() -> None:
    """Attach every example; called once when the API's URLs load."""
    _example(serializers.CategorySerializer, "A category", {
        "id": 3, "slug": "data-requests", "name": "Data requests", "description": "Ask for help with your data.",
        "color": "#2563eb", "parent": None, "security": "public", "position": 1, "url": "/c/data-requests/"})
    _example(serializers.CategoryListSerializer, "A category and its counts", {
        "id": 3, "slug": "data-requests", "name": "Data requests", "description": "Ask for help with your data.",
        "color": "#2563eb", "parent": None, "security": "public", "position": 1, "url": "/c/data-requests/",
        "topic_count": 118, "latest_activity": WHEN, "subcategories": []})
    _example(serializers.TagSerializer, "A tag", {"name": "statistics", "slug": "statistics", "topic_count": 54})
    _example(serializers.TopicSerializer, "A topic", TOPIC)
    _example(serializers.TopicDetailSerializer, "A topic with its first post", {
        **TOPIC, "first_post": {**POST, "id": 810, "number": 1, "reply_to_number": None}})
    _example(serializers.PostSerializer, "A post", POST)
    _example(serializers.UserSerializer, "A public profile", {
        "username": "jane.volunteer", "name": "Jane Testvolunteer", "affiliation": "Example University",
        "orcid": "", "bio_html": "<p>Biostatistician.</p>", "expertise": ["statistics"],
        "joined": "2026-03", "url": "/u/jane.volunteer/"})
    _example(serializers.NotificationSerializer, "A notification", {
        "id": 501, "kind": "claimed", "kind_label": "Your request was claimed",
        "text": "Jane Testvolunteer claimed “Estimate the incubation period…”", "title": TOPIC["title"],
        "url": "/t/estimate-the-incubation-period/97/", "count": 1, "created_at": WHEN, "read": False})
    _example(serializers.ReadCountSerializer, "Marked read", {"marked_read": 4})
    _example(serializers.SearchPageSerializer, "One page of matches", {
        "total": 1, "more": False, "page": 1, "page_count": 1, "results": [{
            "post": 812, "number": 3, "topic": 97, "topic_title_html": "Estimate the <mark>incubation</mark> period",
            "category": "data-requests", "author": PERSON, "created_at": WHEN,
            "snippet_html": "…a log-normal model of the <mark>incubation</mark> period…", "url": "/p/812/"}]})
    _example(serializers.TopicCreateSerializer, "Start a topic", {
        "category": "data-requests", "title": "Which test for paired ordinal scores?",
        "raw": "We scored 40 synthetic patients twice…", "tags": ["statistics"]}, request=True, response=False)
    _example(serializers.PostCreateSerializer, "Reply", {"raw": "A Wilcoxon signed-rank test fits.",
                                                         "reply_to_number": 1}, request=True, response=False)
    _example(serializers.PostEditSerializer, "Edit", {"raw": "A Wilcoxon signed-rank test fits here.",
                                                      "reason": "typo"}, request=True, response=False)
    _example(board.RequestSerializer, "A request", REQUEST)
    _example(board.RequestDetailSerializer, "A request in full", {
        **REQUEST, "question_html": "<p>We have a table of 300 synthetic cases…</p>",
        "data_links": [{"url": "https://zenodo.org/records/0000000", "host": "Zenodo"}],
        "result_description": "A median with a confidence interval.", "serves_covid": True, "patient_data": None,
        "needs_anonymization": False, "cleared_at": None, "accepted_result": None, "close_reason": "",
        "results": [], "updated_at": WHEN})
    _example(board.RequestWriteSerializer, "Publish a request", {
        "title": "Estimate the incubation period from a case table", "category": "data-requests",
        "question": "We have a table of 300 synthetic cases with exposure and onset dates.",
        "modality": "tabular", "data_size": "small", "data_links": ["https://zenodo.org/records/0000000"],
        "result_description": "A median with a confidence interval.", "result_type": "answer",
        "deadline": "2026-12-01", "expertise": ["epidemiology", "statistics"], "serves_covid": True,
        "patient_data": "no", "data_license": "CC-BY-SA-4.0", "publish": True}, request=True, response=False)
    _example(board.ClaimSerializer, "A claim", CLAIM)
    _example(board.ClaimWriteSerializer, "Claim", {"plan": "A bootstrap estimate by Friday.",
                                                   "expected_date": "2026-11-27"}, request=True, response=False)
    _example(board.UpdateWriteSerializer, "Progress", {"raw": "Cleaned the dates; fitting models now."},
             request=True, response=False)
    _example(board.ResultSerializer, "A result", RESULT)
    _example(board.ResultWriteSerializer, "Deliver", {
        "summary": "Median 5.1 days (95% CI 4.5–5.8).", "repository_url": "https://github.com/example/incubation",
        "license": "BSD-3-Clause", "repository_license": "MIT"}, request=True, response=False)
    _example(board.ReasonWriteSerializer, "Withdraw", {"reason": "We found the answer in a paper."},
             request=True, response=False)
    _example(board.DatasetSerializer, "A dataset", {
        "request": 42, "title": REQUEST["title"], "category": "data-requests", "modality": "tabular",
        "data_size": "small", "links": [{"url": "https://zenodo.org/records/0000000", "host": "Zenodo"}],
        "license": "CC-BY-SA-4.0", "license_state": {"state": "ok", "problems": []}, "published_at": WHEN,
        "url": REQUEST["url"]})
    _example(board.UploadSerializer, "In quarantine", {"id": 9, "state": "scanning",
                                                       "url": "/anonymization/files/9/"})
