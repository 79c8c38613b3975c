"""Two-factor authentication: open to all, required for roles that see private data."""
import pytest
from allauth.mfa.models import Authenticator

from forum.permissions import Role
from tests.forum.factories import UserFactory, current_totp_code
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def sign_in_with_password(client, user, password):
    response = client.post("/accounts/login/", {"login": user.email, "password": password})
    assert response.status_code == 302


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ANONYMIZATION])
def test_role_without_totp_must_set_it_up_before_anything_else(client, role, password):
    user = UserFactory(roles=[role], totp=False)
    sign_in_with_password(client, user, password)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    # allauth asks for the password again before adding a factor.
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": password})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post("/accounts/2fa/totp/activate/", {"code": current_totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    # Setting the factor up is not using it: the next page asks for a code once.
    response = client.get("/")
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/")
    client.post("/accounts/2fa/reauthenticate/", {"code": current_totp_code(secret)})
    assert client.get("/").status_code == 200


def test_role_with_totp_goes_through(client, moderator):
    sign_in(client, moderator)
    assert client.get("/").status_code == 200


def test_member_may_use_the_site_without_totp_and_may_activate_it(client, member, password):
    sign_in_with_password(client, member, password)
    assert client.get("/").status_code == 200
    client.post("/accounts/reauthenticate/", {"password": password})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200


def test_moderator_cannot_switch_totp_off(client, moderator):
    sign_in(client, moderator)
    client.post("/accounts/2fa/totp/deactivate/")
    assert Authenticator.objects.filter(user=moderator, type=Authenticator.Type.TOTP).exists()


def test_moderator_login_asks_for_the_second_factor(client, moderator, password):
    response = client.post("/accounts/login/", {"login": moderator.email, "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": current_totp_code(moderator.totp_secret)})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_session_without_second_factor_is_sent_to_confirm_with_a_code(client, moderator):
    client.force_login(moderator)  # e.g. a password-only backend, or a role granted mid-session
    response = client.get("/settings/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/reauthenticate/?next=%2Fsettings%2Fprofile%2F"
    response = client.post("/accounts/2fa/reauthenticate/", {"code": "000000"})
    assert client.get("/").status_code == 302
    client.post("/accounts/2fa/reauthenticate/", {"code": current_totp_code(moderator.totp_secret)})
    assert client.get("/").status_code == 200


def test_admin_login_goes_through_allauth_and_its_second_factor(client, password):
    staff = UserFactory(roles=[Role.MODERATOR], totp=True, is_staff=True, is_superuser=True)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.post("/admin/login/", {"username": staff.username, "password": password, "next": "/admin/"})
    assert client.get("/admin/forum/user/").status_code == 302
