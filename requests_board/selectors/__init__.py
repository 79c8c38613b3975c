"""Every read the board, the request panel, the dashboard and the tasks need.

Each list runs a fixed number of queries: related rows are joined or prefetched,
counts are one grouped query.
"""
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)
from django.db.models.functions import TruncWeek
from django.http import Http404
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from forum.models import Category, Post, Topic
from forum.permissions import categories_visible_to, topics_visible_to
from forum.selectors import audience, counted
from forum.selectors.lists import LIST_SECONDS
from licensing import selectors as licensing_selectors

from ..models import ACTIVE_STATES, Claim, DataRequest, ProgressUpdate, Result
from ..permissions import can_see_request, public_requests, request_actions, requests_visible_to
from .activity import (  # noqa: F401 (re-exported: the app's reads are one namespace)
    PANEL_SECONDS,
    RequestPanelData,
    claim_list,
    event_list,
    request_panel_data,
    request_question,
    result_list,
)

State = DataRequest.State


def _active_claims():
    return Prefetch(
        "claims",
        queryset=Claim.objects.filter(status=Claim.Status.ACTIVE).select_related("volunteer").order_by("created_at"),
        to_attr="active_claims",
    )


def listed(queryset):
    """Joins and prefetches every request list needs, ordered by urgency:
    nearest deadline first, then unclaimed before claimed, then oldest."""
    return (
        queryset.select_related("topic", "topic__category", "author", "category")
        .prefetch_related("topic__tags", _active_claims())
        .annotate(claimed_rank=Case(When(state=State.OPEN, then=Value(0)), default=Value(1),
                                    output_field=IntegerField()))
        .order_by(F("deadline").asc(nulls_last=True), "claimed_rank", "published_at", "pk")
    )


@dataclass
class BoardFilters:
    state: str = "active"
    category: Category | None = None
    tag: str = ""
    modality: str = ""
    result_type: str = ""
    has_deadline: bool = False
    unclaimed: bool = False


@dataclass
class Board:
    requests: object  # a queryset, paginated by the view
    state_counts: dict = field(default_factory=dict)
    total: int = 0  # how many requests the filters select, derived from the counts (no second count)


def _topics_tagged(slug: str):
    return TaggedItem.objects.filter(
        content_type=ContentType.objects.get_for_model(Topic), tag__slug=slug
    ).values("object_id")


def filtered(requests, filters: BoardFilters):
    """`requests` narrowed by the board's filters but the state."""
    if filters.category is not None:
        requests = requests.filter(category=filters.category)
    if filters.tag:
        requests = requests.filter(topic_id__in=_topics_tagged(filters.tag))
    if filters.modality:
        requests = requests.filter(modality=filters.modality)
    if filters.result_type:
        requests = requests.filter(result_type=filters.result_type)
    if filters.has_deadline:
        requests = requests.filter(deadline__isnull=False)
    return requests


def filter_states(filters: BoardFilters) -> list:
    """The states the board's state filter shows."""
    if filters.unclaimed or filters.state == "unclaimed":
        return [State.OPEN]
    if filters.state in State.values:
        return [filters.state]
    return list(ACTIVE_STATES)


def board(*, user, filters: BoardFilters) -> Board:
    """Published requests `user` may see, filtered and in urgency order, with counts per state.

    The counts honour every filter but the state, so each state's number says
    what choosing it would show.
    """
    requests = filtered(requests_visible_to(user, DataRequest.objects.all()), filters)
    # Kept until a write makes the board stale (forum.selectors.counted): counting every visible
    # request costs more the bigger the site. Whose view and every filter are in the name.
    category = filters.category.pk if filters.category else ""
    name = (f"board {audience(user)} {category} {filters.tag} {filters.modality} {filters.result_type} "
            f"{filters.has_deadline}")
    counts = counted(name, lambda: dict(requests.order_by().values_list("state").annotate(n=Count("pk"))))
    state_counts = {state: counts.get(state, 0) for state in State.values if state != State.DRAFT}
    states = filter_states(filters)
    requests = requests.filter(state__in=states)
    total = sum(state_counts.get(state, 0) for state in states)
    return Board(requests=listed(requests), state_counts=state_counts, total=total)


def board_categories(*, user):
    """Topic areas to filter the board by: the public ones and those `user` reads."""
    return categories_visible_to(user, Category.objects.filter(security=Category.Security.PUBLIC)).order_by(
        "position", "name"
    )


def request_get(*, user, pk: int) -> DataRequest:
    """A request `user` may see (a draft only by its author); 404 otherwise."""
    data_request = (
        DataRequest.objects.select_related("topic", "topic__category", "category", "author").filter(pk=pk).first()
    )
    if data_request is None or not can_see_request(user, data_request):
        raise Http404
    return data_request


