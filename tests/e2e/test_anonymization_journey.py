"""The anonymization acceptance journey, one browser context per person. Real Chromium.

A clinician whose request may identify patients uploads a CSV with identifying
columns from the request's page; it is held in quarantine with its findings. A
member of the anonymization team finds it in the queue, reads the scan report and
asks for changes; the clinician sends an aggregated workbook that still carries its
author's name; the team approves it. The request and the file become public, and a
visitor downloads a copy whose metadata is gone but whose data is intact. Before
approval a visitor sees neither the request nor the file.
"""
import io
import re
import zipfile

import pytest
from playwright.sync_api import expect

from anonymization.models import AuditRecord, Upload
from forum.permissions import Role
from requests_board.models import DataRequest
from tests.anonymization.files import clean_xlsx, identifying_columns_csv
from tests.e2e.test_forum_journey import open_page, sign_in  # noqa: F401 (open_page is a fixture)
from tests.forum.factories import UserFactory
from tests.requests_board.factories import make_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Outcomes by age band in a synthetic quokkavirus ward"
RAW_NAME = "patients.csv"
CLEAN_NAME = "counts.xlsx"
AUTHOR = "Dr Synthetic Author"
REASON = "Please drop the name, contact and MRN columns and send counts per age band only."
CHANGES = re.compile(r"^Request changes")
WAITING = "Waiting for review"
# Django's naturaltime for something uploaded moments ago.
JUST_NOW = re.compile(r"^(now|a second ago|\d+\s+seconds?\s+ago|a minute ago|\d+\s+minutes?\s+ago)$")


def request_panel(page):
    return page.get_by_role("region", name="The request")


def files_section(page):
    return request_panel(page).get_by_role("region", name="Files")


def state_badge(page):
    return page.locator("p.request-meta .badge").first


def current_version(page):
    return page.get_by_role("region", name="Versions and scan reports").locator("article.version-current")


def wait_for_scan(page, expected_state=WAITING):
    """Tasks run eagerly on commit in the server thread, so the scan is normally done by the
    time the page loads; reload once in case it was not."""
    if state_badge(page).inner_text().strip() != expected_state:
        page.reload()
    expect(state_badge(page)).to_have_text(expected_state)


def clinician_uploads_identifying_csv(page, data_request):
    page.goto(data_request.get_absolute_url())
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(request_panel(page)).to_contain_text("May identify a patient: with the anonymization team.")
    files = files_section(page)
    expect(files).to_be_visible()
    files.get_by_label("Add a data file").set_input_files(
        files=[{"name": RAW_NAME, "mimeType": "text/csv", "buffer": identifying_columns_csv()}]
    )
    files.get_by_role("button", name="Upload to quarantine").click()

    expect(page.get_by_role("heading", name=RAW_NAME, level=1)).to_be_visible()
    expect(page.get_by_text("Your file is in quarantine")).to_be_visible()
    wait_for_scan(page)
    expect(page.get_by_text("Private: only the uploader, the anonymization team and moderators")).to_be_visible()
    findings = current_version(page).locator("ul.findings")
    expect(findings).to_contain_text("Column “patient_name” looks like it holds names.")
    expect(findings).to_contain_text("Column “MRN” looks like it holds medical record numbers.")
    # The report names the places, and shows the values found to the uploader (and the team) only.
    expect(findings.locator("mark", has_text="Jane Testpatient")).to_have_count(1)
    # The uploader neither decides nor reads the audit log.
    expect(page.get_by_role("button", name="Record decision")).to_have_count(0)
    expect(page.locator("details.audit-log")).to_have_count(0)

    upload = Upload.objects.select_related("current_version").get(topic=data_request.topic)
    assert page.url.endswith(upload.get_absolute_url())
    assert upload.state == Upload.State.REVIEW and upload.declared_identifying
    assert upload.current_version.original_name == RAW_NAME
    return upload


