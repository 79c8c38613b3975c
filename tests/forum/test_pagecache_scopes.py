"""A write makes stale only the anonymous pages it affects: a reply or a like its topic's pages and
the lists (every page that is not a topic's), never another topic's; anything else, and everything
that hides, moves or renames, every page. Real pages, real services, commits included."""
import pytest
from django.core.cache import cache

from forum import services
from forum.pagecache import TOPIC_PATH
from tests.forum.factories import TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

REPLY = "A synthetic reply: the median incubation is 5.1 days."


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 300
    cache.clear()


def is_hit(response) -> bool:
    return response.get("X-Cache") == "hit"


@pytest.fixture
def world(public_category, requester):
    writer = UserFactory(trust_level=2)
    topic_a = TopicFactory(category=public_category, author=requester, title="Synthetic topic about incubation")
    topic_b = TopicFactory(category=public_category, author=requester, title="Synthetic topic about dosage")
    pages = {
        "a": topic_a.get_absolute_url(), "b": topic_b.get_absolute_url(), "latest": "/latest/", "home": "/",
        "category": public_category.get_absolute_url(), "writer": f"/u/{writer.username}/",
    }
    return {"writer": writer, "a": topic_a, "b": topic_b, "pages": pages}


def _warm(client, pages) -> None:
    for url in pages.values():
        assert client.get(url).status_code == 200
    assert all(is_hit(client.get(url)) for url in pages.values())


def _stale(client, pages) -> set[str]:
    return {name for name, url in pages.items() if not is_hit(client.get(url))}


def test_the_topic_scope_is_read_from_the_topic_pages_address(world):
    assert TOPIC_PATH.match(world["pages"]["a"])[1] == str(world["a"].pk)
    assert not any(TOPIC_PATH.match(world["pages"][name]) for name in ("latest", "home", "category", "writer"))


def test_a_reply_makes_its_topic_and_the_lists_stale_and_leaves_other_topics_warm(
        client, world, django_capture_on_commit_callbacks):
    pages = world["pages"]
    _warm(client, pages)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(actor=world["writer"], topic_id=world["a"].pk, raw=REPLY)
    assert _stale(client, pages) == {"a", "latest", "home", "category", "writer"}
    assert REPLY in client.get(pages["a"]).content.decode()


def test_a_like_makes_its_topic_and_the_lists_stale_and_leaves_other_topics_warm(
        client, world, django_capture_on_commit_callbacks):
    pages = world["pages"]
    first_post = world["a"].first_post
    _warm(client, pages)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_like(actor=world["writer"], post_id=first_post.pk)
    assert _stale(client, pages) == {"a", "latest", "home", "category", "writer"}
    _warm(client, pages)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_unlike(actor=world["writer"], post_id=first_post.pk)
    assert "b" not in _stale(client, pages)


def test_a_new_topic_makes_the_lists_stale_and_leaves_topics_warm(
        client, world, public_category, django_capture_on_commit_callbacks):
    pages = world["pages"]
    _warm(client, pages)
    with django_capture_on_commit_callbacks(execute=True):
        TopicFactory(category=public_category, author=world["writer"], title="Synthetic topic about cohorts")
    assert _stale(client, pages) == {"latest", "home", "category", "writer"}


def test_closing_a_topic_hiding_or_moving_anything_makes_every_page_stale(
        client, world, moderator, django_capture_on_commit_callbacks):
    """Writes that change what may be shown keep the site-wide bump: a page of another topic may
    show the changed thing (a name, a category), and a missed page must never show hidden text."""
    pages = world["pages"]
    _warm(client, pages)
    with django_capture_on_commit_callbacks(execute=True):
        services.topic_set_closed(actor=moderator, topic_id=world["a"].pk, closed=True)
    assert _stale(client, pages) == set(pages)


def test_a_page_rendered_while_a_reply_commits_is_stale_once_it_has(
        client, world, django_capture_on_commit_callbacks):
    pages = world["pages"]
    _warm(client, pages)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(actor=world["writer"], topic_id=world["a"].pk, raw=REPLY)
        # Another request renders topic A from the data before the commit and stores it.
        client.get(pages["a"])
        assert is_hit(client.get(pages["a"]))
    assert not is_hit(client.get(pages["a"]))


def test_a_lost_topic_generation_never_revives_its_stored_pages(client, world):
    pages = world["pages"]
    _warm(client, pages)
    cache.delete(f"pagecache:generation:topic:{world['a'].pk}")
    assert not is_hit(client.get(pages["a"]))
    assert is_hit(client.get(pages["a"]))
    assert is_hit(client.get(pages["b"]))
