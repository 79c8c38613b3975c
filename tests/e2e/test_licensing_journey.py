"""The volunteer's licensing journey in a real Chromium: delivering a result under the suggested
licenses, with a figure, and finding its license badge, attribution line and JSON-LD on the page.

The form offers the policy's licenses as labelled, keyboard-reachable lists, the
suggested ones preselected; the page then links the license to its page here and
names its SPDX page for machines. Tasks (the license check, the scan) run eagerly.
"""
import json
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from forum.permissions import Role
from licensing.models import LicensedItem
from requests_board.models import Result
from tests.anonymization.files import plain_png
from tests.e2e.test_forum_journey import open_page, sign_in  # noqa: F401 (open_page is a fixture)
from tests.forum.factories import UserFactory
from tests.requests_board.factories import make_claimed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Incubation period in 120 synthetic quokkavirus case reports"
SUMMARY = "The median incubation period is **5.1 days** (95% interval 4.5 to 5.8), all synthetic."
REPOSITORY = "https://github.com/example/quokkavirus-incubation"
RESULTS_LICENSE_LABEL = "License of the results (numbers, tables, figures)"
CODE_LICENSE_LABEL = "License of the code in the repository, as its LICENSE file declares it"
RESULTS_LICENSE = "BSD-3-Clause"
CODE_LICENSE = "MIT"
SPDX_PAGE = "https://spdx.org/licenses/BSD-3-Clause.html"
FIGURE = "incubation-figure.png"


def request_panel(page):
    return page.get_by_role("region", name="The request")


def json_ld_licenses(page) -> list[str]:
    """Every license named by the page's JSON-LD blocks, each parsed with json.loads."""
    licenses = []
    for text in page.locator('script[type="application/ld+json"]').all_text_contents():
        data = json.loads(text)
        for node in data.get("@graph", [data]):
            value = node.get("license", [])
            licenses.extend([value] if isinstance(value, str) else value)
    return licenses


def test_volunteer_delivers_a_result_under_the_suggested_licenses(open_page, public_category, tmp_path):  # noqa: F811
    open_, problems = open_page
    requester = UserFactory(display_name="Rita Requester", roles=[Role.REQUESTER])
    volunteer = UserFactory(username="victor_volunteer", display_name="Victor Volunteer", roles=[Role.VOLUNTEER])
    data_request, _claim = make_claimed(requester, volunteer, public_category, title=TITLE)
    figure = tmp_path / FIGURE
    figure.write_bytes(plain_png())

    page = open_("volunteer")
    sign_in(page, volunteer)
    page.goto(data_request.get_absolute_url())
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    request_panel(page).get_by_role("link", name="Deliver a result").click()
    expect(page.get_by_role("heading", name="Deliver a result", level=1)).to_be_visible()

    # The policy's suggested licenses are preselected, in lists named by their labels.
    results_license = page.get_by_label(RESULTS_LICENSE_LABEL, exact=True)
    code_license = page.get_by_label(CODE_LICENSE_LABEL, exact=True)
    expect(results_license).to_have_value(RESULTS_LICENSE)
    expect(code_license).to_have_value(CODE_LICENSE)
    expect(page.get_by_role("combobox", name=RESULTS_LICENSE_LABEL, exact=True)).to_have_count(1)
    expect(page.get_by_role("combobox", name=CODE_LICENSE_LABEL, exact=True)).to_have_count(1)
    expect(results_license.locator("option:checked")).to_contain_text(RESULTS_LICENSE)

    page.get_by_label("Summary of the result").fill(SUMMARY)
    repository = page.get_by_label("Open repository or archive")
    repository.fill(REPOSITORY)

    # From the keyboard: Tab leads from the repository to the results license, then the code license.
    repository.focus()
    page.keyboard.press("Tab")
    expect(results_license).to_be_focused()
    page.keyboard.press("Tab")
    expect(code_license).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(results_license).to_be_focused()
    expect(results_license).to_have_value(RESULTS_LICENSE)

    page.get_by_label("Attach a file (optional)").set_input_files(str(figure))
    page.get_by_role("button", name="Deliver result").click()
    expect(page.get_by_text("Your result is delivered.")).to_be_visible()

    result = Result.objects.get(data_request=data_request)
    assert (result.license, result.repository_license) == (RESULTS_LICENSE, CODE_LICENSE)
    item = LicensedItem.objects.get(item_type=LicensedItem.ItemType.RESULT, object_id=result.pk)
    assert item.state == LicensedItem.State.OK and item.file_kinds == ["png"]

    mark = page.locator(".post-mark-result")
    expect(mark).to_have_count(1)
    expect(page.locator("article", has=mark).get_by_role("link", name=FIGURE)).to_have_count(1)
    expect(mark.locator(".license-hold")).to_have_count(0)
    badge = mark.locator(".license-badge", has_text="Result license:")
    expect(badge.get_by_role("link", name=RESULTS_LICENSE, exact=True)).to_have_attribute(
        "href", f"/licenses/{RESULTS_LICENSE}/")
    code_badge = mark.locator(".license-badge", has_text="Code license (as declared):")
    expect(code_badge.get_by_role("link", name=CODE_LICENSE, exact=True)).to_have_attribute(
        "href", f"/licenses/{CODE_LICENSE}/")
    attribution = mark.get_by_label("Attribution to copy when you reuse it")
    expect(attribution).to_have_value(
        f"Result for “{TITLE}” by {volunteer.name}, {settings.SITE_NAME}, "
        f"{result.created_at.date().isoformat()}, licensed {RESULTS_LICENSE}")
    expect(attribution).to_have_value(re.compile(rf"licensed {RESULTS_LICENSE}$"))

    # Machines read the same license from the page's JSON-LD.
    assert SPDX_PAGE in json_ld_licenses(page)

    # The badge leads to the license's page here.
    badge.get_by_role("link", name=RESULTS_LICENSE, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/licenses/{RESULTS_LICENSE}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"({RESULTS_LICENSE})")

    assert problems == []
