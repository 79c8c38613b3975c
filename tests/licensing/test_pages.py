"""License pages, and how licenses show where requests and results are read.

Who sees what: the moderators' report, the page that changes a result's licenses, a result or a
request's data held for its license (shown to its author and moderators only, never its body or
its data links to anybody else), and export bundles of a request that went private (a 404, like
something missing). What the pages say: the policy and the licenses in use, one page per license
with the items under it, badges, attribution lines, JSON-LD, the forms' preselected licenses and
the Atom feed's rights. The license pages run a fixed number of queries whatever the data, and
the anonymous page cache never serves a page from before a hold or a release.
"""
import html
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anonymization.models import Upload
from anonymization.services import Decision, upload_decide
from forum import services as forum_services
from forum.permissions import Role
from licensing import services as licensing_services
from licensing.models import LicensedItem
from requests_board import services
from requests_board.models import Result
from tests.anonymization import files
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_claimed, make_request

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "member", "requester", "volunteer", "other_volunteer", "moderator", "anonymizer"]
# Who sees a held result: its author (the volunteer) and moderators.
SEES_HELD_RESULT = {"volunteer", "moderator"}
# Who sees a request's held data: its author (the requester) and moderators.
SEES_HELD_DATA = {"requester", "moderator"}
# Who changes a delivered result's licenses: its author, until it is accepted, and moderators.
EDITS_RESULT_LICENSE = {"volunteer", "moderator"}
# Who reads a request in the private Anonymization channel: the topic's author and the channel's groups.
READS_PRIVATE_REQUEST = {"requester", "moderator", "anonymizer"}

OK = "ok"
NOT_FOUND = "404"
FORBIDDEN = "403"
SIGN_IN = "sign in"

HELD_SUMMARY = "Synthetic held summary: the median incubation is 4.2 days."
GOOD_SUMMARY = "Synthetic good summary: the median incubation is 5.1 days."
HELD_BANNER = "This result is held for its license."
WITHHELD_NOTE = "This result is held until its author fixes its license."
DATA_LINK = "https://zenodo.org/records/0000001"
DATA_FILE = "synthetic-regional-counts.csv"
ATOM = "{http://www.w3.org/2005/Atom}"

BUGS: dict = {}  # known wrong outcomes as (test, role) → reason; none left


def _param(*values, test=""):
    """One case of a matrix; `BUGS[(test, *values)]` marks a known wrong outcome."""
    key = (test, *values)
    marks = [pytest.mark.xfail(strict=True, reason=BUGS[key])] if key in BUGS else []
    return pytest.param(*values, marks=marks, id="-".join(str(value) for value in values))


# --- People and content ------------------------------------------------------------------------

@pytest.fixture
def other_volunteer(db):
    return UserFactory(roles=[Role.VOLUNTEER])


@pytest.fixture
def people(member, requester, volunteer, other_volunteer, moderator, anonymizer):
    """One person per role: the requester asks, the volunteer delivers, the other volunteer only reads."""
    return {
        "anonymous": None, "member": member, "requester": requester, "volunteer": volunteer,
        "other_volunteer": other_volunteer, "moderator": moderator, "anonymizer": anonymizer,
    }


