"""Topic list rows kept in the cache (forum/templatetags/topic_rows.py): shared by every reader, each
still seeing their own badge, and never showing a row older than what it shows."""
import re

import pytest

from forum import pagecache, services
from forum.models import Topic
from tests.forum.factories import UserFactory
from tests.helpers import html_element_around, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_request_renders(settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0  # the rows' own cache is what is tested


def _row(html: str, title: str) -> str:
    return html_element_around(html, title, "tr")


def test_each_reader_sees_their_own_badge_on_a_shared_row(client, public_category, requester, volunteer):
    topic = services.topic_create(actor=requester, category=public_category, title="Synthetic shared row",
                                  raw="Synthetic text.")
    for n in range(3):
        services.post_create(actor=volunteer, topic_id=topic.pk, raw=f"Synthetic reply {n}.")
    anonymous = _row(client.get("/latest/").content.decode(), "Synthetic shared row")
    assert "badge-new" not in anonymous and "badge-unread" not in anonymous

    reader = UserFactory()
    sign_in(client, reader)
    assert "badge-new" in _row(client.get("/latest/").content.decode(), "Synthetic shared row")
    services.topic_mark_read(user=reader, topic=Topic.objects.get(pk=topic.pk), number=2)
    row = _row(client.get("/latest/").content.decode(), "Synthetic shared row")
    assert re.search(r'class="badge badge-unread" href="/t/\d+/unread/">2 new</a>', row), row
    services.topic_mark_read(user=reader, topic=Topic.objects.get(pk=topic.pk), number=4)
    row = _row(client.get("/latest/").content.decode(), "Synthetic shared row")
    assert "badge-new" not in row and "badge-unread" not in row

    client.logout()  # the row the signed-in reader's request left in the cache carries no badge of theirs
    row = _row(client.get("/latest/").content.decode(), "Synthetic shared row")
    assert "badge-new" not in row and "badge-unread" not in row and "<!--reader-->" not in row


def test_a_row_shows_a_change_at_once(client, public_category, requester, volunteer):
    topic = services.topic_create(actor=requester, category=public_category, title="Synthetic changing row",
                                  raw="Synthetic text.", tags=["imaging"])
    before = _row(client.get("/latest/").content.decode(), "Synthetic changing row")
    assert '<td class="num">0</td>' in before

    services.post_create(actor=volunteer, topic_id=topic.pk, raw="Synthetic reply.")
    assert '<td class="num">1</td>' in _row(client.get("/latest/").content.decode(), "Synthetic changing row")

    # Saved as they are, then the generations bumped as the services and the admin that rename do: the
    # kept list is read again, and the row's own key must change for the new name to show.
    requester.display_name = "Synthetic Renamed Author"
    requester.save()
    pagecache.invalidate()
    assert "Synthetic Renamed Author" in _row(client.get("/latest/").content.decode(), "Synthetic changing row")

    public_category.name = "Synthetic renamed category"
    public_category.save()
    pagecache.invalidate()
    assert "Synthetic renamed category" in _row(client.get("/latest/").content.decode(), "Synthetic changing row")

    topic.tags.set(["segmentation"])
    pagecache.invalidate()
    row = _row(client.get("/latest/").content.decode(), "Synthetic changing row")
    assert "segmentation" in row and ">imaging<" not in row
