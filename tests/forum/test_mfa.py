"""Two-factor authentication: open to all, required for roles that see private data."""
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

from forum.permissions import Role
from tests.forum.factories import UserFactory

pytestmark = pytest.mark.django_db


def current_code(secret):
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def sign_in(client, user, password):
    response = client.post("/accounts/login/", {"login": user.email, "password": password})
    assert response.status_code == 302


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ANONYMIZATION])
def test_role_without_totp_must_set_it_up_before_anything_else(client, role, password):
    user = UserFactory(roles=[role], totp=False)
    sign_in(client, user, password)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    # allauth asks for the password again before adding a factor.
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": password})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post("/accounts/2fa/totp/activate/", {"code": current_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get("/").status_code == 200


def test_role_with_totp_goes_through(client, moderator):
    client.force_login(moderator)
    assert client.get("/").status_code == 200


def test_member_may_use_the_site_without_totp_and_may_activate_it(client, member, password):
    sign_in(client, member, password)
    assert client.get("/").status_code == 200
    client.post("/accounts/reauthenticate/", {"password": password})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200


def test_moderator_cannot_switch_totp_off(client, moderator):
    client.force_login(moderator)
    client.post("/accounts/2fa/totp/deactivate/")
    assert Authenticator.objects.filter(user=moderator, type=Authenticator.Type.TOTP).exists()


def test_moderator_login_asks_for_the_second_factor(client, moderator, password):
    response = client.post("/accounts/login/", {"login": moderator.email, "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": current_code(moderator.totp_secret)})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
