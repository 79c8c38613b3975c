"""The board's pages kept per audience, as the forum's list pages are (forum/selectors/lists.py).

A page of the board shows everybody who reads and moderates the same categories the same requests:
it is kept under that audience beside the lists' and the site's generations (every write that
changes a request's row makes the board's anonymous page stale too), with the person's own requests
beyond it (on their topics held for review or in a private channel) merged in urgency order. The
counts per state stay the person's own (`board`).
"""
import copy
import datetime
from dataclasses import dataclass
from operator import attrgetter

from django.core.paginator import Page, Paginator

from forum.fragments import fragment_key
from forum.pagination import BoundedPaginator, bounded_page, page_number
from forum.selectors import audience, counted, lists, person_fields_unshown, readers
from forum.selectors.lists import LIST_SECONDS, kept_topic, merged_page, own_list_differences, with_tags

from ..models import DataRequest
from ..permissions import own_requests_beyond_audience, requests_visible_to_audience
from . import Board, BoardFilters, board, filter_states, filtered, listed, matches_for

# What is kept in the cache names people only, never their email or password hash.
_PEOPLE_UNSHOWN = person_fields_unshown("author")


def _urgency(data_request):
    """`listed`'s order as a Python key: nearest deadline first, open before claimed, oldest."""
    return (
        data_request.deadline is None, data_request.deadline or datetime.date.min, data_request.claimed_rank,
        data_request.published_at, data_request.pk,
    )


def _kept(data_request) -> tuple:
    """A request as kept: its topic without the prefetched tags' queryset, and the tags."""
    plain = copy.copy(data_request)
    plain.topic, tags = kept_topic(data_request.topic)
    return plain, tags


def _restored(rows) -> list:
    requests = []
    for data_request, tags in rows:
        with_tags(data_request.topic, tags)
        requests.append(data_request)
    return requests


@dataclass(slots=True)
class KeptRequestRow:
    """A request's row as a board page keeps it rendered (templatetags/request_rows.py), with its
    place in the board's order (`_urgency`) to merge a person's own rows in: reading the page then
    loads no request at all."""
    pk: int
    title: str
    order: tuple
    row_html: str


def _rendered(name: str, kept) -> list[KeptRequestRow]:
    """The requests `kept()` keeps under `name` (`_kept` rows), rendered in this language: kept
    beside them under the same generations (a row shows nothing relative to now)."""
    from ..templatetags.request_rows import INCLUDED, TEMPLATE, rows_html

    def render():
        requests = _restored(counted(name, kept, seconds=LIST_SECONDS))
        return [(data_request.pk, data_request.title, _urgency(data_request), row)
                for data_request, row in zip(requests, rows_html(requests), strict=True)]

    # The fragment key says the language, time zone and templates, as a row's own does.
    rendered_name = fragment_key(f"{name} rows:2", (TEMPLATE, INCLUDED), ())
    return [KeptRequestRow(*row) for row in counted(rendered_name, render, seconds=LIST_SECONDS)]


def _kept_rows(requests, states, first: int, last: int) -> list:
    return [_kept(data_request) for data_request in
            listed(requests.filter(state__in=states)).defer(*_PEOPLE_UNSHOWN)[first:last]]


def board_page(*, user, filters: BoardFilters, number, per_page: int) -> tuple[Board, Page]:
    """The board's counts for `user` and page `number` of its requests (Django's `get_page`: past the
    end, the last page)."""
    result = board(user=user, filters=filters)
    paginator = Paginator([], per_page)
    paginator.count = result.total  # known from the counts per state: spares a second count
    number = min(page_number(number), paginator.num_pages)
    own_requests = False
    if user.is_authenticated:
        own_requests, _mutes = own_list_differences(user)  # the board leaves nothing muted out
    states = filter_states(filters)
    start = (number - 1) * per_page
    low = max(0, start - lists.OWN_MERGED)

    def window():
        requests = filtered(requests_visible_to_audience(user, DataRequest.objects.all()), filters)
        return _kept_rows(requests, states, low, start + per_page)

    category = filters.category.pk if filters.category else ""
    shown = (filters.tag, filters.modality, filters.result_type, filters.has_deadline, states, number, per_page, low)
    window_rows = _rendered(f"board-page:1 {readers(user)} {category} {shown}", window)
    extras = []
    if own_requests:
        def own():
            requests = filtered(own_requests_beyond_audience(user, DataRequest.objects.all()), filters)
            return _kept_rows(requests, states, 0, start + per_page)  # later ones cannot reach the page

        extras = _rendered(f"board-own:2 {audience(user)} {category} {shown}", own)
    items = merged_page(window_rows, extras, attrgetter("order"), low=low, start=start, per_page=per_page,
                        descending=False)
    if items is None:  # more of theirs before the page than the rows kept before it: read it alone
        return result, paginator_alone(result, per_page).get_page(number)
    return result, Page(items, number, paginator)


def paginator_alone(result: Board, per_page: int) -> Paginator:
    paginator = Paginator(result.requests, per_page)
    paginator.count = result.total
    return paginator


def matches_page(*, user, tag_ids, number, per_page: int) -> Page:
    """Page `number` of the open requests matching `tag_ids` for `user` (`matches_for`) with its
    bounded count, kept for them until a write changes a request or a topic, as the board's pages
    are: matching the open requests cost 35 ms a page at a million posts."""
    number = page_number(number)

    def compute():
        page = bounded_page(matches_for(user=user, tag_ids=tag_ids).defer(*_PEOPLE_UNSHOWN), per_page, number)
        paginator = page.paginator
        return [_kept(item) for item in page.object_list], page.number, paginator.count, paginator.truncated

    name = f"matches:1 {audience(user)} {sorted(tag_ids)} {number} {per_page}"
    rows, number, count, truncated = counted(name, compute, seconds=LIST_SECONDS)
    paginator = BoundedPaginator([], per_page, number)
    paginator.count, paginator.truncated = count, truncated  # `count` is a cached_property: set, not counted
    return Page(_restored(rows), number, paginator)
