"""The requests board's acceptance journeys, one browser context per person. Real Chromium.

A requester asks for help through the guided form; a volunteer whose expertise
matches finds it, claims it, posts an update and delivers a licensed result; the
requester accepts it, and the board, the dashboard and the volunteer's profile
show the change. Bad input is refused field by field, and a request that may
identify a patient stays with the anonymization team, hidden from visitors.
"""
import datetime
import re

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from forum.models import Notification, OutboundEmail
from forum.permissions import Role
from requests_board.models import DataRequest, Result
from requests_board.notifications import NoticeKind
from tests.e2e.test_forum_journey import open_page, sign_in  # noqa: F401 (open_page is a fixture)
from tests.forum.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Incubation period in 120 synthetic quokkavirus case reports"
QUESTION = "A CSV of 120 *synthetic* case reports, one row per case. How long is the incubation period?"
DATA_LINK = "https://zenodo.org/records/1234567"
RESULT_WANTED = "The median incubation period with its 95% interval."
PLAN = "Fit a log-normal distribution with interval censoring, then bootstrap the interval."
UPDATE = "Cleaned the 120 rows; 3 had exposure after onset and are set aside. Fitting next."
SUMMARY = "The median incubation period is **5.1 days** (95% interval 4.5 to 5.8), all synthetic."
REPOSITORY = "https://github.com/example/result"
LICENSE = "BSD-3-Clause"
NO_PATIENT_DATA = "No: the data cannot identify a patient"


def shown_date(value: datetime.date) -> str:
    """A date as the site's templates show it (`|date:"DATE_FORMAT"` in English)."""
    with translation.override("en"):
        return formats.date_format(value, "DATE_FORMAT")


def request_panel(page):
    return page.get_by_role("region", name="The request")


def field(page, label):
    """The `.field` wrapper around the control labelled `label`, where its errors are shown."""
    return page.locator("div.field", has=page.get_by_label(label, exact=True))


def fill_request_form(page, *, deadline, title=TITLE, data_link=DATA_LINK, patient=NO_PATIENT_DATA):
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("textbox", name="Your question").fill(QUESTION)
    page.get_by_role("radio", name="Tables or spreadsheets").check()
    page.get_by_role("radio", name="Small: fits in an email (under 10 MB)").check()
    page.get_by_label("Where does the data live?").fill(data_link)
    page.get_by_label("What result do you need?").fill(RESULT_WANTED)
    page.get_by_role("radio", name="An analysis or an answer").check()
    page.get_by_label("By when do you need it?").fill(deadline.isoformat())
    page.get_by_label("Which expertise would help?").fill("statistics")
    page.get_by_role("radio", name=patient).check()
    page.get_by_label("I confirm that this work serves mitigating COVID-19.").check()


def requester_opens_the_form(page):
    page.goto("/requests/")
    expect(page.get_by_role("heading", name="Requests board", level=1)).to_be_visible()
    page.get_by_role("link", name="Ask for help with data").click()
    expect(page).to_have_url(re.compile(r"/requests/new/$"))
    expect(page.get_by_role("heading", name="Ask for help with data", level=1)).to_be_visible()


def requester_asks(page, deadline):
    requester_opens_the_form(page)
    fill_request_form(page, deadline=deadline)
    page.get_by_role("button", name="Publish request").click()

    expect(page.get_by_text("Your request is published.")).to_be_visible()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    panel = request_panel(page)
    expect(panel.locator(".state")).to_have_text("Open")
    expect(panel.locator(".deadline")).to_have_text(f"needed by {shown_date(deadline)}")
    expect(panel.get_by_role("link", name=DATA_LINK)).to_have_attribute("href", DATA_LINK)
    expect(panel.locator("li", has=page.get_by_role("link", name=DATA_LINK))).to_contain_text("(Zenodo)")
    expect(panel).to_contain_text("Nobody has claimed this request yet.")
    data_request = DataRequest.objects.select_related("topic").get(topic__title=TITLE)
    assert data_request.state == DataRequest.State.OPEN
    return data_request


