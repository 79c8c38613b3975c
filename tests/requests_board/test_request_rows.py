"""Request list rows kept in the cache (requests_board/templatetags/request_rows.py): every change a
row shows is seen on the next page view, on the board, matches and a person's own requests."""
import re

import pytest
from django.template.loader import get_template
from django.test.signals import template_rendered
from django.utils.translation import override

from forum import pagecache
from requests_board import selectors, services
from requests_board.templatetags import request_rows
from tests.helpers import html_element_around, sign_in
from tests.requests_board.factories import make_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_request_renders(settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0  # the rows' own cache is what is tested


def _row(html: str, title: str) -> str:
    return html_element_around(html, title, "li")


def test_a_board_row_shows_each_change_at_once(client, requester, volunteer, public_category):
    data_request = make_request(requester, public_category, title="Synthetic kept board row",
                                expertise=["statistics"])
    row = _row(client.get("/requests/").content.decode(), "Synthetic kept board row")
    assert "nobody has claimed it yet" in row and "statistics" in row

    services.request_claim(actor=volunteer, data_request_id=data_request.pk)
    row = _row(client.get("/requests/").content.decode(), "Synthetic kept board row")
    assert "claimed by" in row and volunteer.name in row and "nobody has claimed" not in row

    # Saved as they are, then the generations bumped as the services and the admin that rename do: the
    # kept board page is read again, and the row's own key must change for the new name to show.
    requester.display_name = "Synthetic Renamed Requester"
    requester.save()
    pagecache.invalidate()
    assert "Synthetic Renamed Requester" in _row(client.get("/requests/").content.decode(), "Synthetic kept board row")

    public_category.name = "Synthetic renamed area"
    public_category.save()
    pagecache.invalidate()
    assert "Synthetic renamed area" in _row(client.get("/requests/").content.decode(), "Synthetic kept board row")

    data_request.topic.tags.set(["imaging"])
    pagecache.invalidate()
    row = _row(client.get("/requests/").content.decode(), "Synthetic kept board row")
    assert ">imaging<" in row and ">statistics<" not in row


def test_a_kept_row_is_shared_by_readers_and_pages(client, requester, volunteer, public_category):
    make_request(requester, public_category, title="Synthetic shared request row", expertise=["statistics"])
    anonymous = _row(client.get("/requests/").content.decode(), "Synthetic shared request row")
    volunteer.expertise.add(*public_category.topics.get().tags.all())
    sign_in(client, volunteer)
    assert _row(client.get("/requests/").content.decode(), "Synthetic shared request row") == anonymous
    assert _row(client.get("/requests/matches/").content.decode(), "Synthetic shared request row") == anonymous
    sign_in(client, requester)
    assert _row(client.get("/requests/mine/").content.decode(), "Synthetic shared request row") == anonymous


def test_the_key_follows_the_language(requester, public_category):
    data_request = make_request(requester, public_category, title="Synthetic language row")
    listed = selectors.my_requests(user=requester).get(pk=data_request.pk)
    with override("en"):
        english = request_rows._row_key(listed)
    with override("zh-hans"):
        chinese = request_rows._row_key(listed)
    assert english != chinese


@pytest.mark.parametrize("template", [request_rows.TEMPLATE, request_rows.INCLUDED])
def test_the_kept_templates_read_only_what_the_key_is_made_of(template):
    """A field added to the row without its key would show a stale row after that field changed."""
    source = open(get_template(template).origin.name).read()
    read = set(re.findall(r"\bdata_request(?:\.\w+)+", source))
    assert read <= request_rows.ROW_SHOWN, read - request_rows.ROW_SHOWN


def test_every_field_a_row_shows_changes_its_key(requester, volunteer, public_category):
    data_request = make_request(requester, public_category, title="Synthetic keyed row", expertise=["statistics"])
    services.request_claim(actor=volunteer, data_request_id=data_request.pk)

    def listed():
        return selectors.my_requests(user=requester).get(pk=data_request.pk)

    changes = {
        "title": lambda row: setattr(row, "title", "Other"),
        "topic.title": lambda row: setattr(row.topic, "title", "Other"),
        "topic.slug": lambda row: setattr(row.topic, "slug", "other"),
        "state": lambda row: setattr(row, "state", "delivered"),
        "needs_anonymization": lambda row: setattr(row, "needs_anonymization", not row.needs_anonymization),
        "cleared_at": lambda row: setattr(row, "cleared_at", row.published_at),
        "deadline": lambda row: setattr(row, "deadline", None),
        "category.name": lambda row: setattr(row.category, "name", "Other"),
        "modality": lambda row: setattr(row, "modality", "imaging"),
        "result_type": lambda row: setattr(row, "result_type", "figure"),
        "author.name": lambda row: setattr(row.author, "display_name", "Other Name"),
        "published_at": lambda row: setattr(row, "published_at", None),
        "tags": lambda row: row.topic._prefetched_objects_cache.__setitem__("tags", []),
        "active_claims": lambda row: setattr(row, "active_claims", []),
    }
    before = request_rows._row_key(listed())
    for field, change in changes.items():
        row = listed()
        change(row)
        assert request_rows._row_key(row) != before, field


def test_a_row_is_rendered_once_for_many_views(client, requester, public_category):
    make_request(requester, public_category, title="Synthetic rendered once")
    rendered = []

    def record(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(record)
    try:
        client.get("/requests/")
        first = rendered.count(request_rows.TEMPLATE)
        client.get("/requests/")
    finally:
        template_rendered.disconnect(record)
    assert first == 1 and rendered.count(request_rows.TEMPLATE) == 1
