"""Sign-up, verification, sign-in and the bad input around them."""
import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from forum.models import TermsAcceptance, User
from forum.permissions import Role, user_roles
from tests.forum.factories import PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP_URL = "/accounts/signup/"


def signup_data(**overrides):
    data = {
        "email": "jane.testpatient@example.org",
        "username": "jane_testpatient",
        "display_name": "Dr. Jane Testpatient",
        "password1": "a-long-synthetic-passphrase-77",
        "password2": "a-long-synthetic-passphrase-77",
        "roles": ["requester"],
        "accept_terms": "on",
        "accept_guidelines": "on",
        "accept_pledge": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def confirmation_link(message):
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body).group(1)


def test_signup_creates_account_records_terms_and_sends_verification(client, mailoutbox):
    response = client.post(SIGNUP_URL, signup_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="jane.testpatient@example.org")
    assert user.display_name == "Dr. Jane Testpatient"
    assert user_roles(user) == {Role.REQUESTER}
    assert user.accepted_terms_version == "2026-11-01"
    assert TermsAcceptance.objects.filter(user=user, terms_version__version="2026-11-01").exists()
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mailoutbox) == 1
    assert "/accounts/confirm-email/" in mailoutbox[0].body


@pytest.mark.parametrize(
    "missing, message",
    [
        ("accept_terms", "You need to accept the Terms of Service to take part."),
        ("accept_guidelines", "You need to accept the community guidelines to take part."),
        ("accept_pledge", "You need to take the pledge to take part."),
    ],
)
def test_signup_refused_without_each_declaration(client, mailoutbox, missing, message):
    response = client.post(SIGNUP_URL, signup_data(**{missing: None}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert mailoutbox == []


def test_signup_refuses_weak_password_with_reason(client, mailoutbox):
    response = client.post(SIGNUP_URL, signup_data(password1="12345", password2="12345"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "This password is too short" in content
    assert "This password is entirely numeric" in content
    assert not User.objects.exists()
    assert mailoutbox == []


def test_signup_refuses_self_granted_moderator_role(client):
    response = client.post(SIGNUP_URL, signup_data(roles=["moderator"]))
    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    assert not User.objects.exists()


def test_duplicate_email_creates_nothing_and_tells_the_owner_without_enumeration(client, mailoutbox, member):
    before = User.objects.count()
    response = client.post(SIGNUP_URL, signup_data(email=member.email.upper(), username="someone_else"))
    # The visitor sees the same page as for a new address: no one can probe who is registered.
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.count() == before
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [member.email.upper()] or mailoutbox[0].to == [member.email]
    assert "already" in mailoutbox[0].subject.lower() or "already" in mailoutbox[0].body.lower()


def test_unverified_login_is_refused_with_instructions(client, mailoutbox):
    client.post(SIGNUP_URL, signup_data())
    mailoutbox.clear()
    response = client.post(
        "/accounts/login/", {"login": "jane.testpatient@example.org", "password": "a-long-synthetic-passphrase-77"},
        follow=True,
    )
    assert "_auth_user_id" not in client.session
    assert "verify" in response.content.decode().lower()
    assert not EmailAddress.objects.get(email="jane.testpatient@example.org").verified


def test_verification_then_login_by_email_and_welcome_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    client.post(SIGNUP_URL, signup_data())
    link = confirmation_link(mailoutbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link)  # a second click sends no second welcome
    assert EmailAddress.objects.get(email="jane.testpatient@example.org").verified
    welcome = [m for m in mailoutbox if "Welcome" in m.subject]
    assert len(welcome) == 1
    assert welcome[0].alternatives and "text/html" == welcome[0].alternatives[0][1]
    assert User.objects.get(username="jane_testpatient").welcome_email_sent_at is not None
    response = client.post(
        "/accounts/login/", {"login": "jane.testpatient@example.org", "password": "a-long-synthetic-passphrase-77"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_wrong_password_gets_a_message_that_does_not_reveal_the_account(client, member):
    for login in (member.email, "nobody@example.org"):
        response = client.post("/accounts/login/", {"login": login, "password": "wrong-password-000"})
        assert response.status_code == 200
        assert "The email address and/or password you specified are not correct." in response.content.decode()


def test_login_is_rate_limited_after_repeated_failures(client, member):
    for _attempt in range(5):
        client.post("/accounts/login/", {"login": member.email, "password": "wrong-password-000"})
    response = client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


def test_logout_requires_post_and_signs_out(client, member, password):
    client.login(username=member.username, password=password)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_mail_only_to_known_accounts_and_looks_the_same(client, member, mailoutbox):
    known = client.post("/accounts/password/reset/", {"email": member.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [m.to for m in mailoutbox if "reset" in m.subject.lower()][0] == [member.email]


def test_password_change_page_works_for_signed_in_user(client, member, password):
    client.login(username=member.username, password=password)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": password, "password1": "another-long-passphrase-88", "password2": "another-long-passphrase-88"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("another-long-passphrase-88")


def test_email_change_adds_an_address_to_verify(client, member, password, mailoutbox):
    client.login(username=member.username, password=password)
    response = client.post("/accounts/email/", {"action_add": "", "email": "new.address@example.org"})
    assert response.status_code == 302
    assert EmailAddress.objects.filter(user=member, email="new.address@example.org", verified=False).exists()
    assert any("new.address@example.org" in m.to for m in mailoutbox)


@pytest.mark.parametrize("username", ["jane.doe", "jane@doe", "ja", "jane doe"])
def test_signup_refuses_usernames_that_break_mentions(client, username):
    response = client.post(SIGNUP_URL, signup_data(username=username))
    assert response.status_code == 200
    assert not User.objects.exists()
    assert "letters, digits or underscores" in response.content.decode() or "at least 3" in response.content.decode()
