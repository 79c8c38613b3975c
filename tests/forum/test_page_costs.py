"""What a page costs whatever the size of the site (issue 21): the same number of queries, at most 10,
at two data sizes, signed in and anonymous; and counts kept in the cache are never staler than the
writes that committed before the page was asked for."""
import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum import selectors, services
from forum.models import Category, Post, Topic
from forum.pagination import PAGES_AHEAD, BoundedPaginator
from forum.permissions import Role, can_moderate, topics_visible_to
from forum.permissions.access import access_for
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

MAX_QUERIES = 10
PAGES = ("home", "latest", "top", "unanswered", "category", "tag", "profile", "profile-replies", "profile-likes")


def _grow(categories, authors, count, start=0):
    for n in range(start, start + count):
        topic = services.topic_create(
            actor=authors[n % len(authors)], category=categories[n % len(categories)],
            title=f"Synthetic costed topic {n}", tags=["imaging", f"batch-{n % 3}"], raw=f"Synthetic text {n}.",
        )
        reply = services.post_create(actor=authors[(n + 1) % len(authors)], topic_id=topic.pk, raw="A reply.")
        services.post_like(actor=authors[n % len(authors)], post_id=reply.pk)


def _urls(categories, authors):
    profile = authors[0].get_absolute_url()
    return {
        "home": "/", "latest": "/latest/", "top": "/top/", "unanswered": "/unanswered/",
        "category": categories[0].get_absolute_url(), "tag": "/tag/imaging/", "profile": profile,
        "profile-replies": profile + "?tab=replies", "profile-likes": profile + "?tab=likes",
    }


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.fixture
def site(public_category):
    authors = [UserFactory(roles=[Role.VOLUNTEER]) for _ in range(4)]
    categories = [public_category, CategoryFactory(), CategoryFactory(parent=public_category)]
    _grow(categories, authors, 6)
    return categories, authors


