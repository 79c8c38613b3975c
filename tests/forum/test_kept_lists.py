"""List pages kept per audience (forum/selectors/lists.py): every reader's page is exactly the page
read for them alone, whatever their own topics, roles and mutes, and a change shows at once."""
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.utils import timezone

from forum import selectors, services
from forum.models import NotificationLevel, Topic
from forum.pagination import bounded_page
from forum.permissions import Role
from forum.selectors import lists
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

PER_PAGE = 3


@pytest.fixture
def site(public_category, private_category, moderator):
    """Public topics of several authors, some pinned, liked or answered, and each author's own
    topics that others do not see: hidden for review, and in the private channel."""
    authors = [UserFactory(roles=[Role.REQUESTER]) for _ in range(3)]
    other = CategoryFactory(slug="synthetic-other", name="Synthetic other")
    now = timezone.now()
    for n in range(14):
        topic = TopicFactory(category=(public_category, other)[n % 2], author=authors[n % 3],
                             title=f"Synthetic kept topic {n}")
        services.topic_set_tags(actor=moderator, topic_id=topic.pk, tags=["imaging"] if n % 3 else ["genomics"])
        Topic.objects.filter(pk=topic.pk).update(
            last_posted_at=now - timedelta(minutes=(n * 7) % 13), like_count=n % 4, post_count=1 + n % 2,
        )
    services.topic_set_pinned(actor=moderator, topic_id=Topic.objects.order_by("pk")[5].pk, pinned=True)
    services.topic_set_pinned(actor=moderator, topic_id=Topic.objects.order_by("pk")[8].pk, pinned=True,
                              globally=True)
    for n, author in enumerate(authors[:2]):
        TopicFactory(category=private_category, author=author, title=f"Synthetic own private topic {n}")
        hidden = TopicFactory(category=public_category, author=author, title=f"Synthetic own hidden topic {n}")
        Topic.objects.filter(pk=hidden.pk).update(hidden_at=now, last_posted_at=now - timedelta(minutes=n * 5))
    services.notification_level_set(user=authors[2], level=NotificationLevel.MUTED, category=other)
    return authors, other


def _filters(public_category, other):
    imaging = selectors.tag_find(user=AnonymousUser(), slug="imaging")
    return [
        {}, {"order": "top"}, {"order": "unanswered"}, {"category": public_category},
        {"category": other}, {"tag": imaging}, {"order": "top", "tag": imaging},
    ]


def _titles(page):
    return [topic.title for topic in page.object_list]


def _same_as_alone(user, filters, pages=(1, 2, 3, 4, 5, 9)):
    for number in pages:
        kept = lists.topic_list_page(user=user, number=number, per_page=PER_PAGE, **filters)
        alone = bounded_page(selectors.topic_list(user=user, **filters), PER_PAGE, number)
        where = (getattr(user, "username", "anonymous"), filters, number)
        assert _titles(kept) == _titles(alone), where
        assert kept.number == alone.number, where
        assert kept.paginator.num_pages == alone.paginator.num_pages, where
        assert [getattr(t, "read_number", None) for t in kept] == [getattr(t, "read_number", None) for t in alone]


@pytest.mark.parametrize("who", ["anonymous", "volunteer", "own topics", "mutes", "moderator"])
def test_every_kept_page_is_the_page_read_alone(site, who, public_category, volunteer, moderator):
    authors, other = site
    user = {"anonymous": AnonymousUser(), "volunteer": volunteer, "own topics": authors[0],
            "mutes": authors[2], "moderator": moderator}[who]
    if who == "own topics":
        services.topic_mark_read(user=user, topic=Topic.objects.filter(author=authors[1]).first(), number=1)
    for filters in _filters(public_category, other):
        _same_as_alone(user, filters)
        _same_as_alone(user, filters)  # again, from the cache


