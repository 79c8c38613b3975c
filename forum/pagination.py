"""A paginator whose count costs the same at any size: it counts only as far as the pages near the
one asked for, in the list's own order (an index walk), never every row of a long list."""
from django.core.paginator import Paginator
from django.utils.functional import cached_property

PAGES_AHEAD = 10


MAX_PAGE = 1_000_000  # beyond it a LIMIT would overflow; Django then shows the last page


def page_number(value) -> int:
    try:
        return min(max(1, int(value)), MAX_PAGE)
    except (TypeError, ValueError, OverflowError):
        return 1


class BoundedPaginator(Paginator):
    """Like Django's, but `count` stops `PAGES_AHEAD` pages past `number`: `truncated` then says
    there are more pages than `num_pages` (shown as "Page 3 of more than 12")."""

    def __init__(self, object_list, per_page, number, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.bound = (page_number(number) + PAGES_AHEAD) * per_page
        self.truncated = False

    @cached_property
    def count(self):
        # COUNT(*) over a subquery with a LIMIT and no ORDER BY: it stops after `bound` + 1 rows in
        # whatever order is cheapest (which rows does not change how many).
        counted = self.object_list.order_by()[: self.bound + 1].count()
        self.truncated = counted > self.bound
        return min(counted, self.bound)


def bounded_page(object_list, per_page, number):
    return BoundedPaginator(object_list, per_page, number).get_page(number)
