"""Public pages: content, fixed query counts, and nothing loaded from other hosts."""
import re

import pytest
from django.utils import timezone

from forum import services
from forum.models import Notification
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def _grow(categories, authors, count, start=0):
    """Topics with tags, a reply and a like each: everything a list row shows."""
    for n in range(start, start + count):
        topic = services.topic_create(
            actor=authors[n % len(authors)], category=categories[n % len(categories)],
            title=f"Synthetic request {n}", tags=["imaging", f"batch-{n % 3}"],
            raw=f"**Request {n}** with [a link](https://example.org/{n}) for @{authors[0].username}.",
        )
        reply = services.post_create(actor=authors[(n + 1) % len(authors)], topic_id=topic.pk, raw="A reply.")
        services.post_like(actor=authors[n % len(authors)], post_id=reply.pk)
        services.bookmark_set(actor=authors[1], post_id=reply.pk, note="synthetic")


@pytest.fixture
def busy_forum(public_category, private_category, requester):
    """Enough categories, people and topics that an N+1 query would show."""
    authors = [UserFactory() for _ in range(6)]
    categories = [public_category] + [CategoryFactory() for _ in range(5)]
    CategoryFactory(parent=public_category)
    _grow(categories, authors, 36)
    TopicFactory(category=private_category, author=requester, title="Private synthetic request")
    return categories, authors


def pages(busy_forum, requester):
    categories, authors = busy_forum
    topic = categories[0].topics.first()
    profile = authors[0].get_absolute_url()
    return {
        "home": "/",
        "latest": "/latest/",
        "top": "/top/?period=week",
        "unanswered": "/unanswered/",
        "category": categories[0].get_absolute_url(),
        "tag": "/tag/imaging/",
        "topic": topic.get_absolute_url(),
        "profile": profile,
        "profile-replies": profile + "?tab=replies",
        "profile-likes": profile + "?tab=likes",
        "faq": "/faq/",
    }


# Queries per page on a busy forum, whatever its size. Signed in adds the session,
# the user, the user's and groups' permissions and moderated categories (read once
# per request), and per page the person's read state, likes and bookmarks.
# The home page counts topics per category once per write (forum/selectors/counts.py): from an empty
# cache, one query more. Hooks (forum/hooks.py) add queries to a topic (is it a data request? is anything on it held?)
# and one to a profile (results delivered).
QUERIES_ANONYMOUS = {
    "home": 4, "latest": 3, "top": 3, "unanswered": 3, "category": 5, "tag": 4, "topic": 6,
    "profile": 11, "profile-replies": 10, "profile-likes": 10, "faq": 1,
}
SIGNED_IN_EXTRA = 6  # + the bell's unread count (forum.context_processors.notifications)
SIGNED_IN_PAGE_EXTRA = {"category": 1, "tag": 1, "topic": 8}  # topic: + notifications about it marked read
SIGNED_IN_ONLY = {"new": ("/new/", 3), "bookmarks": ("/my/bookmarks/", 2)}


def _count_queries(client, url):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # the same cold start for every page, before and after
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context)


@pytest.mark.parametrize("page", sorted(QUERIES_ANONYMOUS))
def test_pages_run_a_fixed_number_of_queries_anonymous(client, busy_forum, requester, page,
                                                       django_assert_max_num_queries):
    url = pages(busy_forum, requester)[page]
    with django_assert_max_num_queries(QUERIES_ANONYMOUS[page]):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("page", sorted(QUERIES_ANONYMOUS))
def test_pages_run_a_fixed_number_of_queries_signed_in(client, busy_forum, requester, page,
                                                       django_assert_max_num_queries):
    sign_in(client, busy_forum[1][1])
    client.get("/faq/")  # warm the terms cache, as on a running site
    url = pages(busy_forum, requester)[page]
    expected = QUERIES_ANONYMOUS[page] + SIGNED_IN_EXTRA + SIGNED_IN_PAGE_EXTRA.get(page, 0)
    with django_assert_max_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("page", sorted(SIGNED_IN_ONLY))
