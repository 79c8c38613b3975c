"""Terms acceptance: recorded at sign-up, asked again when the version changes."""
import pytest

from forum import services
from forum.models import TermsAcceptance
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

ACCEPT = {"accept_terms": "on", "accept_guidelines": "on", "accept_pledge": "on", "version": "2026-12-01"}


def test_current_terms_let_member_through(client, member):
    sign_in(client, member)
    assert client.get("/").status_code == 200


def test_new_terms_version_redirects_every_page_until_accepted(client, member, public_topic):
    sign_in(client, member)
    services.terms_publish(version="2026-12-01", summary_of_changes="Clearer rules on patient data.")
    for url in ("/", public_topic.get_absolute_url(), "/settings/profile/", "/accounts/email/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/terms/accept/?next=")
    page = client.get("/terms/accept/?next=/settings/profile/").content.decode()
    assert "Our terms have changed" in page
    assert "Clearer rules on patient data." in page


def test_terms_pages_and_logout_stay_reachable(client, member):
    sign_in(client, member)
    services.terms_publish(version="2026-12-01")
    assert client.get("/terms/").status_code == 200
    assert client.get("/guidelines/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302


def test_accepting_new_terms_records_it_and_returns_to_the_page(client, member):
    sign_in(client, member)
    services.terms_publish(version="2026-12-01")
    response = client.post("/terms/accept/", {**ACCEPT, "next": "/settings/profile/"})
    assert response.status_code == 302
    assert response["Location"] == "/settings/profile/"
    member.refresh_from_db()
    assert member.accepted_terms_version == "2026-12-01"
    assert TermsAcceptance.objects.filter(user=member).count() == 2
    assert client.get("/").status_code == 200


def test_accepting_requires_every_declaration(client, member):
    sign_in(client, member)
    services.terms_publish(version="2026-12-01")
    response = client.post("/terms/accept/", {"accept_terms": "on", "next": "/"})
    assert response.status_code == 200
    assert "You need to take the pledge to take part." in response.content.decode()
    member.refresh_from_db()
    assert member.accepted_terms_version == "2026-11-01"


def test_accept_page_refuses_offsite_next(client, member):
    sign_in(client, member)
    services.terms_publish(version="2026-12-01")
    response = client.post("/terms/accept/", {**ACCEPT, "next": "https://evil.example.com/"})
    assert response["Location"] == "/"


def test_invalid_terms_version_is_refused(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.terms_publish(version="not valid!")


def test_accepting_a_version_that_was_replaced_meanwhile_records_nothing(client, member):
    sign_in(client, member)
    services.terms_publish(version="2026-12-01")
    response = client.post("/terms/accept/", {**ACCEPT, "version": "2026-11-01", "next": "/settings/profile/"})
    assert response.status_code == 302
    assert response["Location"] == "/terms/accept/?next=%2Fsettings%2Fprofile%2F"
    member.refresh_from_db()
    assert member.accepted_terms_version == "2026-11-01"
