"""The text gate, one browser context per person. Real Chromium.

A requester's reply names a (synthetic) patient with a birth date: the composer warns before
posting, with the words highlighted; sent anyway, the reply is held. A visitor, another member,
search and the API do not see it, nor do the topic's watchers' emails. The anonymization team
finds it in the review queue, edits the identifier out and clears it; the author is told, and
the page shows the cleaned text. The same for a request whose question names a patient although
its author said the data cannot identify one, and for an edit of an already public post (which
keeps showing its earlier text until the team has cleared the edit).
"""
import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from forum import notifications as kinds
from forum import services
from forum.models import Notification, NotificationLevel, OutboundEmail, Post, ReviewItem
from forum.permissions import Role
from requests_board.models import DataRequest
from tests.e2e.test_forum_journey import open_page, sign_in  # noqa: F401 (open_page is a fixture)
from tests.e2e.test_requests_journey import fill_request_form, requester_opens_the_form
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PATIENT = "Jane Fictionpatient"
BIRTH = "1970-01-01"
REPLY = f"The outlier is {PATIENT} (born {BIRTH}); she was admitted twice in one week."
CLEANED = "The outlier is one patient, admitted twice in one week."
WARNING = "This may identify a patient"
SEND_ANYWAY = "Send it as it is: the anonymization team checks it before anyone else sees it"
HELD = "waits for the anonymization team"


def people():
    category = CategoryFactory(slug="ward-statistics", name="Ward statistics")
    rita = UserFactory(username="rita_requester", display_name="Rita Requester", roles=[Role.REQUESTER])
    vera = UserFactory(username="vera_volunteer", display_name="Vera Volunteer", roles=[Role.VOLUNTEER])
    ana = UserFactory(username="ana_anonymizer", display_name="Ana Anonymizer", roles=[Role.ANONYMIZATION],
                      totp=True)
    topic = TopicFactory(category=category, author=rita, title="Occupancy of two synthetic tapir wards",
                         raw="Which ward fills first?")
    return category, topic, rita, vera, ana


def nobody_else_sees(pages, topic, word):
    """A visitor and another member: not on the page, not in search, not in the API."""
    for page in pages:
        response = page.goto(topic.get_absolute_url())
        assert response.ok and word not in response.text()
        response = page.goto(f"/search/?q={word.split()[-1]}")
        assert response.ok and word not in response.text()
        api = page.request.get(f"/api/v1/topics/{topic.pk}/posts/")
        assert word not in api.text()


def team_cleans_and_clears(page, cleaned, *, button):
    page.goto("/review/")
    item = page.locator("section.review-item").first
    expect(item.locator(".identifier-findings")).to_contain_text(PATIENT.split()[-1])
    item.get_by_role("link", name="Edit").click()
    page.get_by_label("Post text").fill(cleaned)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("still waiting for your decision")
    page.locator("section.review-item").first.get_by_role("button", name=button).click()
    expect(page.locator(".messages")).to_contain_text("Approved")


def test_a_reply_naming_a_patient_is_warned_held_cleaned_and_published(open_page):  # noqa: F811
    open_, problems = open_page
    _category, topic, rita, vera, ana = people()
    services.notification_level_set(user=vera, level=NotificationLevel.WATCHING, topic=topic)  # every post

    author = open_("requester")
    sign_in(author, rita)
    author.goto(topic.get_absolute_url())
    author.get_by_role("textbox", name="Your reply").fill(REPLY)
    # The live preview already lists what may identify the patient.
    preview = author.locator(".preview-identifiers")
    expect(preview).to_be_visible()
    expect(preview.locator("mark", has_text=PATIENT)).to_be_visible()
    author.get_by_role("button", name="Post reply").click()
    # Posting asks first, with the words highlighted, and saves nothing yet.
    expect(author.locator("form section.identifier-warning")).to_contain_text("What may identify a patient")
    expect(author.locator("form section.identifier-warning mark", has_text=BIRTH)).to_be_visible()
    expect(author.get_by_role("alert").filter(has_text=WARNING)).to_be_visible()
    assert Post.objects.filter(topic=topic).count() == 1
    author.get_by_label(SEND_ANYWAY).check()
    author.get_by_role("button", name="Post reply").click()
    expect(author.locator(".messages")).to_contain_text(HELD)
    expect(author.locator("article#post-2 .post-body")).to_contain_text(PATIENT)  # the author still reads it

    visitor, member = open_("visitor"), open_("volunteer")
    sign_in(member, vera)
    nobody_else_sees([visitor, member], topic, PATIENT)
    assert not any(PATIENT in email.subject + email.text_body + email.html_body
                   for email in OutboundEmail.objects.all())
    assert not Notification.objects.filter(user=vera).exists()

    team = open_("anonymizer")
    sign_in(team, ana)
    team_cleans_and_clears(team, CLEANED, button="Clear and publish")

    assert Notification.objects.filter(user=rita, kind=kinds.POST_CLEARED).exists()
    assert Notification.objects.filter(user=vera, kind=kinds.POSTED).exists()  # watchers hear now
    author.goto("/my/notifications/")
    expect(author.locator("main")).to_contain_text("The anonymization team checked your post")
    response = visitor.goto(topic.get_absolute_url())
    assert CLEANED in response.text() and PATIENT not in response.text()
    assert problems == []


