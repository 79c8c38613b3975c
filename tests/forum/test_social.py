"""GitHub and ORCID sign-in appear only when their keys are configured."""
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.django_db

KEYED = {
    "github": {"APPS": [{"client_id": "synthetic-github-id", "secret": "synthetic-github-secret"}]},
    "orcid": {"APPS": [{"client_id": "APP-SYNTHETIC", "secret": "synthetic-orcid-secret"}], "BASE_DOMAIN": "orcid.org"},
}


def test_without_keys_no_social_buttons_and_nothing_breaks(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    for url in ("/accounts/login/", "/accounts/signup/"):
        content = client.get(url).content.decode()
        assert "/accounts/github/login/" not in content
        assert "/accounts/orcid/login/" not in content
    assert client.get("/accounts/github/login/").status_code == 404


def test_with_keys_buttons_appear_and_lead_to_the_provider(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = KEYED
    content = client.get("/accounts/login/").content.decode()
    assert "/accounts/github/login/" in content
    assert "/accounts/orcid/login/" in content
    # Starting the flow redirects to the provider; the provider itself is the edge we do not call.
    response = client.post("/accounts/github/login/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.netloc == "github.com"
    assert parse_qs(target.query)["client_id"] == ["synthetic-github-id"]