def test_own_topics_merge_into_a_shared_page_in_order(site, public_category, volunteer, monkeypatch):
    authors, other = site
    _same_as_alone(volunteer, {})  # the audience's pages are kept first, by somebody else
    for filters in _filters(public_category, other):
        _same_as_alone(authors[1], filters)
    own = lists.topic_list_page(user=authors[1], number=1, per_page=30)
    shared = lists.topic_list_page(user=volunteer, number=1, per_page=30)
    assert "Synthetic own private topic 1" in _titles(own) and "Synthetic own hidden topic 1" in _titles(own)
    assert not {"Synthetic own private topic 1", "Synthetic own hidden topic 1"} & set(_titles(shared))

    monkeypatch.setattr(lists, "OWN_MERGED", 1)  # more own topics than merged in: read alone, still right
    _same_as_alone(authors[1], {}, pages=(1, 2, 5))


def test_a_mute_leaves_the_next_site_wide_page_at_once(client, site, public_category, volunteer):
    sign_in(client, volunteer)
    assert "Synthetic kept topic 0" in client.get("/latest/").content.decode()
    topic = Topic.objects.get(title="Synthetic kept topic 0")
    services.notification_level_set(user=volunteer, level=NotificationLevel.MUTED, topic=topic)
    assert "Synthetic kept topic 0" not in client.get("/latest/").content.decode()
    assert "Synthetic kept topic 0" in client.get(public_category.get_absolute_url()).content.decode()
    services.notification_level_set(user=volunteer, level=NotificationLevel.NORMAL, topic=topic)
    assert "Synthetic kept topic 0" in client.get("/latest/").content.decode()


def test_a_new_reply_or_topic_shows_on_the_next_kept_page(client, site, public_category, volunteer, requester):
    sign_in(client, volunteer)
    client.get("/latest/")
    topic = TopicFactory(category=public_category, author=requester, title="Synthetic fresh topic")
    assert "Synthetic fresh topic" in client.get("/latest/").content.decode()
    services.post_create(actor=requester, topic_id=Topic.objects.get(title="Synthetic kept topic 13").pk,
                         raw="Synthetic reply.")
    page = client.get("/latest/").content.decode()
    assert page.index("Synthetic kept topic 13") < page.index("Synthetic fresh topic")
    assert topic.pk