def volunteer_claims_updates_and_delivers(page, data_request):
    page.goto("/requests/")
    page.get_by_role("navigation", name="Requests").get_by_role("link", name="Matches for me").click()
    expect(page).to_have_url(re.compile(r"/requests/matches/$"))
    expect(page.get_by_role("heading", name="Matches for me", level=1)).to_be_visible()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()

    request_panel(page).get_by_role("link", name="Claim this request").click()
    expect(page.get_by_role("heading", name="Claim this request", level=1)).to_be_visible()
    page.get_by_label("Your plan (optional)").fill(PLAN)
    page.get_by_role("button", name="Claim", exact=True).click()
    expect(page.get_by_text("You claimed this request.")).to_be_visible()
    panel = request_panel(page)
    expect(panel.locator(".state")).to_have_text("Claimed")
    expect(panel.locator(".claims")).to_contain_text(PLAN)

    panel.get_by_role("link", name="Post a progress update").click()
    expect(page.get_by_role("heading", name="Post a progress update", level=1)).to_be_visible()
    page.get_by_label("Progress update").fill(UPDATE)
    page.get_by_role("button", name="Post update").click()
    expect(page.get_by_text("Your update is posted.")).to_be_visible()
    update = page.locator("article", has=page.locator(".post-mark-update"))
    expect(update).to_have_count(1)
    expect(update.locator(".post-body")).to_contain_text("Cleaned the 120 rows")
    expect(request_panel(page).locator(".state")).to_have_text("In progress")

    request_panel(page).get_by_role("link", name="Deliver a result").click()
    expect(page.get_by_role("heading", name="Deliver a result", level=1)).to_be_visible()
    license_box = page.get_by_label("License of the results (numbers, tables, figures)")
    expect(license_box).to_have_value(LICENSE)  # the policy's default for results
    page.get_by_label("Summary of the result").fill(SUMMARY)
    page.get_by_label("Open repository or archive").fill(REPOSITORY)
    license_box.select_option(LICENSE)
    page.get_by_role("button", name="Deliver result").click()
    expect(page.get_by_text("Your result is delivered.")).to_be_visible()
    expect(request_panel(page).locator(".state")).to_have_text("Result delivered")
    mark = page.locator(".post-mark-result")
    expect(mark).to_contain_text("Result")
    # The volunteer may not accept their own result.
    expect(page.get_by_role("button", name="Accept this result")).to_have_count(0)


def requester_accepts(page, data_request, volunteer):
    page.reload()
    mark = page.locator(".post-mark-result")
    expect(mark).to_have_count(1)
    expect(mark.get_by_text("Result", exact=True)).to_be_visible()
    expect(mark.get_by_role("link", name=REPOSITORY)).to_have_attribute("href", REPOSITORY)
    expect(mark.locator(".host")).to_have_text("(GitHub)")
    expect(mark.get_by_role("link", name=LICENSE)).to_have_attribute("href", f"/licenses/{LICENSE}/")
    result_post = page.locator("article", has=mark)
    expect(result_post.locator(".post-body strong", has_text="5.1 days")).to_be_visible()

    mark.get_by_role("button", name="Accept this result").click()
    expect(page.get_by_text("You accepted this result: the request is solved.")).to_be_visible()
    panel = request_panel(page)
    expect(panel.locator(".state")).to_have_text("Solved")
    accepted = panel.get_by_role("region", name="✓ Accepted result")
    expect(accepted).to_be_visible()
    expect(accepted).to_contain_text(f"by {volunteer.display_name}")
    expect(accepted.get_by_role("link", name=LICENSE)).to_be_visible()
    expect(accepted.get_by_role("link", name="GitHub")).to_have_attribute("href", REPOSITORY)
    expect(page.locator(".post-mark-result")).to_contain_text("✓ Accepted result")
    expect(page.get_by_role("button", name="Accept this result")).to_have_count(0)

    data_request.refresh_from_db()
    assert data_request.state == DataRequest.State.ACCEPTED
    assert data_request.accepted_result == Result.objects.get(data_request=data_request)


def figure(page, term):
    """The value next to `term` in a definition list of figures."""
    return page.locator("dl div", has=page.get_by_text(term, exact=True)).locator("dd")


def board_dashboard_and_profile_show_it(page, volunteer):
    page.goto("/requests/?state=accepted")
    listed = page.locator("li.request-row", has=page.get_by_role("link", name=TITLE))
    expect(listed).to_have_count(1)
    expect(listed.locator(".state")).to_have_text("Solved")
    expect(page.locator("li.request-row")).to_have_count(1)

    page.goto("/requests/")
    page.get_by_role("navigation", name="Requests").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(figure(page, "Solved this week")).to_have_text("1")
    expect(figure(page, "Open")).to_have_text("0")
    expect(figure(page, "Claimed or in progress")).to_have_text("0")
    expect(figure(page, "Median time to an accepted result")).not_to_have_text("—")

    page.goto(f"/u/{volunteer.username}/")
    expect(figure(page, "Results delivered")).to_have_text("1")
    expect(figure(page, "Results accepted")).to_have_text("1")


