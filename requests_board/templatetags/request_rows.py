"""Request list rows (the board, matches, my requests) rendered once and kept in the cache.

A row shows every reader the same, so it is kept under a key made of everything it shows
(forum/fragments.py): a changed title, state, deadline, tag or claim is a new key. Rendering the
rows was a third of a board page (their labels are translated one by one).
"""
from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from forum.fragments import fragment_key, kept_fragments

register = template.Library()

TEMPLATE = "requests_board/_request_row.html"
INCLUDED = "requests_board/_state.html"
# Everything the two templates read, as they name it: what the key is made of
# (tests/requests_board/test_request_rows.py checks the templates read nothing else).
ROW_SHOWN = frozenset({
    "data_request.get_absolute_url", "data_request.topic_id", "data_request.topic.title", "data_request.title",
    "data_request.state", "data_request.get_state_display", "data_request.needs_anonymization",
    "data_request.cleared_at", "data_request.deadline", "data_request.category.name", "data_request.modality",
    "data_request.get_modality_display", "data_request.result_type", "data_request.get_result_type_display",
    "data_request.topic.tags.all", "data_request.author.name", "data_request.published_at",
    "data_request.active_claims",
})


def _row_key(data_request) -> str:
    topic = data_request.topic if data_request.topic_id else None
    return fragment_key("requests:row", (TEMPLATE, INCLUDED), (
        data_request.pk, data_request.title, data_request.state,
        (topic.slug, topic.title, tuple((tag.slug, tag.name) for tag in topic.tags.all())) if topic else None,
        data_request.needs_anonymization, data_request.cleared_at is not None,
        data_request.deadline.isoformat() if data_request.deadline else None,
        data_request.category.name, data_request.modality, data_request.result_type, data_request.author.name,
        data_request.published_at.isoformat() if data_request.published_at else None,
        tuple(claim.volunteer.name for claim in data_request.active_claims),
    ))


def rows_html(data_requests) -> list[str]:
    """Each of `data_requests`' row (loaded by selectors.listed): one cache round trip, rendering
    only rows not kept."""
    return kept_fragments(
        data_requests, [_row_key(data_request) for data_request in data_requests],
        lambda data_request: render_to_string(TEMPLATE, {"data_request": data_request}),
    )


@register.simple_tag
def request_rows(data_requests):
    """The `<li>` of each of `data_requests`: requests, or rows a board page kept already rendered
    (`requests_board.selectors.board_pages.KeptRequestRow`, which carry their `row_html`)."""
    data_requests = list(data_requests)
    if all(hasattr(data_request, "row_html") for data_request in data_requests):
        rows = [data_request.row_html for data_request in data_requests]
    else:
        rows = rows_html(data_requests)
    return mark_safe("\n  ".join(rows))  # rendered by our template, autoescaped