def test_a_request_naming_a_patient_is_held_though_declared_clean(open_page, public_category):  # noqa: F811
    open_, problems = open_page
    rita = UserFactory(username="rita_requester", display_name="Rita Requester", roles=[Role.REQUESTER])
    ana = UserFactory(username="ana_anonymizer", display_name="Ana Anonymizer", roles=[Role.ANONYMIZATION],
                      totp=True)
    title = "Incubation period of one synthetic quokkavirus case"
    question = f"Our index case is {PATIENT}, DOB {BIRTH}. How long was her incubation period?"

    author = open_("requester")
    sign_in(author, rita)
    requester_opens_the_form(author)
    fill_request_form(author, deadline=timezone.localdate() + datetime.timedelta(days=30), title=title)
    author.get_by_role("textbox", name="Your question").fill(question)
    author.get_by_role("button", name="Publish request").click()
    expect(author.locator("form section.identifier-warning mark", has_text=PATIENT)).to_be_visible()
    assert not DataRequest.objects.filter(topic__isnull=False).exists()
    author.get_by_label(SEND_ANYWAY).check()
    author.get_by_role("button", name="Publish request").click()
    expect(author.locator(".messages")).to_contain_text(HELD)
    data_request = DataRequest.objects.select_related("topic").get(title=title)
    assert data_request.patient_data == DataRequest.PatientData.NO and data_request.topic.hidden_at is not None

    visitor = open_("visitor")
    # (Asked without navigating: a 404 page would log a console error, which the fixture counts.)
    assert visitor.request.get(data_request.topic.get_absolute_url()).status == 404
    assert title not in visitor.goto("/requests/").text()
    assert PATIENT not in visitor.request.get("/api/v1/requests/").text()

    team = open_("anonymizer")
    sign_in(team, ana)
    team_cleans_and_clears(team, "Our index case is one synthetic patient. How long was the incubation period?",
                           button="Clear and publish")
    response = visitor.goto(data_request.topic.get_absolute_url())
    assert response.ok and "one synthetic patient" in response.text() and PATIENT not in response.text()
    assert Notification.objects.filter(user=rita, kind=kinds.POST_CLEARED).exists()
    assert problems == []


def test_an_edit_naming_a_patient_is_held_while_the_old_text_stays(open_page):  # noqa: F811
    open_, problems = open_page
    _category, topic, rita, _vera, ana = people()
    first = "The outlier was admitted twice in one week."
    reply = services.post_create(actor=rita, topic_id=topic.pk, raw=first)

    author = open_("requester")
    sign_in(author, rita)
    author.goto(f"/p/{reply.pk}/edit/")
    author.get_by_role("textbox", name="Post", exact=True).fill(REPLY)
    author.get_by_role("button", name="Save changes").click()
    expect(author.locator("form section.identifier-warning mark", has_text=PATIENT)).to_be_visible()
    author.get_by_label(SEND_ANYWAY).check()
    author.get_by_role("button", name="Save changes").click()
    expect(author.locator(".messages")).to_contain_text("everybody else still sees the earlier version")

    visitor = open_("visitor")
    response = visitor.goto(topic.get_absolute_url())
    assert first in response.text() and PATIENT not in response.text()
    assert ReviewItem.objects.get(post=reply, status="pending").has_proposal

    team = open_("anonymizer")
    sign_in(team, ana)
    team.goto("/review/")
    expect(team.locator("section.review-item").first).to_contain_text("A held edit")
    team_cleans_and_clears(team, CLEANED, button="Clear and publish the edit")
    response = visitor.goto(topic.get_absolute_url())
    assert CLEANED in response.text() and PATIENT not in response.text()
    assert Notification.objects.filter(user=rita, kind=kinds.POST_CLEARED).exists()
    assert problems == []
