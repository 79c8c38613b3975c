"""Who sees what: every role against every private or personal view."""
import pytest

from forum.models import Category
from forum.permissions import can_moderate, categories_visible_to, requires_mfa
from tests.forum.factories import UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous", "member", "requester_author", "other_requester", "volunteer", "moderator", "anonymizer", "staff",
]


@pytest.fixture
def people(requester, volunteer, moderator, anonymizer):
    from forum.permissions import Role

    return {
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
MATRIX = {
    "private_category": {
        "anonymous": 404, "member": 404, "requester_author": 200, "other_requester": 404,
        "volunteer": 404, "moderator": 200, "anonymizer": 200, "staff": 200,
    },
    "private_topic": {
        "anonymous": 404, "member": 404, "requester_author": 200, "other_requester": 404,
        "volunteer": 404, "moderator": 200, "anonymizer": 200, "staff": 200,
    },
    "public_topic": {role: 200 for role in ROLES},
    "profile_edit": {role: (302 if role == "anonymous" else 200) for role in ROLES},
    "admin": {
        "anonymous": 302, "member": 302, "requester_author": 302, "other_requester": 302,
        "volunteer": 302, "moderator": 302, "anonymizer": 302, "staff": 200,
    },
}


def url_for(view, private_topic, public_topic):
    return {
        "private_category": private_topic.category.get_absolute_url(),
        "private_topic": private_topic.get_absolute_url(),
        "public_topic": public_topic.get_absolute_url(),
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
    if response.status_code == 200 and view != "admin":
        assert private_topic.title in response.content.decode() or view != "private_category"


@pytest.mark.parametrize("role", ROLES)
def test_private_topic_titles_never_leak_into_public_lists(client, people, private_topic, public_topic, role):
    user = people[role]
    if user is not None:
        sign_in(client, user)
    may_see = MATRIX["private_topic"][role] == 200
    profile_url = private_topic.author.get_absolute_url()
    for url in ("/", public_topic.category.get_absolute_url(), profile_url):
        content = client.get(url).content.decode()
        # Only the author's profile lists their topics, and only to those who may see them.
        assert (private_topic.title in content) == (may_see and url == profile_url), (url, role)


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
