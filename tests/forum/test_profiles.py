"""Profile editing and the public profile page."""
import pytest

from forum.models import User
from forum.permissions import Role, user_roles
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def profile_data(**overrides):
    data = {
        "display_name": "Dr. Jane Testpatient",
        "affiliation": "Synthetic University Hospital",
        "orcid": "https://orcid.org/0000-0002-1825-0097",
        "bio": "I work on **imaging**. <script>alert(1)</script>",
        "expertise": "Imaging, statistics, imaging",
        "roles": ["requester", "volunteer"],
    }
    data.update(overrides)
    return data


def test_profile_edit_saves_and_public_page_shows_it(client, member, password):
    client.login(username=member.username, password=password)
    response = client.post("/settings/profile/", profile_data())
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.orcid == "0000-0002-1825-0097"
    assert "<strong>imaging</strong>" in member.bio_html
    assert "<script" not in member.bio_html
    assert sorted(t.name for t in member.expertise.all()) == ["imaging", "statistics"]
    assert user_roles(User.objects.get(pk=member.pk)) == {Role.REQUESTER, Role.VOLUNTEER}
    page = client.get(member.get_absolute_url()).content.decode()
    assert "https://orcid.org/0000-0002-1825-0097" in page
    assert "Synthetic University Hospital" in page
    assert "<strong>imaging</strong>" in page
    assert "<script>alert" not in page


@pytest.mark.parametrize(
    "orcid, message",
    [
        ("0000-0002-1825-0098", "This ORCID iD has a typo"),
        ("12345", "An ORCID iD has 16 characters"),
    ],
)
def test_invalid_orcid_is_refused_and_nothing_changes(client, member, password, orcid, message):
    client.login(username=member.username, password=password)
    response = client.post("/settings/profile/", profile_data(orcid=orcid))
    assert response.status_code == 200
    assert message in response.content.decode()
    member.refresh_from_db()
    assert member.orcid == ""
    assert member.affiliation == ""
    assert not member.expertise.exists()


def test_too_many_expertise_tags_are_refused(client, member, password):
    client.login(username=member.username, password=password)
    tags = ", ".join(f"tag{n}" for n in range(11))
    response = client.post("/settings/profile/", profile_data(expertise=tags))
    assert response.status_code == 200
    assert "Choose at most 10 expertise tags." in response.content.decode()
    assert not member.expertise.exists()


def test_profile_edit_keeps_staff_granted_roles(client, moderator, password):
    sign_in(client, moderator)
    client.post("/settings/profile/", profile_data(roles=["volunteer"]))
    assert user_roles(User.objects.get(pk=moderator.pk)) == {Role.MODERATOR, Role.VOLUNTEER}


def test_profile_edit_cannot_grant_moderator(client, member, password):
    client.login(username=member.username, password=password)
    response = client.post("/settings/profile/", profile_data(roles=["moderator"]))
    assert response.status_code == 200
    assert user_roles(User.objects.get(pk=member.pk)) == set()


def test_profile_edit_needs_sign_in(client):
    response = client.get("/settings/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_public_profile_lists_visible_topics_only(client, requester, public_topic, private_topic):
    page = client.get(requester.get_absolute_url()).content.decode()
    assert public_topic.title in page
    assert private_topic.title not in page
    assert "Likes received" in page
    replies = client.get(requester.get_absolute_url() + "?tab=replies").content.decode()
    assert private_topic.title not in replies


def test_unknown_profile_is_404(client, db):
    assert client.get("/u/nobody-here/").status_code == 404