def request_for_topic(*, topic) -> DataRequest | None:
    """The request a topic carries, or None (one query; its page reads `request_panel_data`)."""
    return DataRequest.objects.filter(topic=topic).first()


def active_claim_count(*, user) -> int:
    """How many claims `user` holds now, on any request (one query): the limit of claims counts them."""
    if not user.is_authenticated:
        return 0
    return Claim.objects.filter(volunteer=user, status=Claim.Status.ACTIVE).count()


def actions_for(*, user, data_request, claims=None, accepted_held=None, claim_count=None) -> dict:
    """What `user` may do to `data_request` now (permissions.request_actions), looking up what the
    rules need unless given: its active claims, whether its accepted result is held, and how many
    claims `user` holds (`claim_count`). The topic page passes what its memos already hold (panel.py); the API asks
    for all three (three queries at most)."""
    if claims is None:
        claims = claim_list(data_request=data_request)
    if accepted_held is None:
        accepted_held = bool(data_request.accepted_result_id) and bool(licensing_selectors.held_keys(
            dataset_ids=[], result_ids=[data_request.accepted_result_id]))
    if claim_count is None and user.is_authenticated:
        claim_count = active_claim_count(user=user)
    return request_actions(user, data_request, claims=claims, accepted_held=accepted_held,
                           active_claim_count=claim_count)


def my_requests(*, user):
    """Everything `user` asked for, drafts included, newest first."""
    return (
        DataRequest.objects.filter(author=user)
        .select_related("topic", "topic__category", "category", "author")
        .prefetch_related("topic__tags", _active_claims())
        .order_by("-created_at", "-pk")
    )


@dataclass
class ClaimDue:
    claim: Claim
    remind_on: datetime.date | None
    release_on: datetime.date | None


def _visible_ids(user):
    """Requests `user` claimed and may still see: a claim on one that went private must not show its title.
    The visibility rule runs over the volunteer's own claimed topics only, not every topic."""
    topics = topics_visible_to(user, Topic.objects.filter(data_request__claims__volunteer=user)).values("pk")
    return DataRequest.objects.filter(topic__in=topics).values("pk")


def my_claims(*, user) -> list[ClaimDue]:
    """`user`'s active claims with when a reminder comes and when the claim would be released. The
    claims are kept for them until a write changes a request or a topic (every claim service does,
    and an update or a result that restarts a claim's clock is a post): they cost a join over the
    volunteer's claimed topics."""
    remind_after = datetime.timedelta(days=settings.REQUESTS_CLAIM_REMIND_AFTER_DAYS)
    release_after = datetime.timedelta(days=settings.REQUESTS_CLAIM_RELEASE_AFTER_DAYS)
    claims = counted(f"my-claims:1 {audience(user)}", lambda: list(
        Claim.objects.filter(volunteer=user, status=Claim.Status.ACTIVE, data_request__in=_visible_ids(user))
        .select_related("data_request", "data_request__topic", "data_request__category")
        .order_by(F("expected_date").asc(nulls_last=True), "created_at")
    ), seconds=LIST_SECONDS)
    due = []
    for claim in claims:
        if claim.reminded_at:
            remind_on, release_on = None, timezone.localdate(claim.reminded_at + release_after)
        else:
            remind_on = timezone.localdate(claim.last_activity_at + remind_after)
            release_on = timezone.localdate(claim.last_activity_at + remind_after + release_after)
        due.append(ClaimDue(claim=claim, remind_on=remind_on, release_on=release_on))
    return due


def my_ended_claims(*, user, limit: int = 20) -> list[Claim]:
    """`user`'s latest ended claims, kept as `my_claims` keeps the active ones."""
    return counted(f"my-ended-claims:1 {audience(user)} {limit}", lambda: list(
        Claim.objects.filter(volunteer=user, data_request__in=_visible_ids(user)).exclude(status=Claim.Status.ACTIVE)
        .select_related("data_request", "data_request__topic").order_by("-ended_at")[:limit]
    ), seconds=LIST_SECONDS)


def expertise_tags(*, user) -> list[Tag]:
    return list(user.expertise.order_by("slug")) if user.is_authenticated else []


def expertise_slugs(*, user) -> list[str]:
    return [tag.slug for tag in expertise_tags(user=user)]


def _tagged_with_any(tag_ids):
    """Whether a request's topic carries one of `tag_ids`: an index probe per request. The ids are
    literal so PostgreSQL knows how common each tag is; with a join to the tags by slug it guessed,
    and collected every topic with a popular tag first (27,000 at a million posts, 50 ms)."""
    return Exists(TaggedItem.objects.filter(
        content_type=ContentType.objects.get_for_model(Topic), object_id=OuterRef("topic_id"),
        tag_id__in=list(tag_ids),
    ))


