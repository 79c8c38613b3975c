"""A visitor becomes a member; a member re-accepts changed terms. Real Chromium."""
import re

import pytest
from playwright.sync_api import expect

from forum import services
from forum.models import User
from tests.forum.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "jane.testpatient@example.org"
SECRET = "a-long-synthetic-passphrase-77"


def test_visitor_signs_up_verifies_signs_in_and_publishes_profile_with_orcid(page, mailoutbox):
    page.goto("/")
    page.get_by_role("link", name="Join", exact=True).click()
    expect(page.get_by_role("heading", name="Join the help desk")).to_be_visible()

    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Username").fill("jane_testpatient")
    page.get_by_label("Display name").fill("Dr. Jane Testpatient")
    page.get_by_label("Password", exact=True).fill(SECRET)
    page.get_by_label("Password (again)").fill(SECRET)
    page.get_by_label("ask for help with data").check()

    # Without the declarations the browser will not submit...
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    # ...and neither will the server, with a clear reason, if the browser is bypassed.
    page.eval_on_selector_all("input[type=checkbox]", "els => els.forEach(e => e.removeAttribute('required'))")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("You need to accept the Terms of Service to take part.")).to_be_visible()
    assert not User.objects.filter(email=EMAIL).exists()

    page.get_by_label("Password", exact=True).fill(SECRET)
    page.get_by_label("Password (again)").fill(SECRET)
    page.get_by_label("I accept the Terms of Service").check()
    page.get_by_label("I will follow the community guidelines").check()
    page.get_by_label("I pledge that the work I do here serves mitigating COVID-19.").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    verification = [m for m in mailoutbox if EMAIL in m.to][-1]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", verification.body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(f"You have confirmed {EMAIL}.")).to_be_visible()
    assert any("Welcome" in m.subject for m in mailoutbox)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(SECRET)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Dr. Jane Testpatient")).to_be_visible()

    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Affiliation").fill("Synthetic University Hospital")
    page.get_by_label("ORCID iD").fill("0000-0002-1825-0098")
    page.get_by_label("About you").fill("I study **imaging** of synthetic lungs.")
    page.get_by_label("Expertise").fill("imaging, statistics")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("This ORCID iD has a typo")).to_be_visible()

    page.get_by_label("ORCID iD").fill("https://orcid.org/0000-0002-1825-0097")
    page.get_by_role("button", name="Save profile").click()
    expect(page).to_have_url(re.compile(r"/u/jane_testpatient/$"))
    expect(page.get_by_role("link", name="https://orcid.org/0000-0002-1825-0097")).to_be_visible()
    expect(page.get_by_text("Synthetic University Hospital")).to_be_visible()
    expect(page.locator(".bio strong")).to_have_text("imaging")

    # The public page shows the same to a visitor who is not signed in.
    page.context.clear_cookies()
    page.reload()
    expect(page.get_by_role("link", name="https://orcid.org/0000-0002-1825-0097")).to_be_visible()


def test_new_terms_version_forces_reacceptance_before_anything_else(page):
    user = UserFactory(username="terms_tester", display_name="Terry Testpatient")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Terry Testpatient")).to_be_visible()

    services.terms_publish(version="2026-12-01", summary_of_changes="Clearer rules on patient data.")

    page.goto("/settings/profile/")
    expect(page.get_by_role("heading", name="Our terms have changed")).to_be_visible()
    expect(page.get_by_text("Clearer rules on patient data.")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name="Our terms have changed")).to_be_visible()

    page.goto("/settings/profile/")
    page.get_by_label("I accept the Terms of Service").check()
    page.get_by_label("I will follow the community guidelines").check()
    page.get_by_label("I pledge that the work I do here serves mitigating COVID-19.").check()
    page.get_by_role("button", name="Accept and continue").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/settings/profile/$"))
    user.refresh_from_db()
    assert user.accepted_terms_version == "2026-12-01"
