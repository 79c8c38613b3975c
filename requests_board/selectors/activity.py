"""A request's activity as its topic page shows it: its question, claims, results, progress
updates and history, and what of these every reader sees alike, kept in the cache
(`request_panel_data`)."""
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Value, When

from forum.models import Post, User
from forum.pagecache import TOPIC_KEY
from forum.permissions import post_texts_readable_by
from forum.selectors import counted

from ..models import Claim, DataRequest, ProgressUpdate, RequestEvent, Result


def request_question(*, data_request, reader=None) -> str | None:
    """The current text of a published request's question (its topic's first post), None for a draft
    or, given a `reader`, where they may not read it."""
    if data_request.topic_id is None:
        return None
    posts = Post.objects.filter(topic_id=data_request.topic_id, number=1)
    if reader is not None:
        posts = post_texts_readable_by(reader, posts)
    return posts.values_list("raw", flat=True).first()


# What a request's panel shows every reader alike is kept beside its topic's page-cache generation,
# which every write to the request, its claims, results, updates, files or history bumps (they all
# change what its anonymous page shows), and the site's; and no longer than the pages themselves.
PANEL_SECONDS = 300
# The people in it are shown by name and linked to their profile: nothing else of theirs (email,
# password hash, a moderator's reasons, roles...) is read, so nothing else is kept in the cache.
_PERSON_SHOWN = {"id", "username", "display_name", "deleted_at"}


def _people_public(*relations) -> list[str]:
    hidden = [field.name for field in User._meta.concrete_fields if field.name not in _PERSON_SHOWN]
    return [f"{relation}__{name}" for relation in relations for name in hidden]


@dataclass
class RequestPanelData:
    data_request: DataRequest
    claims: list  # active, lead first
    results: list  # every result, oldest first
    update_post_ids: frozenset  # posts that are progress updates
    events: list  # the history, oldest first (the latest 100)


def _load_panel_data(topic_id: int) -> RequestPanelData | None:
    data_request = (
        DataRequest.objects.select_related("author", "category", "accepted_result", "accepted_result__post",
                                           "accepted_result__author")
        .defer(*_people_public("author", "accepted_result__author")).filter(topic_id=topic_id).first()
    )
    if data_request is None:
        return None
    claims = claim_list(data_request=data_request, defer=_people_public("volunteer"))
    results = result_list(data_request=data_request, defer=_people_public("author"))
    updates = frozenset(ProgressUpdate.objects.filter(data_request=data_request).values_list("post_id", flat=True))
    return RequestPanelData(data_request, claims, results, updates,
                            event_list(data_request=data_request, defer=_people_public("actor", "subject")))


def request_panel_data(*, topic) -> RequestPanelData | None:
    """What a topic's request panel and post marks show every reader, or None for a topic without a
    request: one cache round trip, or five queries after a write to it."""
    # The name's version changes with RequestPanelData's fields: a deploy never reads older ones.
    return counted(f"request-panel:1 {topic.pk}", lambda: _load_panel_data(topic.pk),
                   scope=TOPIC_KEY.format(topic.pk), seconds=PANEL_SECONDS)


def claim_list(*, data_request, defer=()) -> list[Claim]:
    """Active claims on a request, lead first."""
    order = Case(When(role=Claim.Role.LEAD, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(
        Claim.objects.filter(data_request=data_request, status=Claim.Status.ACTIVE)
        .select_related("volunteer").defer(*defer).order_by(order, "created_at")
    )


def event_list(*, data_request, limit: int = 100, defer=()) -> list[RequestEvent]:
    """The request's history, oldest first (the latest `limit` entries)."""
    events = list(
        RequestEvent.objects.filter(data_request=data_request).select_related("actor", "subject").defer(*defer)
        .order_by("-created_at", "-pk")[:limit]
    )
    return events[::-1]


def result_list(*, data_request, defer=()) -> list[Result]:
    """Every result of a request, with its post and author, oldest first."""
    return list(Result.objects.filter(data_request=data_request).select_related("post", "author").defer(*defer)
                .order_by("pk"))
