"""Atom and RSS feeds: valid XML, public topics only, filtered by category and tag, fixed queries."""
import xml.etree.ElementTree as ET

import pytest

from forum import services
from forum.models import Post
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def atom_entries(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def atom_titles(response):
    return [entry.findtext(f"{ATOM}title") for entry in atom_entries(response)]


def rss_items(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss"
    return root.findall("channel/item")


def test_latest_atom_lists_public_topics_newest_first(client, public_category, requester):
    TopicFactory(category=public_category, author=requester, title="Older request")
    TopicFactory(category=public_category, author=requester, title="Newer request")

    assert atom_titles(client.get("/latest.atom")) == ["Newer request", "Older request"]


def test_atom_entry_carries_first_post_author_tags_and_link(client, public_category, requester):
    topic = services.topic_create(actor=requester, category=public_category, title="Tagged request",
                                  raw="**Bold** synthetic text.", tags=["genomics", "imaging"])

    [entry] = atom_entries(client.get("/latest.atom"))

    assert entry.find(f"{ATOM}link").get("href").endswith(topic.get_absolute_url())
    assert "<strong>Bold</strong>" in entry.findtext(f"{ATOM}summary")
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == requester.name
    assert {c.get("term") for c in entry.findall(f"{ATOM}category")} == {"genomics", "imaging"}
    assert entry.findtext(f"{ATOM}published")


def test_latest_rss_is_valid_and_describes_items(client, public_topic):
    [item] = rss_items(client.get("/latest.rss"))

    assert item.findtext("title") == public_topic.title
    assert item.findtext("link").endswith(public_topic.get_absolute_url())
    assert item.findtext("description") == Post.objects.get(topic=public_topic, number=1).html
    assert item.findtext("pubDate")


@pytest.mark.parametrize("signed_in", [False, True])
def test_feeds_never_show_private_topics(client, public_topic, private_topic, moderator, signed_in):
    if signed_in:
        sign_in(client, moderator)  # even people who may read them get the public feed

    assert atom_titles(client.get("/latest.atom")) == [public_topic.title]
    assert [i.findtext("title") for i in rss_items(client.get("/latest.rss"))] == [public_topic.title]


@pytest.mark.parametrize("url", ["/c/anonymization/feed.atom", "/c/anonymization/feed.rss", "/c/missing/feed.atom"])
def test_private_or_missing_category_feed_is_404(client, private_topic, moderator, url):
    sign_in(client, moderator)

    assert client.get(url).status_code == 404


def test_deleted_topics_leave_the_feed(client, public_category, requester):
    kept = TopicFactory(category=public_category, author=requester, title="Kept request")
    gone = TopicFactory(category=public_category, author=requester, title="Deleted request")
    services.post_delete(actor=requester, post_id=Post.objects.get(topic=gone, number=1).pk)

    assert atom_titles(client.get("/latest.atom")) == [kept.title]


def test_category_feed_includes_subcategories_only(client, public_category, requester):
    child = CategoryFactory(slug="child-requests", parent=public_category)
    other = CategoryFactory(slug="other-requests")
    TopicFactory(category=public_category, author=requester, title="In parent")
    TopicFactory(category=child, author=requester, title="In child")
    TopicFactory(category=other, author=requester, title="Elsewhere")

    assert set(atom_titles(client.get(f"/c/{public_category.slug}/feed.atom"))) == {"In parent", "In child"}
    assert [i.findtext("title") for i in rss_items(client.get("/c/child-requests/feed.rss"))] == ["In child"]


def test_tag_feed_filters_by_tag_and_hides_private_topics(client, public_category, private_category, requester):
    services.topic_create(actor=requester, category=public_category, title="Genomics", raw="x", tags=["genomics"])
    services.topic_create(actor=requester, category=public_category, title="Imaging", raw="x", tags=["imaging"])
    services.topic_create(actor=requester, category=private_category, title="Private genomics", raw="x",
                          tags=["genomics"])

    assert atom_titles(client.get("/tag/genomics/feed.atom")) == ["Genomics"]
    assert [i.findtext("title") for i in rss_items(client.get("/tag/genomics/feed.rss"))] == ["Genomics"]
    assert client.get("/tag/no-such-tag/feed.atom").status_code == 404


def test_feed_links_from_category_and_tag_pages(client, public_category, requester):
    services.topic_create(actor=requester, category=public_category, title="Genomics", raw="x", tags=["genomics"])

    assert f'href="/c/{public_category.slug}/feed.atom"' in client.get(f"/c/{public_category.slug}/").content.decode()
    assert 'href="/tag/genomics/feed.atom"' in client.get("/tag/genomics/").content.decode()


def test_feeds_are_cacheable_for_anonymous_visitors(client, public_topic):
    client.get("/latest.atom")

    assert client.get("/latest.atom")["X-Cache"] == "hit"


@pytest.fixture
def busy_forum(public_category):
    """More topics than a feed holds, by several people, with tags, so an N+1 query would show."""
    authors = [UserFactory() for _ in range(5)]
    child = CategoryFactory(slug="child-requests", parent=public_category)
    for n in range(35):
        services.topic_create(actor=authors[n % 5], category=(public_category, child)[n % 2],
                              title=f"Synthetic request {n}", raw=f"Request *{n}*.", tags=["genomics", f"t{n}"])


# Topics, their tags, their first posts, the licenses of the requests among them and which of those
# are held (requests_board.forum_hooks.topic_licenses); category feeds add the category and its subcategories.
FEED_QUERIES = {"/latest.atom": 5, "/latest.rss": 5, "/c/data-requests/feed.atom": 7,
                "/c/data-requests/feed.rss": 7, "/tag/genomics/feed.atom": 6, "/tag/genomics/feed.rss": 6}


@pytest.mark.parametrize("url", sorted(FEED_QUERIES))
def test_feeds_run_a_fixed_number_of_queries_and_hold_30_items(client, busy_forum, url,
                                                              django_assert_max_num_queries):
    with django_assert_max_num_queries(FEED_QUERIES[url]):
        response = client.get(url)

    ET.fromstring(response.content)
    assert response.content.decode().count("<entry>" if url.endswith(".atom") else "<item>") == 30