def test_personal_lists_run_a_fixed_number_of_queries(client, busy_forum, page, django_assert_max_num_queries):
    sign_in(client, busy_forum[1][1])
    client.get("/faq/")
    url, extra = SIGNED_IN_ONLY[page]
    with django_assert_max_num_queries(SIGNED_IN_EXTRA + extra):
        response = client.get(url)
    assert response.status_code == 200


def test_query_counts_do_not_grow_with_the_data(client, busy_forum, requester):
    """The same pages after the forum doubled: not one query more (an N+1 would show here)."""
    urls = list(pages(busy_forum, requester).values()) + ["/new/", "/my/bookmarks/"]
    reader = busy_forum[1][1]
    sign_in(client, reader)
    client.get("/faq/")
    Notification.objects.filter(user=reader).update(read_at=timezone.now())  # see below
    before = {url: _count_queries(client, url) for url in urls}
    categories, authors = busy_forum
    _grow(categories, authors + [UserFactory() for _ in range(4)], 40, start=100)
    # The growth told the reader about new posts; the topic page would mark those about it read
    # (one write more, whatever the size): they are read first, before and after.
    Notification.objects.filter(user=reader).update(read_at=timezone.now())
    after = {url: _count_queries(client, url) for url in urls}
    assert after == before


def test_home_shows_counts_and_explains_roles(client, busy_forum):
    content = client.get("/").content.decode()
    assert "Clinicians and life scientists" in content
    assert "Volunteer data scientists" in content
    assert "My data might identify a patient. What happens?" in content
    # 6 topics of its own and none yet in its subcategory
    assert re.search(r'Data requests</a>.*?<td class="num">6</td>', content, re.S)


def test_topic_page_shows_rendered_post_and_redirects_wrong_slug(client, public_topic):
    response = client.get(public_topic.get_absolute_url())
    assert "Synthetic data only." in response.content.decode()
    wrong = client.get(f"/t/wrong-slug/{public_topic.pk}/")
    assert wrong.status_code == 301
    assert wrong["Location"] == public_topic.get_absolute_url()


@pytest.mark.parametrize("url", ["/terms/", "/guidelines/", "/faq/", "/licenses/"])
def test_footer_pages_exist(client, db, url):
    response = client.get(url)
    assert response.status_code == 200
    assert 'href="/terms/"' in response.content.decode()


def test_no_page_loads_anything_from_another_host(client, busy_forum, requester):
    urls = list(pages(busy_forum, requester).values()) + ["/accounts/login/", "/accounts/signup/"]
    for url in urls:
        response = client.get(url)
        content = response.content.decode()
        external = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', content)
        assert external == [], url
        assert "default-src 'self'" in response["Content-Security-Policy"]


def test_security_headers(client, db):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_healthz(client, db):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_every_form_control_has_a_label(client, db):
    for url in ("/accounts/signup/", "/accounts/login/", "/accounts/password/reset/"):
        content = client.get(url).content.decode()
        for control_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', content):
            if re.search(rf'<input(?=[^>]*\bid="{control_id}")(?=[^>]*type="hidden")', content):
                continue
            assert f'for="{control_id}"' in content, (url, control_id)


def test_pages_mark_language_and_have_skip_link(client, db):
    content = client.get("/").content.decode()
    assert '<html lang="en">' in content
    assert 'href="#main"' in content


def test_home_adds_subcategory_topics_to_their_parent(client, public_category, volunteer):
    child = CategoryFactory(parent=public_category, name="Chest CT", slug="chest-ct")
    services.topic_create(actor=volunteer, category=public_category, title="In the parent", raw="x")
    for n in range(2):
        services.topic_create(actor=volunteer, category=child, title=f"In the child {n}", raw="x")
    content = client.get("/").content.decode()
    assert re.search(r'Data requests</a>.*?Chest CT</a>.*?<td class="num">3</td>', content, re.S)
    category_page = client.get(public_category.get_absolute_url()).content.decode()
    assert "In the child 0" in category_page and "In the parent" in category_page
