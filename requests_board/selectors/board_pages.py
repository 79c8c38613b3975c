"""The board's pages kept per audience, as the forum's list pages are (forum/selectors/lists.py).

A page of the board shows everybody who reads and moderates the same categories the same requests:
it is kept under that audience beside the lists' and the site's generations (every write that
changes a request's row makes the board's anonymous page stale too), with the person's own requests
beyond it (on their topics held for review or in a private channel) merged in urgency order. The
counts per state stay the person's own (`board`).
"""
import copy
import datetime

from django.core.paginator import Page, Paginator

from forum.pagination import page_number
from forum.selectors import audience, counted, lists, person_fields_unshown, readers
from forum.selectors.lists import LIST_SECONDS, kept_topic, merged_page, own_list_differences, with_tags

from ..models import DataRequest
from ..permissions import own_requests_beyond_audience, requests_visible_to_audience
from . import Board, BoardFilters, board, filter_states, filtered, listed

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
    window_rows = counted(f"board-page:1 {readers(user)} {category} {shown}", window, seconds=LIST_SECONDS)
    extras = []
    if own_requests:
        def own():
            requests = filtered(own_requests_beyond_audience(user, DataRequest.objects.all()), filters)
            return _kept_rows(requests, states, 0, start + per_page)  # later ones cannot reach the page

        extras = _restored(counted(f"board-own:2 {audience(user)} {category} {shown}", own, seconds=LIST_SECONDS))
    items = merged_page(_restored(window_rows), extras, _urgency, low=low, start=start, per_page=per_page,
                        descending=False)
    if items is None:  # more of theirs before the page than the rows kept before it: read it alone
        return result, paginator_alone(result, per_page).get_page(number)
    return result, Page(items, number, paginator)


def paginator_alone(result: Board, per_page: int) -> Paginator:
    paginator = Paginator(result.requests, per_page)
    paginator.count = result.total
    return paginator
