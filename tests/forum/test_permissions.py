"""Who sees what: every role against every private or personal view."""
import pytest

from forum.models import Category
from forum.permissions import can_moderate, categories_visible_to, requires_mfa
from tests.forum.factories import UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous", "member", "requester_author", "other_requester", "volunteer", "moderator", "anonymizer", "staff",
    "category_moderator",
]


@pytest.fixture
def people(requester, volunteer, moderator, anonymizer, private_category):
    from forum.permissions import Role

    category_moderator = UserFactory(totp=True)  # moderates the private category only
    private_category.moderators.add(category_moderator)
    return {
        "category_moderator": category_moderator,
        "anonymous": None,
        "member": UserFactory(),
        "requester_author": requester,
        "other_requester": UserFactory(roles=[Role.REQUESTER]),
        "volunteer": volunteer,
        "moderator": moderator,
        "anonymizer": anonymizer,
        "staff": UserFactory(roles=[Role.MODERATOR], totp=True, is_staff=True),
    }


# Expected status for each view and role. A private thing is a 404, like a missing one.
SEES_PRIVATE = {"requester_author", "moderator", "anonymizer", "staff", "category_moderator"}
MODERATES_PRIVATE = {"moderator", "staff", "category_moderator"}
MODERATES_PUBLIC = {"moderator", "staff"}


def _private(role, allowed=SEES_PRIVATE, refused=404):
    """Anonymous people are sent to sign in for personal pages; others get `refused` unless allowed."""
    return 200 if role in allowed else refused


MATRIX = {
    "private_category": {role: _private(role) for role in ROLES},
    "private_topic": {role: _private(role) for role in ROLES},
    "private_post_permalink": {role: 302 if role in SEES_PRIVATE else 404 for role in ROLES},
    "private_post_revisions": {role: _private(role) for role in ROLES},
    "private_topic_reply": {
        role: 302 if role == "anonymous" else _private(role, SEES_PRIVATE) for role in ROLES
    },
    "private_post_edit": {
        role: 302 if role == "anonymous" else (
            200 if role in {"requester_author"} | MODERATES_PRIVATE else 403 if role in SEES_PRIVATE else 404
        ) for role in ROLES
    },
    "private_post_bookmark": {
        role: 302 if role == "anonymous" else _private(role) for role in ROLES
    },
    "private_topic_move": {
        role: 302 if role == "anonymous" else (
            200 if role in MODERATES_PRIVATE else 403 if role in SEES_PRIVATE else 404
        ) for role in ROLES
    },
    "private_topic_unread": {
        role: 302 if role == "anonymous" else (302 if role in SEES_PRIVATE else 404) for role in ROLES
    },
    "public_topic": {role: 200 for role in ROLES},
    "public_topic_move": {
        role: 302 if role == "anonymous" else (200 if role in MODERATES_PUBLIC else 403) for role in ROLES
    },
    "public_post_edit": {
        role: 302 if role == "anonymous" else (200 if role in {"requester_author"} | MODERATES_PUBLIC else 403)
        for role in ROLES
    },
    "new_for_me": {role: (302 if role == "anonymous" else 200) for role in ROLES},
    "bookmarks": {role: (302 if role == "anonymous" else 200) for role in ROLES},
    "profile_edit": {role: (302 if role == "anonymous" else 200) for role in ROLES},
    "admin": {role: 200 if role == "staff" else 302 for role in ROLES},
}