def visitor_sees_nothing_yet(page, data_request, upload):
    for url in (data_request.get_absolute_url(), upload.get_absolute_url(), f"/files/{upload.pk}/{RAW_NAME}"):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_text(TITLE)).to_have_count(0)
        expect(page.get_by_text(RAW_NAME)).to_have_count(0)


def team_requests_changes(page, data_request):
    page.goto("/")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Anonymization queue").click()
    expect(page).to_have_url(re.compile(r"/anonymization/$"))
    expect(page.get_by_role("heading", name="Anonymization queue", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="1 file waiting", level=2)).to_be_visible()
    waiting = page.get_by_role("table", name="Files waiting for review")
    row = waiting.get_by_role("row").filter(has=page.get_by_role("link", name=RAW_NAME))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(TITLE)
    expect(row).to_contain_text("declared identifying")
    expect(row).to_contain_text(WAITING)
    expect(row.locator("time")).to_have_text(JUST_NOW)  # its age in the queue

    row.get_by_role("link", name=RAW_NAME).click()
    expect(page.get_by_role("heading", name=RAW_NAME, level=1)).to_be_visible()
    findings = current_version(page).locator("ul.findings")
    expect(findings).to_contain_text("Column “patient_name” looks like it holds names.")
    expect(findings).to_contain_text("Values that look like email addresses (column “Email”).")
    expect(findings).to_contain_text("Where: B2, B3")

    decide = page.get_by_role("region", name="Decide")
    decide.get_by_role("radio", name=CHANGES).check()
    decide.get_by_label("Reason or instructions").fill(REASON)
    decide.get_by_role("button", name="Record decision").click()

    expect(page.get_by_text("Decision recorded.")).to_be_visible()
    decision = page.get_by_role("status", name="Changes requested")
    expect(decision).to_contain_text(REASON)
    expect(state_badge(page)).to_have_text("Changes requested")
    expect(page.get_by_role("region", name="Decide")).to_have_count(0)


def clinician_sends_cleaned_version(page, upload):
    page.goto(upload.get_absolute_url())
    expect(state_badge(page)).to_have_text("Changes requested")
    expect(page.get_by_role("status", name="Changes requested")).to_contain_text(REASON)

    new_version = page.get_by_role("region", name="Send a new version")
    new_version.get_by_label("File").set_input_files(files=[{
        "name": CLEAN_NAME,
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": clean_xlsx(author=AUTHOR),
    }])
    new_version.get_by_role("button", name="Upload new version").click()

    expect(page.get_by_text("New version received.")).to_be_visible()
    expect(page.get_by_role("heading", name=CLEAN_NAME, level=1)).to_be_visible()
    wait_for_scan(page)
    versions = page.get_by_role("region", name="Versions and scan reports").locator("article.version")
    expect(versions).to_have_count(2)
    expect(current_version(page).get_by_role("heading", name=re.compile(r"^Version 2"))).to_be_visible()
    # The workbook's counts are clean, but its author's name is in the metadata.
    expect(current_version(page).locator("ul.findings")).to_contain_text("Document metadata: creator.")


def team_approves(page, upload, data_request):
    page.goto("/anonymization/")
    waiting = page.get_by_role("table", name="Files waiting for review")
    row = waiting.get_by_role("row").filter(has=page.get_by_role("link", name=CLEAN_NAME))
    expect(row).to_contain_text("v2")
    row.get_by_role("link", name=CLEAN_NAME).click()
    expect(page.get_by_role("heading", name=CLEAN_NAME, level=1)).to_be_visible()
    expect(current_version(page).locator("ul.findings")).to_contain_text("Document metadata: creator.")

    decide = page.get_by_role("region", name="Decide")
    decide.get_by_role("radio", name="Approve and publish").check()
    decide.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Decision recorded.")).to_be_visible()
    # Publication runs on commit too; reload once if the copy was still being made.
    wait_for_scan(page, expected_state="Published")
    expect(page.get_by_text("Version 2 was approved and published")).to_be_visible()
    expect(page.get_by_role("link", name="Download the published copy")).to_be_visible()

    upload.refresh_from_db()
    data_request.refresh_from_db()
    assert upload.state == Upload.State.PUBLISHED and upload.published_version.number == 2
    assert data_request.cleared_at is not None
    actions = list(AuditRecord.objects.filter(upload=upload).values_list("action", flat=True))
    for action in (AuditRecord.Action.UPLOADED, AuditRecord.Action.CHANGES_REQUESTED,
                   AuditRecord.Action.NEW_VERSION, AuditRecord.Action.APPROVED, AuditRecord.Action.PUBLISHED):
        assert action in actions