@pytest.mark.parametrize("viewer", ["anonymous", "signed in"])
def test_every_list_page_runs_the_same_few_queries_at_two_sizes(client, site, viewer, settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0  # every request renders: the cost of a miss
    categories, authors = site
    if viewer == "signed in":
        sign_in(client, authors[1])
    client.get("/faq/")  # warm the terms cache, as on a running site
    urls = _urls(categories, authors)
    small = {}
    for page, url in urls.items():
        first = _queries(client, url)  # fills the cached counts
        small[page] = _queries(client, url)
        # A miss recomputes its few counts (a profile's four), the person's own differences and the
        # kept page (a profile's person with expertise and roles, three).
        assert first <= small[page] + 9, (page, first, small[page])
    _grow(categories, authors, 40, start=6)
    for page, url in urls.items():
        _queries(client, url)
        large = _queries(client, url)
        assert large == small[page], (page, small[page], large)
        assert large <= MAX_QUERIES, (page, large)


# --- Cached access ----------------------------------------------------------------

def test_a_role_granted_or_taken_counts_on_the_next_request(client, private_category):
    person = UserFactory()
    sign_in(client, person)
    topic = TopicFactory(category=private_category, author=UserFactory(), title="Synthetic private channel topic")
    assert client.get(topic.get_absolute_url()).status_code == 404
    group = Group.objects.create(name="Synthetic readers")
    private_category.groups.add(group)
    person.groups.add(group)
    assert client.get(topic.get_absolute_url()).status_code == 200
    person.groups.remove(group)
    assert client.get(topic.get_absolute_url()).status_code == 404
    group.user_set.add(person)  # from the group's side
    assert client.get(topic.get_absolute_url()).status_code == 200
    group.user_set.clear()
    assert client.get(topic.get_absolute_url()).status_code == 404


def test_category_moderators_and_group_links_count_on_the_next_request(client, private_category):
    person = UserFactory(totp=True)  # moderating a private category needs a second factor
    sign_in(client, person)
    topic = TopicFactory(category=private_category, author=UserFactory(), title="Synthetic private channel topic")
    assert client.get(topic.get_absolute_url()).status_code == 404
    private_category.moderators.add(person)
    assert client.get(topic.get_absolute_url()).status_code == 200
    private_category.moderators.clear()
    assert client.get(topic.get_absolute_url()).status_code == 404
    group = Group.objects.create(name="Synthetic readers")
    person.groups.add(group)
    assert client.get(topic.get_absolute_url()).status_code == 404
    group.categories.add(private_category)  # the category's groups, changed from the group's side
    assert client.get(topic.get_absolute_url()).status_code == 200
    group.delete()
    assert client.get(topic.get_absolute_url()).status_code == 404


def test_a_category_made_private_is_hidden_on_the_next_request(client, public_category, settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0  # the saved category bypasses the services that clear it
    topic = TopicFactory(category=public_category, author=UserFactory(), title="Synthetic soon private topic")
    assert client.get(topic.get_absolute_url()).status_code == 200
    public_category.security = Category.Security.PRIVATE
    public_category.save()
    assert client.get(topic.get_absolute_url()).status_code == 404
    reader = UserFactory()
    sign_in(client, reader)
    assert client.get(topic.get_absolute_url()).status_code == 404


def test_moderator_capability_given_directly_counts_on_the_next_request(client, public_category):
    from django.contrib.auth.models import Permission

    person = UserFactory(totp=True)
    topic = TopicFactory(category=public_category, author=UserFactory(), title="Synthetic deleted topic")
    Topic.objects.filter(pk=topic.pk).update(deleted_at=topic.created_at)
    sign_in(client, person)
    assert client.get(topic.get_absolute_url()).status_code == 404
    person.user_permissions.add(Permission.objects.get(codename="moderate", content_type__app_label="forum"))
    assert client.get(topic.get_absolute_url()).status_code == 200
    person.user_permissions.clear()
    assert client.get(topic.get_absolute_url()).status_code == 404


def test_access_is_read_from_the_cache_after_the_first_request(public_category):
    person = UserFactory(roles=[Role.VOLUNTEER])
    fresh = type(person).objects.get(pk=person.pk)
    first = access_for(fresh)
    again = type(person).objects.get(pk=person.pk)
    with CaptureQueriesContext(connection) as captured:
        assert access_for(again) == first
        assert again.has_perm("forum.claim_request")
    assert len(captured) == 0
    assert "Volunteers" in first.group_names
    assert public_category.pk in first.public_category_ids


def test_an_anonymous_object_kept_by_code_never_holds_stale_access(public_category):
    visitor = AnonymousUser()  # as a module-level constant would be
    assert public_category.pk in access_for(visitor).public_category_ids
    public_category.security = Category.Security.PRIVATE
    public_category.save()
    assert public_category.pk not in access_for(visitor).public_category_ids


# --- Cached counts ----------------------------------------------------------------

def _expected_counts(user):
    visible = topics_visible_to(user, Topic.objects.all())
    return {category.pk: visible.filter(category=category).count() for category in Category.objects.all()}


def _listed_counts(user):
    counts = {}
    for category in selectors.category_list(user=user):
        counts[category.pk] = category.own_topic_count
        for child in category.subcategories:
            counts[child.pk] = child.own_topic_count
    return counts


@pytest.mark.parametrize("role", ["anonymous", "member", "author", "category moderator", "moderator"])
def test_category_counts_match_the_visibility_rule_after_every_write(role, public_category, private_category,
                                                                     moderator, django_capture_on_commit_callbacks):
    author = UserFactory()
    person = {
        "anonymous": AnonymousUser(), "member": UserFactory(), "author": author,
        "category moderator": UserFactory(), "moderator": moderator,
    }[role]
    if role == "category moderator":
        public_category.moderators.add(person)
    child = CategoryFactory(parent=public_category)

    def check():
        viewer = AnonymousUser() if role == "anonymous" else type(person).objects.get(pk=person.pk)
        expected = _expected_counts(viewer)
        listed = _listed_counts(viewer)
        for pk, count in listed.items():
            assert count == expected[pk], (role, pk, listed, expected)

    with django_capture_on_commit_callbacks(execute=True):
        kept = services.topic_create(actor=author, category=public_category, title="Synthetic kept topic",
                                     raw="Synthetic text.")
        services.topic_create(actor=author, category=child, title="Synthetic child topic", raw="Synthetic text.")
        services.topic_create(actor=author, category=private_category, title="Synthetic private topic",
                              raw="Synthetic text.")
    check()
    with django_capture_on_commit_callbacks(execute=True):
        gone = services.topic_create(actor=author, category=public_category, title="Synthetic gone topic",
                                     raw="Synthetic text.")
    check()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_delete(actor=moderator, post_id=Post.objects.get(topic=gone, number=1).pk)
    check()
    with django_capture_on_commit_callbacks(execute=True):
        services.topic_move(actor=moderator, topic_id=kept.pk, category=child)
    check()
    assert can_moderate(moderator)


def test_the_home_page_shows_a_new_topic_at_once(client, public_category, requester,
                                                 django_capture_on_commit_callbacks):
    client.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        services.topic_create(actor=requester, category=public_category, title="Synthetic fresh topic",
                              raw="Synthetic text.")
    home = selectors.category_list(user=AnonymousUser())
    assert next(c for c in home if c.pk == public_category.pk).topic_count == 1


def test_the_home_pages_categories_follow_a_new_category_and_a_private_topic_at_once(
        client, public_category, private_category, requester, moderator, django_capture_on_commit_callbacks):
    """The categories a person sees are kept per audience until a write bumps the lists or the site."""
    sign_in(client, requester)
    assert "Synthetic new category" not in client.get("/").content.decode()
    assert f'href="{private_category.get_absolute_url()}"' not in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.category_create(name="Synthetic new category", slug="synthetic-new-category")
    assert "Synthetic new category" in client.get("/").content.decode()
    # Their own topic in a private category (as a request waiting for the anonymization team is)
    # lists that category for them: the service files it there, as a new topic of theirs.
    with django_capture_on_commit_callbacks(execute=True):
        TopicFactory(category=private_category, author=requester, title="Synthetic private topic")
    assert f'href="{private_category.get_absolute_url()}"' in client.get("/").content.decode()


def test_profile_counts_follow_a_like_and_a_deletion(client, public_category, requester, volunteer,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        topic = services.topic_create(actor=requester, category=public_category, title="Synthetic liked topic",
                                      raw="Synthetic text.")
        reply = services.post_create(actor=volunteer, topic_id=topic.pk, raw="Synthetic reply.")
    visitor = AnonymousUser()
    assert selectors.profile_activity(user=visitor, profile_user=volunteer)["replies"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.post_like(actor=requester, post_id=reply.pk)
    assert selectors.profile_activity(user=visitor, profile_user=volunteer)["likes_received"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.post_delete(actor=volunteer, post_id=reply.pk)
    activity = selectors.profile_activity(user=visitor, profile_user=volunteer)
    assert activity["replies"] == 0 and activity["likes_received"] == 0


# --- Bounded pages ----------------------------------------------------------------

def test_a_long_list_counts_only_the_pages_near_the_one_asked_for(public_category, requester):
    for n in range(5):
        TopicFactory(category=public_category, author=requester, title=f"Synthetic listed topic {n}")
    topics = Topic.objects.order_by("-pk")
    paginator = BoundedPaginator(topics, 1, 1)
    assert paginator.count == 5 and not paginator.truncated  # fewer than the bound: exact
    original = PAGES_AHEAD
    try:
        import forum.pagination as pagination

        pagination.PAGES_AHEAD = 2
        paginator = BoundedPaginator(topics, 1, 1)
        assert paginator.count == 3 and paginator.truncated
        page = paginator.get_page(3)
        assert page.has_next() is False  # the last page it knows of
        paginator = BoundedPaginator(topics, 1, 3)
        assert paginator.count == 5 and not paginator.truncated
        assert paginator.get_page(3).has_next()
    finally:
        pagination.PAGES_AHEAD = original


def test_a_truncated_list_says_there_are_more_pages(client, public_category, requester, settings):
    import forum.pagination as pagination

    for n in range(4):
        TopicFactory(category=public_category, author=requester, title=f"Synthetic listed topic {n}")
    original = pagination.PAGES_AHEAD
    try:
        pagination.PAGES_AHEAD = 1
        from forum.views import topics as topic_views

        per_page = topic_views.TOPICS_PER_PAGE
        topic_views.TOPICS_PER_PAGE = 1
        try:
            response = client.get("/latest/")
        finally:
            topic_views.TOPICS_PER_PAGE = per_page
    finally:
        pagination.PAGES_AHEAD = original
    assert "Page 1 of more than 2" in response.content.decode()
    assert 'rel="next"' in response.content.decode()


def test_profile_counts_grow_when_the_viewer_joins_a_private_category(private_category, requester):
    reader = UserFactory()
    TopicFactory(category=private_category, author=requester, title="Synthetic private count topic")
    viewer = type(reader).objects.get(pk=reader.pk)
    assert selectors.profile_activity(user=viewer, profile_user=requester)["topics"] == 0
    group = Group.objects.create(name="Synthetic private readers")
    private_category.groups.add(group)
    reader.groups.add(group)
    viewer = type(reader).objects.get(pk=reader.pk)  # the next request's object
    assert selectors.profile_activity(user=viewer, profile_user=requester)["topics"] == 1


def test_a_superuser_pages_render_after_access_changes(client, public_category):
    """request.user is a lazy object: reading access for it must not build one (it once did)."""
    admin = UserFactory(is_superuser=True, is_staff=True, totp=True)
    sign_in(client, admin)
    for url in ("/", "/requests/", admin.get_absolute_url(), "/latest/?page=10000000000000000000000000"):
        assert client.get(url).status_code == 200, url
    Group.objects.create(name="Synthetic new group")  # moves everybody's version
    for url in ("/", "/requests/", admin.get_absolute_url()):
        assert client.get(url).status_code == 200, url


def test_access_read_while_a_role_is_taken_away_is_never_current(public_category, private_category):
    """A request that read a person's rows before their change committed stores them under the
    version it read first; the change moves that version, so the entry is never served."""
    from django.core.cache import cache

    from forum.permissions import access

    group = Group.objects.create(name="Synthetic leaving readers")
    private_category.groups.add(group)
    person = UserFactory()
    person.groups.add(group)
    version_before = cache.get(access.PERSON_KEY.format(person.pk))
    stale = access._read(person, frozenset({public_category.pk}))  # the old rows, read "meanwhile"
    generation = cache.get(access.GENERATION_KEY)
    person.groups.remove(group)  # the change commits; its version moves
    # What the overlapping request then writes: the old rows, under the versions it had read.
    cache.set(access.ENTRY_KEY.format(person.pk), (generation, version_before, False, stale), 300)
    fresh = type(person).objects.get(pk=person.pk)
    assert private_category.pk not in access.access_for(fresh).member_category_ids