def test_request_is_asked_claimed_delivered_accepted_and_counted(open_page, public_category):  # noqa: F811
    open_, problems = open_page
    requester = UserFactory(username="rita_requester", display_name="Rita Requester", roles=[Role.REQUESTER])
    volunteer = UserFactory(username="victor_volunteer", display_name="Victor Volunteer", roles=[Role.VOLUNTEER])
    volunteer.expertise.add("statistics")
    deadline = timezone.localdate() + datetime.timedelta(days=10)

    requester_page = open_("requester")
    sign_in(requester_page, requester)
    data_request = requester_asks(requester_page, deadline)

    volunteer_page = open_("volunteer")
    sign_in(volunteer_page, volunteer)
    volunteer_claims_updates_and_delivers(volunteer_page, data_request)

    requester_accepts(requester_page, data_request, volunteer)
    board_dashboard_and_profile_show_it(requester_page, volunteer)

    # Each step told the other person once, and each email owed was sent (tasks run eagerly in tests).
    told = Notification.objects.filter(topic_id=data_request.topic_id)
    assert sorted(told.values_list("kind", "user_id")) == sorted([
        (NoticeKind.CLAIMED, requester.pk), (NoticeKind.REQUEST_UPDATE, requester.pk),
        (NoticeKind.RESULT_DELIVERED, requester.pk), (NoticeKind.RESULT_ACCEPTED, volunteer.pk),
    ])
    sent = OutboundEmail.objects.filter(notification__in=told, status=OutboundEmail.Status.SENT)
    assert sorted(sent.values_list("kind", "to")) == sorted([
        (NoticeKind.CLAIMED, requester.email), (NoticeKind.REQUEST_UPDATE, requester.email),
        (NoticeKind.RESULT_DELIVERED, requester.email), (NoticeKind.RESULT_ACCEPTED, volunteer.email),
    ])
    assert not OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT).exists()

    assert problems == []


def test_publishing_with_past_deadline_and_plain_http_link_is_refused(open_page, public_category):  # noqa: F811
    open_, problems = open_page
    requester = UserFactory(roles=[Role.REQUESTER])
    page = open_("requester")
    sign_in(page, requester)

    requester_opens_the_form(page)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    fill_request_form(page, deadline=yesterday, data_link="http://example.org/cases.csv")
    page.get_by_role("button", name="Publish request").click()

    expect(page.get_by_text("Please check the fields marked below.")).to_be_visible()
    deadline_errors = field(page, "By when do you need it?").locator(".field-errors")
    expect(deadline_errors).to_have_text("This date is in the past. Please choose today or a later date.")
    link_errors = field(page, "Where does the data live?").locator(".field-errors")
    expect(link_errors).to_have_text(
        "Link 1 (“http://example.org/cases.csv”) is not a web address starting with https://."
    )
    # Only these two fields are marked, and what was typed is kept for correcting.
    expect(page.locator("div.field-invalid")).to_have_count(2)
    expect(page.get_by_label("Title", exact=True)).to_have_value(TITLE)
    expect(page.get_by_label("Where does the data live?")).to_have_value("http://example.org/cases.csv")
    expect(page.get_by_role("button", name="Publish request")).to_be_visible()
    assert DataRequest.objects.count() == 0

    # A 400 page makes Chromium log "Failed to load resource"; nothing else may go wrong.
    assert [p for p in problems if "status of 400" not in p] == []


def test_request_that_may_identify_a_patient_stays_private(open_page, public_category, private_category):  # noqa: F811
    open_, problems = open_page
    requester = UserFactory(roles=[Role.REQUESTER])
    page = open_("requester")
    sign_in(page, requester)

    requester_opens_the_form(page)
    deadline = timezone.localdate() + datetime.timedelta(days=10)
    fill_request_form(page, deadline=deadline, patient="Yes: it may identify a patient")
    page.get_by_role("button", name="Publish request").click()

    expect(page.get_by_text("Your request is with the anonymization team.")).to_be_visible()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    panel = request_panel(page)
    expect(panel.get_by_role("status")).to_contain_text(
        "visible only to its author, the anonymization team and moderators"
    )
    expect(panel).to_contain_text("May identify a patient: with the anonymization team.")
    data_request = DataRequest.objects.select_related("topic").get(topic__title=TITLE)
    assert data_request.needs_anonymization and data_request.cleared_at is None
    topic_url = data_request.get_absolute_url()
    assert page.url.endswith(topic_url)

    visitor = open_("visitor")
    response = visitor.goto(topic_url)
    assert response.status == 404
    expect(visitor.get_by_text(TITLE)).to_have_count(0)
    visitor.goto("/requests/")
    expect(visitor.get_by_role("heading", name="Requests board", level=1)).to_be_visible()
    expect(visitor.get_by_role("link", name=TITLE)).to_have_count(0)
    expect(visitor.get_by_text("No request matches these filters.")).to_be_visible()

    # The 404 page (and, as the site has no templates/404.html, its /favicon.ico) makes Chromium
    # log "Failed to load resource"; nothing else may go wrong.
    assert [p for p in problems if "status of 404" not in p] == []