def visitor_downloads_clean_copy(page, data_request, upload):
    response = page.goto(data_request.get_absolute_url())
    assert response.status == 200
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    files = files_section(page)
    link = files.get_by_role("link", name=CLEAN_NAME)
    expect(link).to_be_visible()
    # Neither the superseded version, nor the upload form, nor anything in review.
    expect(page.get_by_text(RAW_NAME)).to_have_count(0)
    expect(files.get_by_label("Add a data file")).to_have_count(0)
    expect(files).not_to_contain_text("In review")

    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == CLEAN_NAME
    with open(download.path(), "rb") as downloaded:
        published = downloaded.read()

    with zipfile.ZipFile(io.BytesIO(clean_xlsx(author=AUTHOR))) as original, \
            zipfile.ZipFile(io.BytesIO(published)) as copy:
        assert copy.testzip() is None
        assert AUTHOR in original.read("docProps/core.xml").decode()
        core = copy.read("docProps/core.xml").decode()
        assert AUTHOR not in core  # metadata gone
        assert set(copy.namelist()) == set(original.namelist())
        for name in original.namelist():
            if name.startswith("xl/"):  # the workbook, its sheet and its strings, byte for byte
                assert copy.read(name) == original.read(name), name

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(published), read_only=True)
    rows = [list(row) for row in workbook["Counts"].iter_rows(values_only=True)]
    assert rows == [["region", "age_band", "cases"], ["North", "0-39", 7], ["North", "40+", 7],
                    ["South", "0-39", 7], ["South", "40+", 7]]
    assert workbook.properties.creator in (None, "")
    workbook.close()

    # The review page stays private after publication.
    response = page.goto(upload.get_absolute_url())
    assert response.status == 404


def test_identifying_file_is_held_reviewed_cleaned_and_published(open_page, public_category, private_category):  # noqa: F811
    open_, problems = open_page
    clinician = UserFactory(username="cora_clinician", display_name="Cora Clinician", roles=[Role.REQUESTER])
    member = UserFactory(username="tomas_team", display_name="Tomas Team", roles=[Role.ANONYMIZATION], totp=True)
    data_request = make_request(clinician, public_category, title=TITLE, patient_data="yes")
    assert data_request.needs_anonymization and data_request.cleared_at is None
    assert data_request.state == DataRequest.State.OPEN

    clinician_page = open_("clinician")
    sign_in(clinician_page, clinician)
    upload = clinician_uploads_identifying_csv(clinician_page, data_request)

    visitor = open_("visitor")
    visitor_sees_nothing_yet(visitor, data_request, upload)

    team_page = open_("team")
    sign_in(team_page, member)
    team_requests_changes(team_page, data_request)
    upload.refresh_from_db()
    assert upload.state == Upload.State.CHANGES and upload.decision_reason == REASON

    clinician_sends_cleaned_version(clinician_page, upload)
    visitor_sees_nothing_yet(visitor, data_request, upload)

    team_approves(team_page, upload, data_request)
    visitor_downloads_clean_copy(visitor, data_request, upload)

    # The 404 pages (and, as the site has no templates/404.html, its /favicon.ico) make Chromium
    # log "Failed to load resource"; nothing else may go wrong.
    assert [p for p in problems if "status of 404" not in p] == []