def test_a_kept_page_costs_one_query_beyond_the_person(client, site, volunteer, django_assert_max_num_queries,
                                                        settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    sign_in(client, volunteer)
    client.get("/latest/")
    with django_assert_max_num_queries(3):  # the session's person, their read positions, (none else)
        assert client.get("/latest/").status_code == 200



def test_a_page_kept_by_a_person_never_holds_their_own_unseen_topics(site, private_category, volunteer, monkeypatch):
    """Even when what was kept of them is stale (their topic committed while their page was read),
    the page they keep for their audience leaves their own topics out."""
    authors, _other = site
    writer = UserFactory(roles=[Role.REQUESTER])
    monkeypatch.setattr(lists, "own_list_differences", lambda user: (False, False))
    TopicFactory(category=private_category, author=writer, title="Synthetic racing private topic")
    assert "Synthetic racing private topic" not in _titles(lists.topic_list_page(user=writer, number=1, per_page=30))
    assert "Synthetic racing private topic" not in _titles(lists.topic_list_page(user=volunteer, number=1, per_page=30))


def test_a_tag_only_on_a_persons_own_private_topic_is_theirs_alone(client, private_category, requester, volunteer,
                                                                    moderator):
    topic = TopicFactory(category=private_category, author=requester, title="Synthetic tagged private topic")
    services.topic_set_tags(actor=moderator, topic_id=topic.pk, tags=["synthetic-own-tag"])
    for _ in range(2):  # and again, from the cache
        assert selectors.tag_find(user=volunteer, slug="synthetic-own-tag") is None
        assert selectors.tag_find(user=AnonymousUser(), slug="synthetic-own-tag") is None
        assert selectors.tag_find(user=requester, slug="synthetic-own-tag").slug == "synthetic-own-tag"
        assert selectors.tag_find(user=moderator, slug="synthetic-own-tag").slug == "synthetic-own-tag"
    sign_in(client, volunteer)
    assert client.get("/tag/synthetic-own-tag/").status_code == 404
    sign_in(client, requester)
    assert "Synthetic tagged private topic" in client.get("/tag/synthetic-own-tag/").content.decode()


def test_a_chosen_level_shows_on_the_next_category_page(client, public_category, volunteer):
    sign_in(client, volunteer)
    assert client.get(public_category.get_absolute_url()).context["notification_level"] is None
    services.notification_level_set(user=volunteer, level=NotificationLevel.WATCHING, category=public_category)
    assert client.get(public_category.get_absolute_url()).context["notification_level"] == NotificationLevel.WATCHING


def test_many_own_topics_merge_on_every_page(site, private_category, public_category, monkeypatch):
    """More of their own topics than fit a page: the first page merges them, later pages merge or
    are read alone, and every page is the one read alone."""
    authors, other = site
    for n in range(8):
        TopicFactory(category=private_category, author=authors[1], title=f"Synthetic many own {n}")
    for merged in (30, 2):
        monkeypatch.setattr(lists, "OWN_MERGED", merged)
        for filters in ({}, {"order": "top"}, {"category": private_category}):
            _same_as_alone(authors[1], filters, pages=(1, 2, 3, 4, 5, 6, 7))


def test_rendered_rows_are_rendered_again_each_minute(client, site, volunteer, monkeypatch):
    """The rows say "5 minutes ago": kept rendered for a minute at most."""
    from forum.templatetags import topic_rows

    rendered = []
    real = topic_rows.rows_html
    monkeypatch.setattr(topic_rows, "rows_html", lambda *args: rendered.append(1) or real(*args))
    clock = [time.time()]
    monkeypatch.setattr(lists.time, "time", lambda: clock[0])
    for _ in range(2):
        lists.topic_list_page(user=volunteer, number=1, per_page=PER_PAGE)
    assert len(rendered) == 1
    clock[0] += 61
    lists.topic_list_page(user=volunteer, number=1, per_page=PER_PAGE)
    assert len(rendered) == 2


@pytest.mark.parametrize("tab", ["topics", "replies", "likes"])
def test_every_kept_profile_page_is_the_page_read_alone(site, tab, volunteer, moderator):
    authors, _other = site
    for topic in Topic.objects.filter(author=authors[1], hidden_at__isnull=True, category__security="public"):
        services.post_create(actor=authors[0], topic_id=topic.pk, raw="Synthetic reply by the profile's person.")
        services.post_like(actor=authors[0], post_id=topic.posts.get(number=1).pk)
    lister = selectors.people.PROFILE_LISTS[tab]
    for reader in (AnonymousUser(), volunteer, authors[0], authors[1], moderator):
        count = len(lister(user=reader, profile_user=authors[0]))
        for number in (1, 2, 3, "last", "x"):
            alone = Paginator(lister(user=reader, profile_user=authors[0]), PER_PAGE).get_page(number)
            for _ in range(2):  # read, then from the cache
                kept = selectors.profile_page(user=reader, profile_user=authors[0], tab=tab, number=number,
                                              per_page=PER_PAGE, count=count)
                assert [item.pk for item in kept] == [item.pk for item in alone], (reader, number)
                assert kept.number == alone.number


def test_a_new_topic_shows_on_the_next_kept_profile_page(client, site, public_category, volunteer):
    authors, _other = site
    sign_in(client, volunteer)
    assert "Synthetic profile topic" not in client.get(f"/u/{authors[0].username}/").content.decode()
    TopicFactory(category=public_category, author=authors[0], title="Synthetic profile topic")
    assert "Synthetic profile topic" in client.get(f"/u/{authors[0].username}/").content.decode()


def test_a_kept_profile_holds_only_what_the_page_shows(client, site, volunteer):
    authors, _other = site
    for _ in range(2):  # read, then from the cache
        person = selectors.profile_get(username=authors[0].username)
        assert {"password", "email", "last_login", "trust_level", "suspended_until"} <= person.get_deferred_fields()
    sign_in(client, volunteer)
    assert authors[0].name in client.get(f"/u/{authors[0].username}/").content.decode()