def matches_for(*, user, tag_ids):
    """Open public requests tagged with any of `tag_ids` (the volunteer's expertise), not their own,
    in urgency order."""
    if not tag_ids:
        return DataRequest.objects.none()
    requests = public_requests(DataRequest.objects.filter(_tagged_with_any(tag_ids), state=State.OPEN))
    return listed(requests.exclude(author=user))


def volunteer_figures(*, profile_user) -> dict:
    """Results `profile_user` delivered, and how many were accepted (one query, kept until a write
    changes a topic: a result is a post, and accepting one changes its request)."""
    return counted(f"volunteer-figures:1 {profile_user.pk}", lambda: Result.objects.filter(
        author=profile_user, post__deleted_at__isnull=True,
    ).aggregate(delivered=Count("pk"), accepted=Count("pk", filter=Q(accepted_at__isnull=False))))


# --- Dashboard --------------------------------------------------------------------

@dataclass
class Dashboard:
    open: int
    claimed: int
    delivered: int
    accepted_this_week: int
    median_to_first_claim: datetime.timedelta | None
    median_to_accepted: datetime.timedelta | None
    weeks: list  # [(week start date, requests published that week)], oldest first
    week_start: datetime.date


def _median(requests, start: str, end: str) -> datetime.timedelta | None:
    """Median of end - start over requests having both, in two queries whatever their number."""
    spans = requests.filter(**{f"{start}__isnull": False, f"{end}__isnull": False}).annotate(
        span=ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    ).order_by("span")
    count = spans.count()
    if not count:
        return None
    middle = list(spans.values_list("span", flat=True)[(count - 1) // 2: count // 2 + 1])
    return sum(middle, datetime.timedelta()) / len(middle)


def dashboard(*, weeks: int = 12, now: datetime.datetime | None = None) -> Dashboard:
    """Plain numbers over public requests only, the same for everyone."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    week_start = today - datetime.timedelta(days=today.weekday())
    week_start_at = timezone.make_aware(datetime.datetime.combine(week_start, datetime.time()))
    requests = public_requests(DataRequest.objects.all())
    figures = requests.aggregate(
        open=Count("pk", filter=Q(state=State.OPEN)),
        claimed=Count("pk", filter=Q(state__in=[State.CLAIMED, State.IN_PROGRESS])),
        delivered=Count("pk", filter=Q(state=State.DELIVERED)),
        accepted_this_week=Count("pk", filter=Q(state=State.ACCEPTED, accepted_at__gte=week_start_at)),
    )
    first_week = week_start - datetime.timedelta(weeks=weeks - 1)
    first_week_at = timezone.make_aware(datetime.datetime.combine(first_week, datetime.time()))
    per_week = dict(
        requests.filter(published_at__gte=first_week_at)
        .annotate(week=TruncWeek("published_at")).order_by().values_list("week").annotate(n=Count("pk"))
    )
    per_week = {(week.date() if isinstance(week, datetime.datetime) else week): n for week, n in per_week.items()}
    series = [
        (first_week + datetime.timedelta(weeks=index), per_week.get(first_week + datetime.timedelta(weeks=index), 0))
        for index in range(weeks)
    ]
    return Dashboard(
        median_to_first_claim=_median(requests, "published_at", "first_claimed_at"),
        median_to_accepted=_median(requests, "published_at", "accepted_at"),
        weeks=series, week_start=week_start, **figures,
    )


def claim_get(*, user, pk: int) -> Claim:
    """A claim on a request `user` may see; 404 otherwise."""
    claim = Claim.objects.select_related("volunteer").filter(pk=pk).first()
    if claim is None:
        raise Http404
    claim.data_request = request_get(user=user, pk=claim.data_request_id)
    return claim


def result_get(*, user, pk: int) -> Result:
    """A result on a request `user` may see; 404 otherwise."""
    result = Result.objects.select_related("post", "author").filter(pk=pk).first()
    if result is None:
        raise Http404
    result.data_request = request_get(user=user, pk=result.data_request_id)
    return result


def licensed_item(*, item_type: str, object_id: int):
    """The licensing record of a dataset or result, or None before it is recorded."""
    return licensing_selectors.item_map(item_type=item_type, object_ids=[object_id]).get(object_id)


def export_get(*, user, pk: int):
    """A bundle and its request, if `user` may read the request; 404 otherwise."""
    bundle = licensing_selectors.bundle_get(bundle_id=pk)
    if bundle is None:
        raise Http404
    data_request = DataRequest.objects.select_related("topic", "author").filter(topic_id=bundle.topic_id).first()
    if data_request is None or not can_see_request(user, data_request):
        raise Http404
    return bundle, data_request


def request_licenses(*, topic_ids) -> list[dict]:
    """Data license and accepted result's license of the requests on these topics (one query)."""
    return list(DataRequest.objects.filter(topic_id__in=list(topic_ids)).values(
        "pk", "topic_id", "data_license", "accepted_result_id", "accepted_result__license"))


def post_kind(*, post_id: int) -> str | None:
    """'result' or 'update' when a forum post is a request's result or progress update (one query)."""
    if Result.objects.filter(post_id=post_id).exists():
        return "result"
    if ProgressUpdate.objects.filter(post_id=post_id).exists():
        return "update"
    return None


def digest_news(*, user, since: datetime.datetime, now: datetime.datetime, limit: int = 10) -> dict[str, list]:
    """What a digest tells `user` (anonymous for the public newsletter) about requests, one query
    per list: requests matching their expertise, open requests due within a week that nobody
    claimed, new results, accepted results, and for the public newsletter new requests. Only
    what `user` may see, and never an item held for its license (whoever reads)."""
    held_datasets = licensing_selectors.held_object_ids(item_type="dataset")
    held_results = licensing_selectors.held_object_ids(item_type="result")
    # Public requests only, whoever reads: an email never carries a private channel's titles.
    visible = public_requests(DataRequest.objects.all()).exclude(pk__in=held_datasets)
    base = visible.select_related("topic", "category")
    news: dict[str, list] = {}
    if user.is_authenticated:
        tag_ids = [tag.pk for tag in expertise_tags(user=user)]
        if tag_ids:
            news["matching"] = list(
                base.filter(_tagged_with_any(tag_ids), state=State.OPEN, published_at__gte=since, published_at__lt=now)
                .exclude(author=user).order_by("-published_at")[:limit])
    else:
        news["new"] = list(base.filter(published_at__gte=since, published_at__lt=now).order_by("-published_at")[:limit])
    today = timezone.localdate(now)
    news["due_soon"] = list(
        base.filter(state=State.OPEN, deadline__gte=today, deadline__lte=today + datetime.timedelta(days=7))
        .exclude(claims__status=Claim.Status.ACTIVE).order_by("deadline", "pk")[:limit])
    results = (
        Result.objects.filter(data_request__in=visible.values("pk"), post__deleted_at__isnull=True)
        .exclude(pk__in=held_results).select_related("data_request", "data_request__topic", "author", "post")
    )
    news["results"] = list(results.filter(created_at__gte=since, created_at__lt=now).order_by("-created_at")[:limit])
    news["accepted"] = list(
        results.filter(accepted_at__gte=since, accepted_at__lt=now).order_by("-accepted_at")[:limit])
    return news


# --- The API ----------------------------------------------------------------------

def result_list_visible(*, user):
    """Results whose post `user` may read (live, not hidden for review, not held for its license
    unless theirs), newest first, with request, topic, author and post joined."""
    from forum.permissions import post_texts_readable_by, posts_visible_to

    readable = post_texts_readable_by(user, posts_visible_to(user, Post.objects.filter(deleted_at__isnull=True)))
    return Result.objects.filter(post__in=readable.values("pk")).select_related(
        "author", "post", "data_request", "data_request__topic", "data_request__category")


def result_get_visible(*, user, pk: int) -> Result:
    """One result `user` may read; 404 otherwise, alike."""
    result = result_list_visible(user=user).filter(pk=pk).first()
    if result is None:
        raise Http404
    return result


def dataset_list(*, user):
    """Published requests `user` may see, as datasets: their links and data license, newest first."""
    return requests_visible_to(user, DataRequest.objects.all()).select_related("topic", "category", "author")


def request_list_api(*, user, filters: BoardFilters):
    """The board's requests for the API: the board's filters, claims and tags loaded; the view
    orders them (cursor pagination needs a plain ordering)."""
    return board(user=user, filters=filters).requests.order_by()


def licensed_items(*, item_type: str, object_ids) -> dict:
    """The licensing records of these datasets or results by object id, topics joined (one query)."""
    from licensing.models import LicensedItem

    items = LicensedItem.objects.filter(item_type=item_type, object_id__in=list(object_ids)).select_related("topic")
    return {item.object_id: item for item in items}


def request_question_html(*, user, data_request) -> str | None:
    """The sanitized HTML of a request's question when `user` may read it, else None."""
    from forum.permissions import post_texts_readable_by

    if data_request.topic_id is None:
        return None
    posts = post_texts_readable_by(user, Post.objects.filter(topic_id=data_request.topic_id, number=1))
    return posts.values_list("html", flat=True).first()


def personal_data(*, user) -> dict:
    """A person's requests, claims and results for their data export (their own words only)."""
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


# The board's kept pages build on the reads above (re-exported: the app's reads are one namespace).
from .board_pages import board_page, matches_page  # noqa: E402, F401
