"""No page scrolls sideways on a phone (390 px wide), for a visitor and for a signed-in requester,
with long words and addresses in the content: the requests panel once overflowed by 95 px."""
import pytest

from forum import services as forum_services
from forum.permissions import Role
from tests.e2e.test_forum_journey import sign_in
from tests.forum.factories import CategoryFactory, UserFactory
from tests.requests_board.factories import make_claimed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_LINK = "https://zenodo.org/records/0000001/files/synthetic-incubation-periods-by-region-and-week-2026.csv"
LONG_WORD = "Synthetic" + "incubation" * 8


def _overflow(page) -> int:
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_no_page_scrolls_sideways_on_a_phone(page):
    requester = UserFactory(roles=[Role.REQUESTER])
    volunteer = UserFactory(roles=[Role.VOLUNTEER], trust_level=2)
    category = CategoryFactory(slug="data-requests", name="Data requests")
    data_request, _claim = make_claimed(requester, volunteer, category, title=f"Incubation {LONG_WORD}",
                                        data_links=[LONG_LINK])
    topic = data_request.topic
    forum_services.post_create(actor=volunteer, topic_id=topic.pk, raw=f"A synthetic reply: {LONG_WORD} {LONG_LINK}")
    pages = ["/", "/latest/", "/top/", category.get_absolute_url(), topic.get_absolute_url(), "/requests/",
             "/search/?q=incubation", f"/u/{requester.username}/", "/licenses/", "/accounts/login/",
             "/accounts/signup/"]
    page.set_viewport_size(PHONE)
    wide = {url: _overflow(page) for url in pages if page.goto(url).ok}
    assert len(wide) == len(pages)
    assert {url: px for url, px in wide.items() if px > 0} == {}

    sign_in(page, requester)
    signed_in = [*pages[:-2], "/requests/new/", "/requests/mine/", "/my/notifications/", "/settings/profile/",
                 f"/requests/{data_request.pk}/edit/"]
    wide = {url: _overflow(page) for url in signed_in if page.goto(url).ok}
    assert len(wide) == len(signed_in)
    assert {url: px for url, px in wide.items() if px > 0} == {}