def url_for(view, private_topic, public_topic):
    private_post = private_topic.posts.get()
    return {
        "private_category": private_topic.category.get_absolute_url(),
        "private_topic": private_topic.get_absolute_url(),
        "private_post_permalink": private_post.get_absolute_url(),
        "private_post_revisions": f"/p/{private_post.pk}/revisions/",
        "private_topic_reply": f"/t/{private_topic.pk}/reply/",
        "private_post_edit": f"/p/{private_post.pk}/edit/",
        "private_post_bookmark": f"/p/{private_post.pk}/bookmark/",
        "private_topic_move": f"/t/{private_topic.pk}/move/",
        "private_topic_unread": f"/t/{private_topic.pk}/unread/",
        "public_topic": public_topic.get_absolute_url(),
        "public_topic_move": f"/t/{public_topic.pk}/move/",
        "public_post_edit": f"/p/{public_topic.posts.get().pk}/edit/",
        "new_for_me": "/new/",
        "bookmarks": "/my/bookmarks/",
        "profile_edit": "/settings/profile/",
        "admin": "/admin/",
    }[view]


@pytest.mark.parametrize("view", sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, people, private_topic, public_topic, view, role):
    user = people[role]
    if user is not None:
        sign_in(client, user)
    response = client.get(url_for(view, private_topic, public_topic))
    assert response.status_code == MATRIX[view][role], (view, role)
    if view.startswith("private_") and response.status_code == 404:
        assert private_topic.title not in response.content.decode()
    if view == "private_category" and response.status_code == 200:
        assert private_topic.title in response.content.decode()


PRIVATE_ACTIONS = {
    "reply": lambda topic, post: (f"/t/{topic.pk}/reply/", {"raw": "Intruding"}),
    "like": lambda topic, post: (f"/p/{post.pk}/like/", {}),
    "bookmark": lambda topic, post: (f"/p/{post.pk}/bookmark/", {"note": "x"}),
    "delete": lambda topic, post: (f"/p/{post.pk}/delete/", {}),
    "moderate": lambda topic, post: (f"/t/{topic.pk}/moderate/", {"action": "close"}),
    "notify": lambda topic, post: (f"/notifications/topic/{topic.pk}/", {"level": "3"}),
}


@pytest.mark.parametrize("action", sorted(PRIVATE_ACTIONS))
@pytest.mark.parametrize("role", ["member", "other_requester", "volunteer"])
def test_outsiders_cannot_act_on_a_private_topic(client, people, private_topic, action, role):
    """Every write on a private topic is a 404 for people outside its audience, and changes nothing."""
    from forum.models import Bookmark, Post, PostLike, TopicNotificationSetting

    sign_in(client, people[role])
    url, data = PRIVATE_ACTIONS[action](private_topic, private_topic.posts.get())
    assert client.post(url, data).status_code == 404
    private_topic.refresh_from_db()
    assert (private_topic.closed, private_topic.deleted_at, Post.objects.filter(topic=private_topic).count()) == (
        False, None, 1)
    assert not PostLike.objects.exists() and not Bookmark.objects.exists()
    assert not TopicNotificationSetting.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_private_topic_titles_never_leak_into_public_lists(client, people, private_topic, public_topic, role):
    user = people[role]
    if user is not None:
        sign_in(client, user)
    may_see = MATRIX["private_topic"][role] == 200
    profile_url = private_topic.author.get_absolute_url()
    listing = {"/", "/latest/", "/top/", "/unanswered/", profile_url}
    for url in ("/", "/latest/", "/top/", "/unanswered/", public_topic.category.get_absolute_url(), profile_url):
        content = client.get(url).content.decode()
        # Site-wide lists and the author's profile list it, only to those who may see it.
        assert (private_topic.title in content) == (may_see and url in listing), (url, role)


def test_home_lists_private_category_only_to_people_who_may_see_it(client, people, private_topic):
    for role in ROLES:
        client.logout()
        if people[role] is not None:
            sign_in(client, people[role])
        listed = private_topic.category.get_absolute_url() in client.get("/").content.decode()
        assert listed == (MATRIX["private_category"][role] == 200), role


