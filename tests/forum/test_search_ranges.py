"""PostgreSQL's search over a large site: the newest posts are searched first, then older ranges
for what is missing, within a time limit that never outlives its query (forum/search.py)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from forum.models import Post
from forum.search import _run_within, search_posts
from tests.forum.factories import TopicFactory

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()


def _zebus(category, author) -> list:
    """Four matching topics, each followed by one that does not match."""
    matching = []
    for n in range(4):
        matching.append(TopicFactory(category=category, author=author, title=f"Zebu {n}", raw="A zebu."))
        TopicFactory(category=category, author=author, title=f"Other {n}", raw="Nothing here.")
    return matching


def test_newest_matches_are_found_past_the_recent_posts(needs_postgresql, public_category, requester, monkeypatch,
                                                         settings):
    """The newest posts are searched first, then the older ones for what is missing. Within a
    caller's transaction (as here) there is no time limit, so nothing is cut short."""
    monkeypatch.setattr("forum.search.MAX_CANDIDATES", 3)
    monkeypatch.setattr("forum.search.RECENT_POSTS", 2)
    monkeypatch.setattr("forum.search.OLDER_POSTS", 2)
    settings.SEARCH_TIME_LIMIT_MS = 0
    matching = _zebus(public_category, requester)

    page = search_posts(user=ANONYMOUS, query="zebu")

    assert (page.total, page.more, page.partial) == (3, True, False)
    assert {r.post.topic_id for r in page.results} == {topic.pk for topic in matching[1:]}
    monkeypatch.setattr("forum.search.MAX_CANDIDATES", 10)
    page = search_posts(user=ANONYMOUS, query="zebu")
    assert (page.total, page.more, page.partial) == (4, False, False)


@pytest.mark.django_db(transaction=True)
def test_a_search_out_of_time_says_how_far_back_it_searched(needs_postgresql, public_category, requester,
                                                            monkeypatch, settings):
    """In autocommit, as a page runs it."""
    monkeypatch.setattr("forum.search.RECENT_POSTS", 2)
    matching = _zebus(public_category, requester)
    settings.SEARCH_TIME_LIMIT_MS = 0  # no time for more than the newest posts

    page = search_posts(user=ANONYMOUS, query="zebu")

    assert (page.partial, page.searched, page.more, page.total) == (True, 2, False, 1)
    assert [r.post.topic_id for r in page.results] == [matching[-1].pk]
    settings.SEARCH_TIME_LIMIT_MS = 60_000
    page = search_posts(user=ANONYMOUS, query="zebu")
    assert (page.partial, page.total) == (False, 4)


@pytest.mark.django_db(transaction=True)
def test_the_search_page_says_when_it_ran_out_of_time(needs_postgresql, client, public_category, requester,
                                                      monkeypatch, settings):
    monkeypatch.setattr("forum.search.RECENT_POSTS", 1)
    settings.SEARCH_TIME_LIMIT_MS = 0
    _zebus(public_category, requester)

    content = client.get("/search/", {"q": "zebu"}).content.decode()

    assert "only roughly the newest post was searched" in content
    monkeypatch.setattr("forum.search.RECENT_POSTS", 3)
    assert "only roughly the newest 3 posts were searched" in client.get("/search/", {"q": "zebu"}).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_query_past_its_time_is_cancelled_and_the_setting_put_back(needs_postgresql):
    """In autocommit, as a search page runs: a timeout firing as the cancelled query ends can cancel
    the next statement too (seen under load), which must not leave the limit on the connection."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    for milliseconds in range(5, 30):
        found = []
        assert not _run_within(milliseconds, Post.objects.raw("SELECT 1 AS id FROM pg_sleep(0.1)"), found)
        assert found == []
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == before
    found = []
    assert _run_within(2000, Post.objects.raw("SELECT 1 AS id FROM pg_sleep(0.001)"), found)
    assert [post.pk for post in found] == [1]