@pytest.fixture
def as_role(client, people):
    """Sign the test client in as `role` (or leave it anonymous); returns the person."""
    def _as(role):
        person = people[role]
        if person is not None:
            sign_in(client, person)
        return person
    return _as


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Deliver a result and let its license check run, as the worker would."""
    def _deliver(volunteer, data_request, *, license, summary=GOOD_SUMMARY, repository_license=""):
        with django_capture_on_commit_callbacks(execute=True):
            return services.result_deliver(
                actor=volunteer, data_request_id=data_request.pk, summary=summary,
                repository_url=f"https://github.com/example/synthetic-{data_request.pk}-{license.lower()}",
                license=license, repository_license=repository_license,
            )
    return _deliver


@pytest.fixture
def checked(django_capture_on_commit_callbacks):
    """Run `function(**arguments)` and the license checks it queues."""
    def _checked(function, **arguments):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**arguments)
    return _checked


def _item(item_type, object_id) -> LicensedItem:
    return LicensedItem.objects.get(item_type=item_type, object_id=object_id)


@pytest.fixture
def claimed(requester, volunteer, public_category, checked):
    """A public request, its data license checked, claimed by the volunteer."""
    data_request, _claim = checked(make_claimed, author=requester, volunteer=volunteer, category=public_category,
                                   title="Synthetic incubation request")
    assert _item("dataset", data_request.pk).state == LicensedItem.State.OK
    return data_request


@pytest.fixture
def held_result(claimed, volunteer, deliver):
    """A result delivered under GPL-3.0-only, which the policy does not allow for results: held."""
    result = deliver(volunteer, claimed, license="GPL-3.0-only", summary=HELD_SUMMARY)
    assert _item("result", result.pk).is_held
    return result


@pytest.fixture
def good_result(claimed, volunteer, deliver):
    result = deliver(volunteer, claimed, license="BSD-3-Clause", repository_license="MIT")
    assert _item("result", result.pk).state == LicensedItem.State.OK
    return result


@pytest.fixture
def held_data(requester, public_category, checked):
    """A public request whose data is shared under GPL-3.0-only, which the policy does not allow for data."""
    data_request = checked(make_request, author=requester, category=public_category,
                           title="Synthetic request with held data", data_license="GPL-3.0-only")
    assert _item("dataset", data_request.pk).is_held
    return data_request


def _topic_url(data_request) -> str:
    data_request.refresh_from_db()
    return data_request.topic.get_absolute_url()


def _outcome(response) -> str:
    if response.status_code in (200, 204):
        return OK
    if response.status_code == 302:
        return SIGN_IN if "/accounts/login/" in response["Location"] else OK
    return {404: NOT_FOUND, 403: FORBIDDEN}.get(response.status_code, str(response.status_code))


def _page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


# --- The moderators' report ----------------------------------------------------------------------

@pytest.mark.parametrize("role", [_param(role, test="report") for role in ROLES])
def test_license_report_is_for_moderators_only(client, as_role, held_result, role):
    as_role(role)
    response = client.get("/licenses/report/")
    expected = {"anonymous": SIGN_IN, "moderator": OK}.get(role, FORBIDDEN)
    assert _outcome(response) == expected
    if expected != OK:
        assert HELD_SUMMARY not in response.content.decode()
        assert "GPL-3.0-only" not in response.content.decode()


# --- Changing a result's licenses ----------------------------------------------------------------

@pytest.mark.parametrize("role", [_param(role, test="result-license-get") for role in ROLES])
def test_result_license_page_is_for_its_author_and_moderators(client, as_role, held_result, role):
    as_role(role)
    response = client.get(f"/results/{held_result.pk}/license/")
    expected = OK if role in EDITS_RESULT_LICENSE else SIGN_IN if role == "anonymous" else FORBIDDEN
    assert _outcome(response) == expected
    if expected == OK:
        page = response.content.decode()
        assert "This result is held for its license." in page and "GPL-3.0-only" in page


@pytest.mark.parametrize("role", [_param(role, test="result-license-post") for role in ROLES])
def test_result_license_fix_by_its_author_or_a_moderator_releases_it(
    client, as_role, held_result, role, django_capture_on_commit_callbacks,
):
    as_role(role)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/results/{held_result.pk}/license/",
                               {"license": "BSD-2-Clause", "repository_license": "MIT"})
    held_result.refresh_from_db()
    item = _item("result", held_result.pk)
    if role in EDITS_RESULT_LICENSE:
        assert response.status_code == 302 and response["Location"] == held_result.post.get_absolute_url()
        assert (held_result.license, held_result.repository_license) == ("BSD-2-Clause", "MIT")
        assert item.state == LicensedItem.State.OK and item.held_at is None
    else:
        assert _outcome(response) == (SIGN_IN if role == "anonymous" else FORBIDDEN)
        assert held_result.license == "GPL-3.0-only"
        assert item.is_held


@pytest.mark.parametrize("role", [_param(role, test="accepted-result-license") for role in ROLES])
def test_accepted_result_licenses_are_changed_by_moderators_only(client, as_role, requester, good_result, role):
    services.result_accept(actor=requester, result_id=good_result.pk)
    as_role(role)
    get = client.get(f"/results/{good_result.pk}/license/")
    post = client.post(f"/results/{good_result.pk}/license/", {"license": "BSD-2-Clause", "repository_license": "MIT"})
    expected = OK if role == "moderator" else SIGN_IN if role == "anonymous" else FORBIDDEN
    assert _outcome(get) == _outcome(post) == expected
    good_result.refresh_from_db()
    assert good_result.license == ("BSD-2-Clause" if role == "moderator" else "BSD-3-Clause")


# --- Held results and data on the topic page -----------------------------------------------------

@pytest.mark.parametrize("role", [_param(role, test="held-result") for role in ROLES])
def test_held_result_is_read_only_by_its_author_and_moderators(client, as_role, claimed, held_result, role):
    as_role(role)
    page = _page(client.get(_topic_url(claimed)))
    if role in SEES_HELD_RESULT:
        assert HELD_SUMMARY in page
        assert HELD_BANNER in page and "Not allowed for numerical or pictorial results" in page
        assert f'href="/results/{held_result.pk}/license/"' in page
        assert WITHHELD_NOTE not in page
    else:
        assert WITHHELD_NOTE in page
        assert HELD_SUMMARY not in page and "4.2 days" not in page
        assert HELD_BANNER not in page and "GPL-3.0-only" not in page
        assert held_result.repository_url not in page
        assert f"/results/{held_result.pk}/license/" not in page


@pytest.mark.parametrize("role", [_param(role, test="held-result-permalink") for role in ROLES])
def test_held_result_stays_hidden_behind_its_permalink(client, as_role, held_result, role):
    as_role(role)
    response = client.get(held_result.post.get_absolute_url(), follow=True)
    page = _page(response)
    assert (HELD_SUMMARY in page) == (role in SEES_HELD_RESULT)


@pytest.mark.parametrize("role", [_param(role, test="held-data") for role in ROLES])
def test_held_data_links_are_shown_only_to_its_author_and_moderators(client, as_role, held_data, role):
    as_role(role)
    page = _page(client.get(_topic_url(held_data)))
    if role in SEES_HELD_DATA:
        assert DATA_LINK in page
        assert "This request's data is held for its license." in page
        assert "Not allowed for data" in page
    else:
        assert DATA_LINK not in page
        assert "The data is held until its license is fixed." in page
        assert "held for its license" not in page
    assert 'id="attribution-data"' not in page  # nobody is invited to reuse held data


@pytest.fixture
def held_data_file(held_data, requester, anonymizer, django_capture_on_commit_callbacks):
    """A data file of the request whose data is held, approved by the anonymization team."""
    with django_capture_on_commit_callbacks(execute=True):
        upload = services.request_attach(actor=requester, data_request_id=held_data.pk, ip="192.0.2.1",
                                         file=files.uploaded(DATA_FILE, files.clean_aggregated_csv()))
    with django_capture_on_commit_callbacks(execute=True):
        upload_decide(actor=anonymizer, upload_id=upload.pk, decision=Decision.APPROVE)
    upload.refresh_from_db()
    assert upload.state == Upload.State.PUBLISHED
    return upload


@pytest.mark.parametrize("role", [_param(role, test="held-data-file") for role in ROLES])
def test_held_data_files_are_served_only_to_its_author_and_moderators(client, as_role, held_data, held_data_file,
                                                                       role):
    as_role(role)
    url = reverse("anonymization:published-download", args=[held_data_file.pk, DATA_FILE])
    assert (url in _page(client.get(_topic_url(held_data)))) == (role in SEES_HELD_DATA)
    response = client.get(url)
    assert _outcome(response) == (OK if role in SEES_HELD_DATA else NOT_FOUND)


# --- Export bundles of a request that went private -----------------------------------------------

@pytest.fixture
def accepted(requester, good_result, claimed):
    services.result_accept(actor=requester, result_id=good_result.pk)
    claimed.refresh_from_db()
    return claimed


@pytest.fixture
def private_bundle(accepted, requester, moderator, private_category):
    """A bundle of a solved request, made while public; then a moderator moves the request into the
    private Anonymization channel."""
    bundle = services.export_request(actor=requester, data_request=accepted)
    assert bundle.state == bundle.State.READY
    forum_services.topic_move(actor=moderator, topic_id=accepted.topic_id, category=private_category)
    return bundle


EXPORT_URLS = ["export", "export-detail", "export-download"]


def _export_url(name, data_request, bundle) -> str:
    return {
        "export": f"/requests/{data_request.pk}/export/",
        "export-detail": f"/requests/exports/{bundle.pk}/",
        "export-download": f"/requests/exports/{bundle.pk}/download/",
    }[name]


@pytest.mark.parametrize(("name", "role"), [
    _param(name, role, test="export") for name in EXPORT_URLS for role in ROLES])
def test_exports_of_a_private_request_are_a_404_to_those_who_cannot_read_it(
    client, as_role, accepted, private_bundle, name, role,
):
    as_role(role)
    response = client.get(_export_url(name, accepted, private_bundle))
    if role in READS_PRIVATE_REQUEST:
        assert _outcome(response) == OK
        if name == "export-download":
            assert response["Content-Type"] == "application/zip"
            assert b"".join(response.streaming_content)[:2] == b"PK"
        elif name == "export":
            assert response["Location"] == f"/requests/exports/{private_bundle.pk}/"
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("name", EXPORT_URLS)
def test_exports_of_a_public_request_are_for_everybody(client, accepted, name):
    bundle = services.export_request(actor=accepted.author, data_request=accepted)
    response = client.get(_export_url(name, accepted, bundle))
    assert _outcome(response) == OK


# --- Held results stay hidden elsewhere too ------------------------------------------------------

HELD_WORD = "zanzibarite"  # a word only the held result's summary uses


@pytest.fixture
def held_searchable(claimed, volunteer, deliver):
    result = deliver(volunteer, claimed, license="GPL-3.0-only", summary=f"Synthetic {HELD_WORD} result: 4.2 days.")
    assert _item("result", result.pk).is_held
    return result


@pytest.mark.parametrize("role", [_param(role, test="held-result-search") for role in ROLES])
def test_search_finds_a_held_result_only_for_its_author_and_moderators(client, as_role, held_searchable, role):
    as_role(role)
    page = _page(client.get(f"/search/?q={HELD_WORD}"))
    found = f'href="/p/{held_searchable.post_id}/"' in page or "4.2 days" in page
    assert found == (role in SEES_HELD_RESULT)


@pytest.mark.parametrize("role", [_param(role, test="held-result-revisions") for role in ROLES])
def test_revision_history_of_a_held_result_is_only_for_its_author_and_moderators(
    client, as_role, held_searchable, role,
):
    as_role(role)
    response = client.get(f"/p/{held_searchable.post_id}/revisions/")
    shown = response.status_code == 200 and HELD_WORD in response.content.decode()
    assert shown == (role in SEES_HELD_RESULT)


# --- The license pages -----------------------------------------------------------------------------

PUBLIC_CC_BY = "Synthetic public CC-BY request"
PRIVATE_CC_BY = "Synthetic private CC-BY request"


@pytest.fixture
def catalog(requester, claimed, good_result, held_result, public_category, private_category, checked):
    """Items under several licenses: the claimed request's data (CC-BY-SA-4.0) with a good result
    (BSD-3-Clause, code MIT) and a held one (GPL-3.0-only); a public request and a request waiting in
    the private Anonymization channel, both under CC-BY-4.0."""
    checked(make_request, author=requester, category=public_category, title=PUBLIC_CC_BY, data_license="CC-BY-4.0")
    private = checked(make_request, author=requester, category=public_category, title=PRIVATE_CC_BY,
                      data_license="CC-BY-4.0", patient_data="yes")
    assert not private.topic.category.is_public
    return {"claimed": claimed, "good": good_result, "held": held_result, "private": private}


def _in_use(page) -> dict[str, int]:
    """The "Licenses in use here" list: identifier → count."""
    section = page.split("Licenses in use here", 1)[1]
    return {key: int(count) for key, count in re.findall(
        r'<li><a href="/licenses/([^/"]+)/">[^<]+</a>: [^<]+ <span class="muted">\((\d+) items?\)</span></li>',
        section)}


def _items(page) -> str:
    """The list of items under a license, on its page."""
    return page.split("Shared under this license here", 1)[1].split("</article>", 1)[0]


def test_license_list_shows_the_policy(client, catalog):
    page = _page(client.get("/licenses/"))
    table = page.split("<table>", 1)[1].split("</table>", 1)[0]
    rows = {
        re.sub(r"<[^>]+>", "", row[0]).strip(): (re.sub(r"<[^>]+>", "", row[1]), re.sub(r"<[^>]+>", "", row[2]))
        for row in re.findall(r'<th scope="row">(.*?)</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>', table, re.S)
    }
    assert rows == {
        "Data": ("CC-BY-SA-4.0", "CC-BY-SA-4.0, CC-BY-4.0, CC0-1.0"),
        "Numerical or pictorial results": ("BSD-3-Clause", "BSD-3-Clause, BSD-2-Clause"),
        "Code": ("MIT", "Any open-source license approved by the OSI (the SPDX License List marks them)"),
    }
    for key in ("CC-BY-SA-4.0", "CC-BY-4.0", "CC0-1.0", "BSD-3-Clause", "BSD-2-Clause", "MIT"):
        assert f'href="/licenses/{key}/"' in table
    assert "Licensing report for moderators" not in page


# Licenses in use, as each reader counts them: everybody sees the public data and the good result;
# the held result counts for its author and moderators, the private request for its author and moderators.
IN_USE_PUBLIC = {"CC-BY-SA-4.0": 1, "CC-BY-4.0": 1, "BSD-3-Clause": 1}
IN_USE = {
    "anonymous": IN_USE_PUBLIC, "member": IN_USE_PUBLIC, "other_volunteer": IN_USE_PUBLIC,
    "volunteer": {**IN_USE_PUBLIC, "GPL-3.0-only": 1},
    "requester": {**IN_USE_PUBLIC, "CC-BY-4.0": 2},
    "anonymizer": {**IN_USE_PUBLIC, "CC-BY-4.0": 2},
    "moderator": {**IN_USE_PUBLIC, "CC-BY-4.0": 2, "GPL-3.0-only": 1},
}


@pytest.mark.parametrize("role", [_param(role, test="in-use") for role in ROLES])
def test_license_list_counts_the_items_each_reader_may_see(client, as_role, catalog, role):
    """Held items count for their author and moderators; private ones for those who read them."""
    as_role(role)
    page = _page(client.get("/licenses/"))
    assert _in_use(page) == IN_USE[role]
    assert ("Licensing report for moderators" in page) == (role == "moderator")


def test_license_detail_shows_name_summary_links_and_items(client, catalog):
    page = _page(client.get("/licenses/BSD-3-Clause/"))
    assert "<h1>BSD 3-Clause &quot;New&quot; or &quot;Revised&quot; License" in page
    assert ("Anyone may use, change and redistribute it, also commercially, if they keep the copyright notice "
            "and do not use the authors&#x27; names to promote their own work.") in page
    assert 'href="https://opensource.org/licenses/BSD-3-Clause"' in page
    assert 'href="https://spdx.org/licenses/BSD-3-Clause.html"' in page
    assert "Approved by the Open Source Initiative." in page
    assert "Allowed here for: numerical or pictorial results, code." in " ".join(page.split())
    items = _items(page)
    assert items.count("<li>") == 1
    assert f'href="/p/{catalog["good"].post_id}/"' in items and "Synthetic incubation request" in items
    assert "code: MIT" in items and "Result" in items


def test_license_detail_lists_items_whose_code_is_under_it(client, catalog):
    items = _items(_page(client.get("/licenses/MIT/")))
    assert f'href="/p/{catalog["good"].post_id}/"' in items and "code: MIT" in items


@pytest.mark.parametrize("role", [_param(role, test="detail-held") for role in ROLES])
def test_license_detail_lists_held_items_only_for_their_author_and_moderators(client, as_role, catalog, role):
    as_role(role)
    items = _items(_page(client.get("/licenses/GPL-3.0-only/")))
    listed = f'href="/p/{catalog["held"].post_id}/"' in items
    assert listed == (role in SEES_HELD_RESULT)
    assert ('class="badge badge-danger">held<' in items) == (role in SEES_HELD_RESULT)
    if not listed:
        assert "Nothing here is shared under this license yet." in items


@pytest.mark.parametrize("role", [_param(role, test="detail-private") for role in ROLES])
def test_license_detail_never_lists_private_items_to_outsiders(client, as_role, catalog, role):
    as_role(role)
    items = _items(_page(client.get("/licenses/CC-BY-4.0/")))
    assert PUBLIC_CC_BY in items
    assert (PRIVATE_CC_BY in items) == (role in READS_PRIVATE_REQUEST)


@pytest.mark.parametrize("spdx_id", ["No-Such-License-1.0", "bsd-3-clause", "MIT OR Apache-2.0", "report2"])
def test_unknown_license_is_a_404(client, spdx_id):
    assert client.get(f"/licenses/{spdx_id}/").status_code == 404


def test_license_report_lists_held_items_with_their_problems_and_counts(client, moderator, catalog, held_data):
    sign_in(client, moderator)
    page = _page(client.get("/licenses/report/"))
    held, counts = page.split('id="counts-title"', 1)
    assert "Held for licensing problems (2)" in held
    assert f'href="/p/{catalog["held"].post_id}/"' in held
    assert ("Not allowed for numerical or pictorial results: “GPL-3.0-only”. Use BSD-3-Clause (suggested) or "
            "BSD-2-Clause.") in held
    assert "Synthetic request with held data" in held
    assert "Not allowed for data: “GPL-3.0-only”. Use CC-BY-SA-4.0 (suggested), CC-BY-4.0 or CC0-1.0." in held
    assert catalog["good"].repository_url not in held and PUBLIC_CC_BY not in held
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", counts)
    assert sorted(rows) == sorted([
        ("CC-BY-4.0", "data", "2", "0"),
        ("CC-BY-SA-4.0", "data", "1", "0"),
        ("GPL-3.0-only", "data", "1", "1"),
        ("BSD-3-Clause", "numerical or pictorial results", "1", "0"),
        ("GPL-3.0-only", "numerical or pictorial results", "1", "1"),
    ])


# --- Query counts ----------------------------------------------------------------------------------

DATA_LICENSES = ["CC-BY-SA-4.0", "CC-BY-4.0", "CC0-1.0"]


def _seed(people, category, count, *, start=0, checked):
    """`count` requests under the three data licenses, by two requesters, every second one waiting in
    the private channel, every third one with a result (BSD-3-Clause, code MIT) and every sixth with a
    held one (GPL-3.0-only): about `count * 1.5` licensed items, a third of them hidden from visitors."""
    requesters = [people["requester"], people["member_requester"]]
    volunteers = [people["volunteer"], people["other_volunteer"]]
    for n in range(start, start + count):
        data_request = checked(
            make_request, author=requesters[n % 2], category=category, title=f"Synthetic seeded request {n}",
            data_license=DATA_LICENSES[n % 3], patient_data="yes" if n % 4 == 1 else "no")
        if n % 3 == 0 and n % 4 != 1:
            volunteer = volunteers[n % 2]
            services.request_claim(actor=volunteer, data_request_id=data_request.pk)
            checked(services.result_deliver, actor=volunteer, data_request_id=data_request.pk,
                    summary=f"Synthetic seeded result {n}.", repository_url=f"https://github.com/example/seed-{n}",
                    license="GPL-3.0-only" if n % 6 == 0 else "BSD-3-Clause", repository_license="MIT")


@pytest.fixture
def seeded(settings, people, public_category, private_category, checked):
    """A seeding function; `seeded(n)` adds n requests with their items."""
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 1000
    people["member_requester"] = UserFactory(roles=[Role.REQUESTER])
    added = [0]

    def _seeded(count):
        _seed(people, public_category, count, start=added[0], checked=checked)
        added[0] += count
        return LicensedItem.objects.count()
    return _seeded


LICENSE_PAGES = {
    "list": "/licenses/",
    "detail-data": "/licenses/CC-BY-SA-4.0/",
    "detail-result": "/licenses/BSD-3-Clause/",
    "detail-code": "/licenses/MIT/",
    "detail-held": "/licenses/GPL-3.0-only/",
    "report": "/licenses/report/",
}
# Anonymous: the list reads the usage per expression (visibility is a subquery), a detail page its
# items with their topics and authors (joined): one query each.
# From an empty cache: the page's own query, and which categories are public (then kept in the cache,
# forum/permissions/access.py).
QUERIES_ANONYMOUS = {"list": 2, "detail-data": 2, "detail-result": 2, "detail-code": 2, "detail-held": 2}
# Signed in adds the session, the user and the user's and groups' permissions, and the bell's unread
# count (forum.context_processors.notifications); a reader who is not a moderator also the categories
# they moderate (the visibility rule). The report reads the counts per license and the held items with
# their topics and authors.
SIGNED_IN = 5
QUERIES_VOLUNTEER = {page: SIGNED_IN + 1 + count for page, count in QUERIES_ANONYMOUS.items()}
QUERIES_MODERATOR = {**{page: SIGNED_IN + count for page, count in QUERIES_ANONYMOUS.items()}, "report": SIGNED_IN + 2}
READERS = {"anonymous": QUERIES_ANONYMOUS, "volunteer": QUERIES_VOLUNTEER, "moderator": QUERIES_MODERATOR}


def _warm(client):
    """The same start for every measure: an empty cache, then a page that warms what every page reads."""
    cache.clear()
    client.get("/faq/")


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize(("reader", "page"), [
    pytest.param(reader, page, id=f"{reader}-{page}") for reader, pages in READERS.items() for page in pages])
def test_license_pages_run_a_fixed_number_of_queries(
    client, as_role, seeded, reader, page, size, django_assert_max_num_queries,
):
    items = seeded(size)
    assert items >= size
    as_role(reader)
    _warm(client)
    with django_assert_max_num_queries(READERS[reader][page]):
        response = client.get(LICENSE_PAGES[page])
    assert response.status_code == 200


def _count_queries(client, url):
    _warm(client)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_license_page_query_counts_do_not_grow_with_the_data(client, as_role, seeded, reader):
    """The same pages after ten times the items: not one query more (an N+1 would show here)."""
    seeded(3)
    as_role(reader)
    before = {page: _count_queries(client, LICENSE_PAGES[page]) for page in READERS[reader]}
    seeded(27)
    after = {page: _count_queries(client, LICENSE_PAGES[page]) for page in READERS[reader]}
    assert after == before


def test_seeded_license_pages_show_the_seeded_items(client, moderator, seeded):
    """The counts above are taken on pages that really list the seeded items."""
    seeded(30)
    sign_in(client, moderator)
    in_use = _in_use(_page(client.get("/licenses/")))
    assert sum(in_use.values()) == LicensedItem.objects.count()
    assert _items(_page(client.get("/licenses/BSD-3-Clause/"))).count("<li>") == in_use["BSD-3-Clause"] >= 3
    assert _items(_page(client.get("/licenses/MIT/"))).count("<li>") == in_use["BSD-3-Clause"] + in_use[
        "GPL-3.0-only"]
    assert f"Held for licensing problems ({in_use['GPL-3.0-only']})" in _page(client.get("/licenses/report/"))


# --- A request's topic page: badges, attribution, JSON-LD ----------------------------------------

def _attribution(page, attribution_id) -> str:
    """The text of the attribution field `attribution-<id>` (a read-only input or textarea)."""
    match = re.search(rf'<textarea id="attribution-{attribution_id}"[^>]*>([^<]*)</textarea>', page) or re.search(
        rf'<input [^>]*id="attribution-{attribution_id}"[^>]* value="([^"]*)"', page)
    assert match, f"no attribution {attribution_id}"
    return html.unescape(match.group(1))


def _json_ld(page) -> dict:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


@pytest.fixture
def site_name(settings):
    settings.SITE_NAME = "Synthetic Data Help Desk"
    return settings.SITE_NAME


def test_topic_page_links_each_license_badge_to_its_page(client, claimed, good_result, held_result):
    page = _page(client.get(_topic_url(claimed)))
    for key in ("CC-BY-SA-4.0", "BSD-3-Clause", "MIT"):
        assert re.search(rf'<a href="/licenses/{re.escape(key)}/" title="[^"]+" rel="license">{re.escape(key)}</a>',
                         page), key
    assert "/licenses/GPL-3.0-only/" not in page  # the held result's badge is withheld with it


def test_topic_page_offers_attribution_lines(client, site_name, requester, volunteer, claimed, good_result):
    page = _page(client.get(_topic_url(claimed)))
    title = claimed.topic.title
    assert _attribution(page, "data") == (
        f"{title} by {requester.name}, {site_name}, {claimed.published_at.date().isoformat()}, licensed CC-BY-SA-4.0")
    assert _attribution(page, good_result.pk) == (
        f"Result for “{title}” by {volunteer.name}, {site_name}, {good_result.created_at.date().isoformat()}, "
        f"licensed BSD-3-Clause")
    assert re.fullmatch(r".+, \d{4}-\d{2}-\d{2}, licensed BSD-3-Clause", _attribution(page, good_result.pk))


@pytest.mark.parametrize("role", ["anonymous", "volunteer", "moderator"])
def test_topic_json_ld_describes_the_data_and_visible_results(
    client, as_role, site_name, claimed, good_result, held_result, role,
):
    as_role(role)
    data = _json_ld(_page(client.get(_topic_url(claimed))))
    assert data["@context"] == "https://schema.org"
    by_type: dict = {}
    for node in data["@graph"]:
        by_type.setdefault(node["@type"], []).append(node)
    [dataset] = by_type["Dataset"]
    assert dataset["license"] == "https://spdx.org/licenses/CC-BY-SA-4.0.html"
    assert dataset["name"] == claimed.topic.title
    assert dataset["publisher"]["name"] == site_name
    assert {"@type": "DataDownload", "contentUrl": DATA_LINK} in dataset["distribution"]
    # The held result is left out for everybody, its author and moderators too: the metadata is public.
    [work] = by_type["CreativeWork"]
    assert work["license"] == "https://spdx.org/licenses/BSD-3-Clause.html"
    assert work["url"] == settings.SITE_URL.rstrip("/") + good_result.post.get_absolute_url()
    assert work["isBasedOn"] == dataset["@id"]
    assert held_result.post.get_absolute_url() not in json.dumps(data)


def test_topic_json_ld_describes_the_data_by_the_first_posts_current_text(client, claimed, volunteer, monkeypatch):
    """Read from the page's own first post (no query of its own), or looked up on a later page."""
    topic = claimed.topic
    first = topic.posts.get(number=1)
    forum_services.post_edit(actor=claimed.author, post_id=first.pk, raw="Synthetic question, **as edited** since.")
    forum_services.post_create(actor=volunteer, topic_id=topic.pk, raw="Synthetic reply on the second page.")
    monkeypatch.setattr("forum.selectors.topics.POSTS_PER_PAGE", 1)
    for url in (_topic_url(claimed), _topic_url(claimed) + "?page=2"):
        [dataset] = [node for node in _json_ld(_page(client.get(url)))["@graph"] if node["@type"] == "Dataset"]
        assert dataset["description"] == "Synthetic question, **as edited** since.", url