def test_capabilities_by_role(people):
    assert can_moderate(people["moderator"])
    assert not can_moderate(people["anonymizer"])
    assert not can_moderate(people["volunteer"])
    assert requires_mfa(people["moderator"]) and requires_mfa(people["anonymizer"])
    assert not requires_mfa(people["requester_author"])
    assert categories_visible_to(people["member"], Category.objects.all()).filter(slug="anonymization").count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_wrong_slug_on_a_private_topic_reveals_nothing(client, people, private_topic, role):
    if people[role] is not None:
        sign_in(client, people[role])
    response = client.get(f"/t/some-other-slug/{private_topic.pk}/")
    expected = 301 if MATRIX["private_topic"][role] == 200 else 404
    assert response.status_code == expected, role


def test_only_staff_or_the_command_line_grant_roles(people):
    from django.core.exceptions import PermissionDenied

    from forum import services
    from forum.permissions import Role, user_roles

    target = people["member"]
    for role in ("member", "volunteer", "moderator"):  # a moderator is not staff
        with pytest.raises(PermissionDenied):
            services.role_grant(actor=people[role], user=target, role=Role.MODERATOR)
    services.role_grant(actor=people["staff"], user=target, role=Role.ANONYMIZATION)
    services.role_grant(actor=None, user=target, role=Role.VOLUNTEER)
    assert user_roles(target) == {Role.ANONYMIZATION, Role.VOLUNTEER}


@pytest.mark.parametrize("role", ROLES)
def test_private_topic_never_reaches_search_or_feeds_of_outsiders(client, people, private_topic, public_topic, role):
    """Search results, counts and every feed leave the private topic out for anyone outside its audience."""
    if people[role] is not None:
        sign_in(client, people[role])
    may_see = MATRIX["private_topic"][role] == 200
    private_link = f'href="/p/{private_topic.posts.get().pk}/"'
    results = client.get("/search/", {"q": "synthetic request"}).content.decode()
    assert (private_link in results) == may_see, role
    assert f'href="/p/{public_topic.posts.get().pk}/"' in results
    for feed in ("/latest.atom", "/latest.rss"):
        content = client.get(feed).content.decode()
        assert private_topic.title not in content and public_topic.title in content, (feed, role)
    # feeds are public content only, even for people who may read the channel
    assert client.get(f"/c/{private_topic.category.slug}/feed.atom").status_code == 404


def test_members_cannot_reply_in_other_peoples_private_topics(db, member, requester, moderator):
    """In a channel where members start private topics, a member answers only their own."""
    from forum.permissions import can_reply
    from tests.forum.factories import CategoryFactory, TopicFactory

    channel = CategoryFactory(private=True)
    someone_elses = TopicFactory(category=channel, author=requester)
    own = TopicFactory(category=channel, author=member)
    assert not can_reply(member, someone_elses)
    assert can_reply(member, own)
    assert can_reply(moderator, someone_elses)


def test_readers_among_many_agree_with_topics_visible_to_for_every_role(people, public_topic, private_topic,
                                                                         private_category, public_category):
    """Notification fan-out asks `topic_readers_among` (many people, one query); pages ask
    `topics_visible_to`. The rule is written in both: they must agree for every role and topic."""
    from django.utils import timezone

    from forum.models import Topic
    from forum.permissions import topic_readers_among, topics_visible_to
    from tests.forum.factories import TopicFactory

    superuser = UserFactory(is_superuser=True, is_staff=True)
    deleted_public = TopicFactory(category=public_category, author=people["member"])
    deleted_private = TopicFactory(category=private_category, author=people["requester_author"])
    Topic.objects.filter(pk__in=[deleted_public.pk, deleted_private.pk]).update(deleted_at=timezone.now())
    readers = {name: person for name, person in people.items() if person is not None}
    readers["superuser"] = superuser
    for topic in Topic.objects.select_related("category").filter(
            pk__in=[public_topic.pk, private_topic.pk, deleted_public.pk, deleted_private.pk]):
        among = topic_readers_among(topic, [person.pk for person in readers.values()])
        for name, person in readers.items():
            sees = topics_visible_to(person, Topic.objects.filter(pk=topic.pk)).exists()
            assert (person.pk in among) == sees, f"{name} on {topic.title} (deleted={topic.deleted_at is not None})"
