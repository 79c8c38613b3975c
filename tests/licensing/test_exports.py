"""Export bundles of solved requests: exactly the right files, a CITATION.cff that parses, the real
license texts, attribution lines, one build per content, large bundles on the worker, and refusals."""
import datetime
import io
import zipfile

import pytest
import yaml
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from anonymization import services as anonymization_services
from anonymization.models import Upload
from anonymization.selectors import published_files, published_open
from licensing import bundles
from licensing import services as licensing_services
from licensing.models import ExportBundle, LicensedItem
from requests_board import services
from requests_board.services.lifecycle import InvalidTransition
from tests.anonymization import files
from tests.requests_board.factories import make_claimed

pytestmark = pytest.mark.django_db
BundleState = ExportBundle.State
REPOSITORY = "https://github.com/example/incubation"
SITE = "http://127.0.0.1:8000"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and run what it queued for after commit (scans, publishing, checks, builds)."""
    def _run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)
    return _run


@pytest.fixture
def approve(run, anonymizer):
    def _approve(upload):
        run(anonymization_services.upload_decide, actor=anonymizer, upload_id=upload.pk, decision="approve")
        upload.refresh_from_db()
        assert upload.state == "published"
        return upload
    return _approve


@pytest.fixture
def attach_data(run, requester, approve):
    """The requester attaches a data file to the request; the team approves and it is published."""
    def _attach(data_request, name="weekly.csv", content=None):
        upload = run(services.request_attach, actor=requester, data_request_id=data_request.pk,
                     file=files.uploaded(name, content or files.clean_aggregated_csv()), ip="192.0.2.1")
        return approve(upload)
    return _attach


@pytest.fixture
def delivered(run, requester, volunteer, public_category, attach_data, approve):
    """A request with a published CSV of data, and a result under BSD-3-Clause with a published PNG figure."""
    data_request, _claim = run(make_claimed, author=requester, volunteer=volunteer, category=public_category)
    attach_data(data_request)
    result = run(services.result_deliver, actor=volunteer, data_request_id=data_request.pk,
                 summary="The median is 5.1 days (synthetic); see the figure.", repository_url=REPOSITORY,
                 license="BSD-3-Clause", attachment=files.uploaded("figure.png", files.plain_png()), ip="192.0.2.2")
    approve(Upload.objects.get(post_id=result.post_id))
    data_request.refresh_from_db()
    return data_request, result


@pytest.fixture
def accepted(run, requester, delivered):
    data_request, result = delivered
    run(services.result_accept, actor=requester, result_id=result.pk)
    data_request.refresh_from_db()
    result.refresh_from_db()
    return data_request, result


def unzip(bundle) -> zipfile.ZipFile:
    with services.export_open(bundle=bundle) as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def root_of(data_request) -> str:
    return f"estimate-the-incubation-period-for-jane-testpatients-synthetic-cohort-{data_request.pk}/"


def read(archive, data_request, name) -> str:
    return archive.read(root_of(data_request) + name).decode()


# --- The bundle ------------------------------------------------------------------------------------

def test_an_accepted_request_exports_exactly_its_files_under_one_folder(run, accepted, requester):
    data_request, _result = accepted
    bundle = run(services.export_request, actor=requester, data_request=data_request)
    assert (bundle.state, bundle.progress, bundle.error) == (BundleState.READY, 100, "")
    assert bundle.file_name == root_of(data_request)[:-1] + ".zip"
    assert bundle.requested_by == requester and bundle.size > 0 and bundle.finished_at is not None
    archive = unzip(bundle)
    assert archive.testzip() is None
    root = root_of(data_request)
    assert sorted(archive.namelist()) == sorted(root + name for name in [
        "README.md", "CITATION.cff", "question.md", "result.md", "data/weekly.csv", "results/figure.png",
        "LICENSES/CC-BY-SA-4.0.txt", "LICENSES/BSD-3-Clause.txt",
    ])


def test_the_bundle_holds_the_published_copies_of_the_files(run, accepted, requester):
    data_request, _result = accepted
    archive = unzip(run(services.export_request, actor=requester, data_request=data_request))
    for upload in published_files(topic_id=data_request.topic_id):
        folder = "results" if upload.post_id else "data"
        with published_open(upload=upload) as handle:
            published = handle.read()
        assert archive.read(f"{root_of(data_request)}{folder}/{upload.published_version.original_name}") == published
    assert read(archive, data_request, "data/weekly.csv").startswith("region,week,age_band")


def test_citation_cff_parses_and_describes_the_request(run, accepted, requester, volunteer):
    data_request, _result = accepted
    archive = unzip(run(services.export_request, actor=requester, data_request=data_request))
    citation = yaml.safe_load(read(archive, data_request, "CITATION.cff"))
    assert citation["cff-version"] == "1.2.0"
    assert citation["type"] == "dataset"
    assert citation["title"] == data_request.topic.title
    assert citation["authors"] == [
        {"given-names": " ".join(person.name.split()[:-1]), "family-names": person.name.split()[-1]}
        for person in (requester, volunteer)
    ]
    # The result's license on the work; the data it builds on is a reference under its own license.
    assert citation["license"] == "BSD-3-Clause"
    assert [(ref["type"], ref["license"]) for ref in citation["references"]] == [("dataset", "CC-BY-SA-4.0")]
    assert str(citation["date-released"]) == data_request.accepted_at.date().isoformat()
    assert citation["url"] == SITE + data_request.get_absolute_url()
    assert citation["repository-code"] == REPOSITORY
    assert citation["abstract"].startswith("A CSV of 120 *synthetic* case reports.")


def test_license_files_hold_the_real_license_texts(run, accepted, requester):
    data_request, _result = accepted
    archive = unzip(run(services.export_request, actor=requester, data_request=data_request))
    by_sa = read(archive, data_request, "LICENSES/CC-BY-SA-4.0.txt")
    bsd = read(archive, data_request, "LICENSES/BSD-3-Clause.txt")
    assert "Attribution-ShareAlike 4.0" in by_sa and len(by_sa) > 10_000
    assert "Redistribution and use in source and binary forms" in bsd
    assert "Neither the name of the copyright holder" in bsd


def test_readme_credits_data_and_result_in_the_attribution_format(run, accepted, requester, volunteer):
    data_request, result = accepted
    archive = unzip(run(services.export_request, actor=requester, data_request=data_request))
    readme = read(archive, data_request, "README.md")
    title = data_request.topic.title
    published, delivered = data_request.published_at.date().isoformat(), result.created_at.date().isoformat()
    assert readme.startswith(f"# {title}\n")
    assert f"- Data: {title} by {requester.name}, Data Help Desk, {published}, licensed CC-BY-SA-4.0\n" in readme
    assert (f"- Result: Result for “{title}” by {volunteer.name}, Data Help Desk, {delivered}, "
            f"licensed BSD-3-Clause\n") in readme
    assert "- `data/weekly.csv`: CC-BY-SA-4.0\n" in readme
    assert "- `results/figure.png`: BSD-3-Clause\n" in readme
    assert f"- Repository: {REPOSITORY}\n" in readme
    assert f"- BSD-3-Clause: LICENSES/BSD-3-Clause.txt ({SITE}/licenses/BSD-3-Clause/)" in readme
    assert "- https://zenodo.org/records/0000001" in readme
    result_md = read(archive, data_request, "result.md")
    assert "The median is 5.1 days (synthetic)" in result_md and "- License: BSD-3-Clause" in result_md
    assert read(archive, data_request, "question.md") == (
        f"# {title}\n\nA CSV of 120 *synthetic* case reports. How long is the incubation period?\n")


def test_the_attribution_line_has_the_documented_format():
    line = bundles.attribution(title="Weekly counts", author="Ada Example", site="Data Help Desk",
                               date=datetime.date(2020, 5, 17), expression="CC-BY-4.0")
    assert line == "Weekly counts by Ada Example, Data Help Desk, 2020-05-17, licensed CC-BY-4.0"


def test_asking_twice_returns_the_same_bundle_without_building_again(run, accepted, requester, volunteer,
                                                                     monkeypatch):
    data_request, _result = accepted
    first = run(services.export_request, actor=requester, data_request=data_request)
    builds = []
    monkeypatch.setattr(services.exports, "export_build", lambda **kwargs: builds.append(kwargs))
    again = run(services.export_request, actor=volunteer, data_request=data_request)
    assert again.pk == first.pk and again.state == BundleState.READY and builds == []
    assert (again.storage_name, again.finished_at, again.requested_by) == (
        first.storage_name, first.finished_at, requester)
    assert ExportBundle.objects.count() == 1


def test_anybody_who_reads_a_public_solved_request_may_export_it(run, accepted):
    data_request, _result = accepted
    bundle = run(services.export_request, actor=AnonymousUser(), data_request=data_request)
    assert bundle.state == BundleState.READY and bundle.requested_by is None


def test_a_newly_published_file_makes_a_new_bundle(run, accepted, requester, attach_data):
    data_request, _result = accepted
    first = run(services.export_request, actor=requester, data_request=data_request)
    attach_data(data_request, name="extra.csv")
    second = run(services.export_request, actor=requester, data_request=data_request)
    assert second.pk != first.pk and second.fingerprint != first.fingerprint
    assert root_of(data_request) + "data/extra.csv" in unzip(second).namelist()
    assert root_of(data_request) + "data/extra.csv" not in unzip(first).namelist()


def test_files_with_the_same_name_get_distinct_paths(run, accepted, requester, attach_data):
    data_request, _result = accepted
    attach_data(data_request, name="weekly.csv")
    archive = unzip(run(services.export_request, actor=requester, data_request=data_request))
    names = archive.namelist()
    assert root_of(data_request) + "data/weekly.csv" in names
    assert root_of(data_request) + "data/weekly-2.csv" in names
    assert len(names) == len(set(names))


def test_the_readme_lists_the_paths_that_are_in_the_zip(run, accepted, requester, attach_data):
    data_request, _result = accepted
    attach_data(data_request, name="weekly.csv")
    archive = unzip(run(services.export_request, actor=requester, data_request=data_request))
    readme = read(archive, data_request, "README.md")
    assert "`data/weekly-2.csv`" in readme


# --- Large bundles on the worker ----------------------------------------------------------------------

def test_a_large_bundle_is_queued_and_built_on_commit_with_progress(django_capture_on_commit_callbacks, settings,
                                                                    accepted, requester, monkeypatch):
    settings.LICENSING_EXPORT_INLINE_BYTES = 0
    data_request, _result = accepted
    seen = []
    record = licensing_services.bundle_progress

    def progress(*, bundle, progress):
        record(bundle=bundle, progress=progress)
        seen.append(ExportBundle.objects.values_list("state", "progress").get(pk=bundle.pk))

    monkeypatch.setattr(licensing_services, "bundle_progress", progress)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        bundle = services.export_request(actor=requester, data_request=data_request)
        assert (bundle.state, bundle.progress, bundle.storage_name) == (BundleState.QUEUED, 0, "")
    assert len(queued) == 1
    assert seen and all(state == BundleState.BUILDING and 0 < percent < 100 for state, percent in seen)
    assert [percent for _state, percent in seen] == sorted(percent for _state, percent in seen)
    bundle.refresh_from_db()
    assert (bundle.state, bundle.progress) == (BundleState.READY, 100)
    assert len(unzip(bundle).namelist()) == 8


def test_a_queued_bundle_whose_request_changed_fails_and_asking_again_builds_anew(
        django_capture_on_commit_callbacks, run, settings, accepted, requester, moderator):
    settings.LICENSING_EXPORT_INLINE_BYTES = 0
    data_request, result = accepted
    stale = services.export_request(actor=requester, data_request=data_request)  # never committed: waits
    run(services.result_license_edit, actor=moderator, result_id=result.pk, license="BSD-2-Clause",
        repository_license="MIT")
    assert services.export_build(bundle_id=stale.pk) is False
    stale.refresh_from_db()
    assert stale.state == BundleState.FAILED and "changed while the bundle waited" in stale.error
    fresh = run(services.export_request, actor=requester, data_request=data_request)
    fresh.refresh_from_db()
    assert fresh.pk != stale.pk and fresh.state == BundleState.READY
    assert "- License: BSD-2-Clause" in read(unzip(fresh), data_request, "result.md")


def test_building_a_built_bundle_again_does_nothing(run, accepted, requester):
    data_request, _result = accepted
    bundle = run(services.export_request, actor=requester, data_request=data_request)
    assert services.export_build(bundle_id=bundle.pk) is False
    again = ExportBundle.objects.get(pk=bundle.pk)
    assert (again.storage_name, again.finished_at) == (bundle.storage_name, bundle.finished_at)


def test_stalled_bundles_are_found_for_the_worker(settings, accepted, requester):
    settings.LICENSING_EXPORT_INLINE_BYTES = 0
    data_request, _result = accepted
    bundle = services.export_request(actor=requester, data_request=data_request)  # its task never ran
    assert licensing_services.bundles_stalled() == []
    ExportBundle.objects.filter(pk=bundle.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert licensing_services.bundles_stalled() == [bundle.pk]


# --- Refusals -----------------------------------------------------------------------------------------

def test_export_refused_for_a_request_not_accepted(delivered, requester):
    data_request, _result = delivered
    with pytest.raises(PermissionDenied, match="Only solved requests"):
        services.export_request(actor=requester, data_request=data_request)
    assert not ExportBundle.objects.exists()


def test_export_refused_while_the_accepted_result_is_held(run, accepted, requester, moderator):
    data_request, result = accepted
    run(services.result_license_edit, actor=moderator, result_id=result.pk, license="GPL-3.0-only",
        repository_license="MIT")
    assert LicensedItem.objects.get(item_type="result", object_id=result.pk).is_held
    with pytest.raises(InvalidTransition, match="held for its license"):
        services.export_request(actor=requester, data_request=data_request)
    assert not ExportBundle.objects.exists()


def test_a_held_data_license_leaves_the_data_out_of_the_bundle(run, settings, accepted, requester):
    data_request, _result = accepted
    settings.LICENSING_DATA_LICENSES = ["CC0-1.0"]
    run(licensing_services.items_recheck, apply=True)
    assert LicensedItem.objects.get(item_type="dataset", object_id=data_request.pk).is_held
    archive = unzip(run(services.export_request, actor=requester, data_request=data_request))
    root = root_of(data_request)
    assert sorted(archive.namelist()) == sorted(root + name for name in [
        "README.md", "CITATION.cff", "question.md", "result.md", "results/figure.png", "LICENSES/BSD-3-Clause.txt",
    ])
    readme = read(archive, data_request, "README.md")
    assert "data files are held for their license and are not included" in readme and "- Data:" not in readme
    assert yaml.safe_load(read(archive, data_request, "CITATION.cff"))["license"] == "BSD-3-Clause"


# --- CITATION.cff ---------------------------------------------------------------------------------

TRICKY_TITLES = [
    'He said "hi": yes', "key: value", "a: b: c", "Line one\nLine two", "Carriage\r\nreturn", "- starts like a list",
    "# starts like a comment", "&anchor *alias !tag %directive @at `tick`", "{flow: map}", "[flow, seq]",
    "back\\slash \\n not a newline", "tab\there", "'single' and \"double\"", "null", "yes", "no", "~", "2020-01-01",
    "1.2.0", "", " leading and trailing ", "émigré ünïcödé 😀", "a\u2028b", "---", "...", "? question", "| block",
    "> folded",
]


@pytest.mark.parametrize("title", TRICKY_TITLES, ids=range(len(TRICKY_TITLES)))
def test_citation_cff_escapes_titles_so_yaml_reads_them_back_exactly(title):
    text = bundles.citation_cff(
        title=title, authors=[bundles.Author('Ann "Q" O\'Neil: Jr'), bundles.Author("Plato", "0000-0002-1825-0097")],
        date_released=datetime.date(2020, 1, 2), url="https://example.org/t/x/1/", license="MIT",
        abstract=f"Abstract: {title}", keywords=[title, "covid-19"])
    citation = yaml.safe_load(text)
    assert citation["title"] == title
    assert citation["abstract"] == f"Abstract: {title}"
    assert citation["keywords"] == [title, "covid-19"]
    assert citation["authors"] == [
        {"given-names": 'Ann "Q" O\'Neil:', "family-names": "Jr"},
        {"alias": "Plato", "orcid": "https://orcid.org/0000-0002-1825-0097"},
    ]
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT"
    assert str(citation["date-released"]) == "2020-01-02"


def test_citation_cff_leaves_out_a_compound_license_and_empty_fields():
    # CFF's license list means "any of these": an AND cannot be written there without granting more.
    citation = yaml.safe_load(bundles.citation_cff(
        title="T", authors=[bundles.Author("")], date_released=datetime.date(2021, 3, 4), url="https://x.test/",
        license="BSD-3-Clause AND CC-BY-SA-4.0"))
    assert "license" not in citation
    assert citation["authors"] == [{"alias": "anonymous"}]
    assert not {"abstract", "repository-code", "keywords"} & set(citation)


@pytest.mark.parametrize("character", ["\x7f", "\x80", "\x9f", "\ufffe"])
def test_citation_cff_escapes_characters_yaml_forbids(character):
    title = f"Weekly{character}counts"
    text = bundles.citation_cff(title=title, authors=[bundles.Author("Ada Example")],
                                date_released=datetime.date(2020, 1, 2), url="https://x.test/", license="MIT")
    assert yaml.safe_load(text)["title"] == title