def test_topic_json_ld_leaves_out_held_data(client, held_data):
    page = _page(client.get(_topic_url(held_data)))
    assert 'application/ld+json' not in page


def test_topic_json_ld_cannot_be_broken_out_of(client, requester, public_category, checked):
    title = 'Synthetic </script><script>alert("x")</script> & <!-- request'
    data_request = checked(make_request, author=requester, category=public_category, title=title)
    page = _page(client.get(_topic_url(data_request)))
    data = _json_ld(page)
    assert data["@graph"][0]["name"] == title
    assert "<script>alert(" not in page
    ld = page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in ld and ">" not in ld and "&" not in ld


# --- Forms preselect the suggested licenses and offer only allowed ones ----------------------------

def _options(page, name) -> list[tuple[str, bool]]:
    """(value, selected) of every option of the select called `name`."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name}"
    return [(html.unescape(value), bool(selected))
            for value, selected in re.findall(r'<option value="([^"]*)"( selected)?', select.group(1))]


def test_result_form_preselects_bsd_for_results_and_mit_for_code(client, volunteer, claimed):
    sign_in(client, volunteer)
    page = _page(client.get(f"/requests/{claimed.pk}/result/"))
    assert _options(page, "license") == [("BSD-3-Clause", True), ("BSD-2-Clause", False)]
    code = _options(page, "repository_license")
    assert [value for value, selected in code if selected] == ["MIT"]
    assert code[0] == ("MIT", True) and ("Apache-2.0", False) in code and ("GPL-3.0-only", False) in code
    assert "CC-BY-SA-4.0" not in [value for value, _selected in code]  # not an open-source software license


@pytest.mark.parametrize(("field", "value"), [("license", "GPL-3.0-only"), ("license", "CC-BY-SA-4.0"),
                                              ("repository_license", "CC-BY-SA-4.0")])
def test_result_form_refuses_a_license_not_allowed_here(client, volunteer, claimed, field, value):
    sign_in(client, volunteer)
    data = {"summary": GOOD_SUMMARY, "repository_url": "https://github.com/example/refused",
            "license": "BSD-3-Clause", "repository_license": "MIT", field: value}
    response = client.post(f"/requests/{claimed.pk}/result/", data)
    assert response.status_code == 400
    assert f"“{value}” is not one of the licenses allowed here." in response.content.decode()
    assert not Result.objects.filter(data_request=claimed).exists()


def test_result_license_form_refuses_a_license_not_allowed_here(client, volunteer, held_result):
    sign_in(client, volunteer)
    page = _page(client.get(f"/results/{held_result.pk}/license/"))
    # The current, refused license stays visible, marked, so the author sees what to change.
    assert ("GPL-3.0-only", True) in _options(page, "license")
    response = client.post(f"/results/{held_result.pk}/license/", {"license": "CC0-1.0", "repository_license": "MIT"})
    assert response.status_code == 400
    assert "“CC0-1.0” is not one of the licenses allowed here." in response.content.decode()
    held_result.refresh_from_db()
    assert held_result.license == "GPL-3.0-only"


def test_request_form_preselects_cc_by_sa_for_data(client, requester, public_category):
    sign_in(client, requester)
    page = _page(client.get("/requests/new/"))
    assert _options(page, "data_license") == [("CC-BY-SA-4.0", True), ("CC-BY-4.0", False), ("CC0-1.0", False)]


# --- The Atom feed carries the licenses -------------------------------------------------------------

def _entry(response, title):
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    [entry] = [entry for entry in root.findall(f"{ATOM}entry") if entry.findtext(f"{ATOM}title") == title]
    return entry


def _license_links(entry) -> list[str]:
    return [link.get("href") for link in entry.findall(f"{ATOM}link") if link.get("rel") == "license"]


def test_atom_entry_of_a_request_carries_its_data_license(client, claimed):
    entry = _entry(client.get("/latest.atom"), claimed.topic.title)
    site = settings.SITE_URL.rstrip("/")
    assert entry.findtext(f"{ATOM}rights") == "Licensed CC-BY-SA-4.0"
    assert _license_links(entry) == [f"{site}/licenses/CC-BY-SA-4.0/"]


def test_atom_entry_of_a_solved_request_carries_the_result_license_too(client, accepted):
    entry = _entry(client.get("/latest.atom"), accepted.topic.title)
    site = settings.SITE_URL.rstrip("/")
    assert entry.findtext(f"{ATOM}rights") == "Licensed CC-BY-SA-4.0; BSD-3-Clause"
    assert _license_links(entry) == [f"{site}/licenses/CC-BY-SA-4.0/", f"{site}/licenses/BSD-3-Clause/"]


def test_atom_entry_leaves_out_held_data_licenses(client, held_data):
    entry = _entry(client.get("/latest.atom"), held_data.topic.title)
    assert entry.find(f"{ATOM}rights") is None and _license_links(entry) == []


# --- The anonymous page cache never serves a page from before a hold or a release -------------------

def test_anonymous_topic_page_follows_a_hold_and_a_release_at_once(
    client, settings, claimed, volunteer, moderator, django_capture_on_commit_callbacks,
):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 300
    url = _topic_url(claimed)
    client.get(url)
    assert client.get(url)["X-Cache"] == "hit"
    # Delivered under a license the policy refuses: held in the same transaction, so no page, cached
    # or not, ever shows it to anybody who may not read it.
    with django_capture_on_commit_callbacks(execute=True):
        result = services.result_deliver(
            actor=volunteer, data_request_id=claimed.pk, summary=HELD_SUMMARY,
            repository_url="https://github.com/example/cached", license="GPL-3.0-only")
    assert _item("result", result.pk).is_held
    response = client.get(url)
    assert response.get("X-Cache") != "hit"
    page = _page(response)
    assert HELD_SUMMARY not in page and WITHHELD_NOTE in page
    assert client.get(url)["X-Cache"] == "hit"

    # Its author fixes the licenses: released at once, and the cached page is rendered again.
    with django_capture_on_commit_callbacks(execute=True):
        services.result_license_edit(actor=volunteer, result_id=result.pk, license="BSD-3-Clause",
                                     repository_license="MIT")
    response = client.get(url)
    assert response.get("X-Cache") != "hit"
    page = _page(response)
    assert HELD_SUMMARY in page and WITHHELD_NOTE not in page

    # The policy changes later: the worker's recheck holds it again, and the cache follows.
    assert client.get(url)["X-Cache"] == "hit"
    settings.LICENSING_RESULT_LICENSES = ["BSD-2-Clause"]
    with django_capture_on_commit_callbacks(execute=True):
        licensing_services.items_recheck(apply=True)
    response = client.get(url)
    assert response.get("X-Cache") != "hit"
    assert HELD_SUMMARY not in _page(response)


@pytest.mark.parametrize("url", ["/licenses/", "/licenses/BSD-3-Clause/", "/latest.atom"])
def test_anonymous_license_pages_and_feed_follow_a_hold(client, settings, url, claimed, volunteer, good_result,
                                                        django_capture_on_commit_callbacks):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 300
    before = client.get(url)
    assert client.get(url)["X-Cache"] == "hit"
    settings.LICENSING_RESULT_LICENSES = ["BSD-2-Clause"]  # the policy changes: a recheck holds the result
    with django_capture_on_commit_callbacks(execute=True):
        licensing_services.items_recheck(apply=True)
    assert _item("result", good_result.pk).is_held
    after = client.get(url)
    assert after.get("X-Cache") != "hit"
    if url == "/licenses/BSD-3-Clause/":
        # Allowed, the result is listed under its license; held, it is not.
        assert f'href="/p/{good_result.post_id}/"' in before.content.decode()
        assert f'href="/p/{good_result.post_id}/"' not in after.content.decode()
    elif url == "/licenses/":
        assert "BSD-3-Clause" in _in_use(before.content.decode())
        assert "BSD-3-Clause" not in _in_use(after.content.decode())


@pytest.fixture
def accepted_then_held(settings, accepted, good_result, django_capture_on_commit_callbacks):
    """The policy stops allowing BSD-3-Clause for results after the request was solved: a recheck
    holds its accepted result."""
    settings.LICENSING_RESULT_LICENSES = ["BSD-2-Clause"]
    with django_capture_on_commit_callbacks(execute=True):
        licensing_services.items_recheck(apply=True)
    assert _item("result", good_result.pk).is_held
    return accepted


def test_accepted_result_held_later_leaves_the_feed_page_and_exports(client, accepted_then_held, good_result):
    entry = _entry(client.get("/latest.atom"), accepted_then_held.topic.title)
    assert entry.findtext(f"{ATOM}rights") == "Licensed CC-BY-SA-4.0"
    assert _license_links(entry) == [f"{settings.SITE_URL.rstrip('/')}/licenses/CC-BY-SA-4.0/"]
    page = _page(client.get(_topic_url(accepted_then_held)))
    assert WITHHELD_NOTE in page and GOOD_SUMMARY not in page
    assert f"/requests/{accepted_then_held.pk}/export/" not in page
    response = client.get(f"/requests/{accepted_then_held.pk}/export/")
    assert response.status_code == 302 and response["Location"] == accepted_then_held.topic.get_absolute_url()
    assert "CreativeWork" not in json.dumps(_json_ld(page))


# --- A held result is not quoted, liked or flagged by who may not read it -----------------------------------

@pytest.mark.parametrize("role", [_param(role, test="held-result-quote") for role in ROLES])
def test_a_held_result_is_quoted_liked_and_flagged_only_by_its_readers(client, as_role, claimed, held_result, role):
    from forum.models import Flag, PostLike

    person = as_role(role)
    post = held_result.post
    quote = client.get(f"/t/{post.topic_id}/reply/?quote=1&to={post.number}")
    if quote.status_code == 200:
        assert (HELD_SUMMARY in quote.content.decode()) == (role in SEES_HELD_RESULT)
    client.post(f"/p/{post.pk}/like/")
    client.post(f"/p/{post.pk}/flag/", {"reason": "spam"})
    reads = role in SEES_HELD_RESULT and person is not None and person.pk != post.author_id
    assert PostLike.objects.filter(post=post).exists() == reads
    assert Flag.objects.filter(post=post).exists() == reads
