"""Public pages: content, fixed query counts, and nothing loaded from other hosts."""
import re

import pytest

from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_forum(public_category, private_category, requester):
    """Enough categories, people and topics that an N+1 query would show."""
    authors = [UserFactory() for _ in range(6)]
    categories = [public_category] + [CategoryFactory() for _ in range(5)]
    for n in range(36):
        TopicFactory(category=categories[n % 6], author=authors[n % 6], title=f"Synthetic request {n}",
                     raw=f"**Request {n}** with [a link](https://example.org/{n}).")
    TopicFactory(category=private_category, author=requester, title="Private synthetic request")
    return categories


def pages(busy_forum, requester):
    topic = busy_forum[0].topics.first()
    return {
        "home": "/",
        "category": busy_forum[0].get_absolute_url(),
        "topic": topic.get_absolute_url(),
        "profile": requester.get_absolute_url(),
        "faq": "/faq/",
    }


# Queries per page on a busy forum. Signed in adds 4: session, user, and the
# user's and groups' permissions (read once per request).
QUERIES_ANONYMOUS = {"home": 1, "category": 3, "topic": 2, "profile": 4, "faq": 0}
SIGNED_IN_EXTRA = 4


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
    sign_in(client, requester)
    client.get("/")  # warm the terms cache, as on a running site
    url = pages(busy_forum, requester)[page]
    with django_assert_max_num_queries(QUERIES_ANONYMOUS[page] + SIGNED_IN_EXTRA):
        response = client.get(url)
    assert response.status_code == 200


def test_home_shows_counts_and_explains_roles(client, busy_forum):
    content = client.get("/").content.decode()
    assert "Clinicians and life scientists" in content
    assert "Volunteer data scientists" in content
    assert "My data might identify a patient. What happens?" in content
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
            if re.search(rf'<input[^>]*id="{control_id}"[^>]*type="hidden"', content):
                continue
            assert f'for="{control_id}"' in content, (url, control_id)


def test_pages_mark_language_and_have_skip_link(client, db):
    content = client.get("/").content.decode()
    assert '<html lang="en">' in content
    assert 'href="#main"' in content
