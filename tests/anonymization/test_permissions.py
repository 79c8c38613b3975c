"""Who may see and do what with quarantined files: every role against every URL of the
anonymization app, the download links included.

The rule: the triage queue is for the anonymization team, moderators and admins; an upload's
page, its report and its private thread are for its uploader too; only the team decides, and
nobody approves their own upload; only the uploader sends a new version. A quarantined file
leaves only through a signed link made for the very person using it, until it expires. A
published copy is for whoever can read the request it belongs to.

Whoever may not see something gets a 404, like something missing: never a 403, never a
redirect to sign in, and nothing changes. Whoever may see an upload but not do this (the
uploader deciding, a team member sending a version) gets the page back (400), nothing changes,
and they should read why (`test_refusal_says_why`). What they may do happens, and is audited.
"""
import datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from anonymization.models import AuditRecord, ReviewMessage, Upload, UploadVersion
from anonymization.selectors import download_token
from anonymization.services import Decision, upload_decide
from forum.models import Category, Notification, OutboundEmail
from forum.permissions import Role
from requests_board import services as request_services
from requests_board.models import DataRequest
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_request, request_details

from . import files

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "member", "other_requester", "uploader", "volunteer", "moderator", "anonymizer", "admin"]
# Who triages: the anonymization team, moderators, and admins (superusers hold every permission).
TEAM = {"moderator", "anonymizer", "admin"}
# Who sees an upload's page, its report, its versions and its private thread.
SEES_UPLOAD = TEAM | {"uploader"}
# Who reads a request's topic while it waits in the private Anonymization channel: its author
# (here the uploader), the channel's groups (moderators, the anonymization team) and admins.
READS_PRIVATE_TOPIC = TEAM | {"uploader"}

OK = "ok"  # the page, the file, or the step happens
NOT_FOUND = "404"  # may not see it: like something missing, nothing changes
REFUSED = "refused"  # may see it, may not do this: the page comes back (400), nothing changes

FILE_NAME = "synthetic-ward-list.csv"
FILE_CONTENT = files.identifying_columns_csv()
PUBLIC_NAME = "synthetic-regional-counts.csv"
PUBLIC_CONTENT = files.clean_aggregated_csv()
OTHER_FILE_NAME = "synthetic-swab-counts.csv"
CLIENT_IP = "127.0.0.1"  # the test client's REMOTE_ADDR
REASON = "Please drop the synthetic names column."

# Known wrong outcomes in the matrices, by (URL, ..., role): each an xfail(strict) naming the bug.
BUGS: dict = {}


def _param(*values, bug_key=None):
    key = bug_key if bug_key is not None else values
    marks = [pytest.mark.xfail(strict=True, reason=BUGS[key])] if key in BUGS else []
    return pytest.param(*values, marks=marks, id="-".join(str(value) for value in values))


# --- People and files ---------------------------------------------------------------------------

@pytest.fixture
def people(requester, volunteer, moderator, anonymizer, public_category):
    """One person per role. `other_requester` asks a request of their own, with a file of their own
    (left being scanned)."""
    other_requester = UserFactory(roles=[Role.REQUESTER])
    other_request = make_request(other_requester, public_category, title="Another synthetic request")
    request_services.request_attach(actor=other_requester, data_request_id=other_request.pk,
                                    file=files.uploaded(OTHER_FILE_NAME, PUBLIC_CONTENT), ip="192.0.2.9")
    return {
        "anonymous": None,
        "member": UserFactory(),
        "other_requester": other_requester,
        "uploader": requester,
        "volunteer": volunteer,
        "moderator": moderator,
        "anonymizer": anonymizer,
        "admin": UserFactory(is_superuser=True, is_staff=True, totp=True),
    }


@pytest.fixture
def user_for(client, people):
    """Sign the test client in as `role` (or leave it anonymous); returns the person."""
    def _as(role):
        person = people[role]
        if person is not None:
            sign_in(client, person)
        return person
    return _as


@pytest.fixture
def scanned(attach, django_capture_on_commit_callbacks):
    """Attach a file and let its scan run: a file of a request declared identifying waits for review."""
    def _scanned(data_request, name=FILE_NAME, content=FILE_CONTENT, *, actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            upload = attach(data_request, name, content, actor=actor)
        upload.refresh_from_db()
        assert upload.state == Upload.State.REVIEW
        return upload
    return _scanned


@pytest.fixture
def in_review(people, pending_request, scanned):
    """The uploader's file on their request waiting in the Anonymization channel, scanned, waiting."""
    return scanned(pending_request)


@pytest.fixture
def sent_back(in_review, anonymizer):
    """The same file, sent back to the uploader for changes."""
    upload_decide(actor=anonymizer, upload_id=in_review.pk, decision=Decision.CHANGES, reason=REASON)
    in_review.refresh_from_db()
    assert in_review.state == Upload.State.CHANGES
    return in_review


def _approve(upload, actor, capture):
    with capture(execute=True):
        upload_decide(actor=actor, upload_id=upload.pk, decision=Decision.APPROVE)
    upload.refresh_from_db()
    assert upload.state == Upload.State.PUBLISHED
    return upload


@pytest.fixture
def published_public(people, pending_request, scanned, anonymizer, django_capture_on_commit_callbacks):
    """A published file whose request, once waiting in the Anonymization channel, became public
    when the file was approved."""
    upload = _approve(scanned(pending_request, PUBLIC_NAME, PUBLIC_CONTENT), anonymizer,
                      django_capture_on_commit_callbacks)
    pending_request.refresh_from_db()
    assert pending_request.cleared_at is not None
    assert pending_request.topic.category.security == Category.Security.PUBLIC
    return upload


def _redeclare_identifying(data_request):
    """The requester says, after all, that the data may identify a patient: back to the private channel."""
    details = request_details(data_request.category, title=data_request.title, patient_data="yes")
    details.pop("category")
    details["expertise"] = ", ".join(details["expertise"])
    details["data_links"] = "\n".join(details["data_links"])
    request_services.request_edit(actor=data_request.author, data_request_id=data_request.pk, details=details)


@pytest.fixture
def published_private(people, public_request, scanned, anonymizer, django_capture_on_commit_callbacks):
    """A published file of a request whose topic went (back) into the private Anonymization channel."""
    upload = _approve(scanned(public_request, PUBLIC_NAME, PUBLIC_CONTENT), anonymizer,
                      django_capture_on_commit_callbacks)
    _redeclare_identifying(public_request)
    public_request.refresh_from_db()
    assert public_request.topic.category.security == Category.Security.PRIVATE
    return upload


# --- Helpers ------------------------------------------------------------------------------------

def _quarantine_files(storage_root) -> list:
    folder = Path(storage_root) / "quarantine"
    return sorted(str(path) for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


@pytest.fixture
def snapshot(_upload_storage):
    """Everything a request to these URLs could change, files in quarantine included."""
    def _snapshot():
        return {
            "uploads": list(Upload.objects.order_by("pk").values_list(
                "pk", "state", "current_version_id", "decided_at", "decided_by_id", "decision_reason",
                "published_version_id", "published_at",
            )),
            "versions": list(UploadVersion.objects.order_by("pk").values_list("pk", "scan_state", "superseded_at")),
            "messages": list(ReviewMessage.objects.order_by("pk").values_list("pk", "raw")),
            "audit": list(AuditRecord.objects.exclude(action=AuditRecord.Action.REPORT_VIEWED)
                          .order_by("pk").values_list("pk", "action", "actor_id")),
            # Recorded views of a report: a refused POST shows the page again, so may add one.
            "views": list(AuditRecord.objects.filter(action=AuditRecord.Action.REPORT_VIEWED)
                          .order_by("pk").values_list("pk", "actor_id")),
            "notifications": Notification.objects.count(),
            "emails": OutboundEmail.objects.count(),
            "requests": list(DataRequest.objects.order_by("pk").values_list("pk", "cleared_at", "topic__category_id")),
            "quarantine": _quarantine_files(_upload_storage),
        }
    return _snapshot


def _assert_not_found(response, before, snapshot, *secrets):
    assert response.status_code == 404, response.get("Location")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    for secret in secrets:
        assert secret.encode() not in body
    assert snapshot() == before


def _assert_refused(response, before, snapshot):
    """Refused: the page comes back (400) and nothing changed (showing the page again may record a
    view of the report). Whether it says why is tested once per refusal in `test_refusal_says_why`."""
    assert response.status_code == 400
    after = snapshot()
    assert {**after, "views": None} == {**before, "views": None}


def _new_audit(before, action):
    known = {row[0] for row in before["audit"] + before["views"]}
    return [record for record in AuditRecord.objects.filter(action=action).order_by("pk") if record.pk not in known]


def _assert_audited(before, action, *, actor, upload, version=None):
    """Exactly one new audit record of `action`, saying who did it and from where."""
    records = _new_audit(before, action)
    assert len(records) == 1, records
    record = records[0]
    assert record.actor_id == actor.pk
    assert record.ip == CLIENT_IP
    assert record.upload_id == upload.pk
    if version is not None:
        assert record.version_id == version.pk


def _read(response) -> bytes:
    # Reading to the end closes the file (the test client's wrapper); an extra close() would
    # send request_finished again and close the test's database connection on PostgreSQL.
    return b"".join(response.streaming_content)


def _assert_attachment(response, name):
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert name in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


# --- The triage queue ---------------------------------------------------------------------------

def expected_queue(role):
    return OK if role in TEAM else NOT_FOUND


@pytest.mark.parametrize(("role", "outcome"), [_param(role, expected_queue(role), bug_key=("queue", role))
                                               for role in ROLES])
def test_queue_only_for_the_team(client, user_for, in_review, snapshot, role, outcome):
    user_for(role)
    before = snapshot()
    response = client.get(reverse("anonymization:queue"))
    if outcome == NOT_FOUND:
        _assert_not_found(response, before, snapshot, FILE_NAME)
        return
    assert response.status_code == 200
    assert FILE_NAME in response.content.decode()
    assert snapshot() == before


# --- The item page ------------------------------------------------------------------------------

def expected_item(role):
    return OK if role in SEES_UPLOAD else NOT_FOUND


@pytest.mark.parametrize(("role", "outcome"), [_param(role, expected_item(role), bug_key=("item", role))
                                               for role in ROLES])
def test_item_page_only_for_uploader_and_team_and_audited(client, user_for, in_review, snapshot, role, outcome):
    person = user_for(role)
    before = snapshot()
    response = client.get(reverse("anonymization:upload-detail", args=[in_review.pk]))
    if outcome == NOT_FOUND:
        _assert_not_found(response, before, snapshot, FILE_NAME)
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert FILE_NAME in page
    assert ("Audit log" in page) == (role in TEAM)  # the audit log is for the team, not the uploader
    _assert_audited(before, AuditRecord.Action.REPORT_VIEWED, actor=person, upload=in_review,
                    version=in_review.current_version)


def test_item_page_of_a_missing_upload_is_404_for_the_team(client, user_for):
    user_for("anonymizer")
    assert client.get(reverse("anonymization:upload-detail", args=[999_999])).status_code == 404


def test_uploader_of_another_file_sees_their_own_upload_only(client, people, user_for, in_review):
    user_for("other_requester")
    own = Upload.objects.get(uploader=people["other_requester"])
    response = client.get(reverse("anonymization:upload-detail", args=[own.pk]))
    assert response.status_code == 200 and OTHER_FILE_NAME in response.content.decode()
    assert client.get(reverse("anonymization:upload-detail", args=[in_review.pk])).status_code == 404


def test_report_shown_again_after_an_invalid_post_is_audited(client, people, user_for, in_review, snapshot):
    person = user_for("anonymizer")
    before = snapshot()
    response = client.post(reverse("anonymization:message-create", args=[in_review.pk]), {"raw": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert FILE_NAME in page and "Download for review" in page  # the report and its links, shown again
    _assert_audited(before, AuditRecord.Action.REPORT_VIEWED, actor=person, upload=in_review)


# --- The private thread -------------------------------------------------------------------------

MESSAGE = "Is the synthetic postcode column needed at all?"


@pytest.mark.parametrize(("role", "outcome"), [_param(role, expected_item(role), bug_key=("message", role))
                                               for role in ROLES])
def test_message_only_from_uploader_and_team(client, user_for, in_review, snapshot, role, outcome):
    person = user_for(role)
    before = snapshot()
    response = client.post(reverse("anonymization:message-create", args=[in_review.pk]), {"raw": MESSAGE})
    if outcome == NOT_FOUND:
        _assert_not_found(response, before, snapshot, FILE_NAME)
        return
    assert response.status_code == 302
    assert response["Location"] == in_review.get_absolute_url()
    message = ReviewMessage.objects.get(upload=in_review, raw=MESSAGE)
    assert message.author_id == person.pk
    _assert_audited(before, AuditRecord.Action.MESSAGE, actor=person, upload=in_review)


@pytest.mark.parametrize("role", sorted(SEES_UPLOAD))
def test_message_refused_once_the_review_is_over(client, user_for, rejected, snapshot, role):
    user_for(role)
    before = snapshot()
    response = client.post(reverse("anonymization:message-create", args=[rejected.pk]), {"raw": MESSAGE})
    _assert_refused(response, before, snapshot)


# --- Decisions ----------------------------------------------------------------------------------

DECIDED_STATE = {
    Decision.APPROVE: Upload.State.PUBLISHED,
    Decision.CHANGES: Upload.State.CHANGES,
    Decision.REJECT: Upload.State.REJECTED,
}
DECIDED_ACTION = {
    Decision.APPROVE: AuditRecord.Action.APPROVED,
    Decision.CHANGES: AuditRecord.Action.CHANGES_REQUESTED,
    Decision.REJECT: AuditRecord.Action.REJECTED,
}


def expected_decide(role):
    if role in TEAM:
        return OK
    return REFUSED if role in SEES_UPLOAD else NOT_FOUND


@pytest.mark.parametrize(("decision", "role", "outcome"), [
    _param(decision, role, expected_decide(role), bug_key=("decide", decision, role))
    for decision in Decision.ALL for role in ROLES
])
def test_decide_only_by_the_team(client, user_for, in_review, pending_request, snapshot,
                                 django_capture_on_commit_callbacks, decision, role, outcome):
    person = user_for(role)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("anonymization:upload-decide", args=[in_review.pk]),
                               {"decision": decision, "reason": REASON, "version": in_review.current_version_id})
    if outcome == NOT_FOUND:
        _assert_not_found(response, before, snapshot, FILE_NAME)
        return
    if outcome == REFUSED:
        _assert_refused(response, before, snapshot)
        return
    assert response.status_code == 302
    assert response["Location"] == in_review.get_absolute_url()
    in_review.refresh_from_db()
    assert in_review.state == DECIDED_STATE[decision]
    assert in_review.decided_by_id == person.pk
    _assert_audited(before, DECIDED_ACTION[decision], actor=person, upload=in_review,
                    version=in_review.current_version)
    pending_request.refresh_from_db()
    # Approving a file of a request waiting in the channel makes the request public; the other
    # decisions leave it waiting.
    assert (pending_request.cleared_at is not None) == (decision == Decision.APPROVE)


@pytest.mark.parametrize("uploader_role", ["moderator", "admin"])
def test_nobody_approves_their_own_upload(client, people, user_for, pending_request, scanned, snapshot,
                                          django_capture_on_commit_callbacks, uploader_role):
    upload = scanned(pending_request, actor=people[uploader_role])
    user_for(uploader_role)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("anonymization:upload-decide", args=[upload.pk]),
                               {"decision": Decision.APPROVE, "reason": "", "version": upload.current_version_id})
    _assert_refused(response, before, snapshot)
    # A colleague can.
    client.logout()
    user_for("anonymizer")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("anonymization:upload-decide", args=[upload.pk]),
                               {"decision": Decision.APPROVE, "reason": "", "version": upload.current_version_id})
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.state == Upload.State.PUBLISHED and upload.decided_by_id == people["anonymizer"].pk


@pytest.mark.parametrize("decision", [Decision.CHANGES, Decision.REJECT])
def test_moderator_may_send_back_or_reject_their_own_upload(client, people, user_for, pending_request, scanned,
                                                            decision):
    upload = scanned(pending_request, actor=people["moderator"])
    user_for("moderator")
    response = client.post(reverse("anonymization:upload-decide", args=[upload.pk]),
                           {"decision": decision, "reason": REASON, "version": upload.current_version_id})
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.state == DECIDED_STATE[decision]


@pytest.mark.parametrize("role", sorted(TEAM))
def test_decide_refused_when_not_waiting_for_review(client, user_for, sent_back, snapshot, role):
    user_for(role)
    before = snapshot()
    response = client.post(reverse("anonymization:upload-decide", args=[sent_back.pk]),
                           {"decision": Decision.REJECT, "reason": REASON, "version": sent_back.current_version_id})
    _assert_refused(response, before, snapshot)


# --- New versions -------------------------------------------------------------------------------

NEW_NAME = "synthetic-ward-list-v2.csv"


def expected_version(role):
    if role == "uploader":
        return OK
    return REFUSED if role in SEES_UPLOAD else NOT_FOUND


@pytest.fixture
def upload_in(request):
    """The upload in the state the test names ("review" or "changes")."""
    def _upload(state):
        return request.getfixturevalue({"review": "in_review", "changes": "sent_back"}[state])
    return _upload


@pytest.mark.parametrize(("state", "role", "outcome"), [
    _param(state, role, expected_version(role), bug_key=("version", state, role))
    for state in ("review", "changes") for role in ROLES
])
def test_new_version_only_from_the_uploader_while_under_review(
    client, user_for, upload_in, snapshot, django_capture_on_commit_callbacks, state, role, outcome,
):
    upload = upload_in(state)
    person = user_for(role)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("anonymization:version-create", args=[upload.pk]),
                               {"file": files.uploaded(NEW_NAME, PUBLIC_CONTENT)})
    if outcome == NOT_FOUND:
        _assert_not_found(response, before, snapshot, FILE_NAME)
        return
    if outcome == REFUSED:
        _assert_refused(response, before, snapshot)
        return
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.current_version.number == 2
    assert upload.current_version.original_name == NEW_NAME
    assert upload.current_version.uploaded_by_id == person.pk
    # Scanned after commit: the declared-identifying request sends it back to the team.
    assert upload.current_version.scan_state == UploadVersion.Scan.DONE
    assert upload.state == Upload.State.REVIEW
    assert UploadVersion.objects.get(upload=upload, number=1).superseded_at is not None
    _assert_audited(before, AuditRecord.Action.NEW_VERSION, actor=person, upload=upload,
                    version=upload.current_version)


@pytest.mark.parametrize("decision", [Decision.APPROVE, Decision.REJECT])
def test_new_version_refused_to_the_uploader_after_the_decision(
    client, user_for, in_review, anonymizer, snapshot, django_capture_on_commit_callbacks, decision,
):
    with django_capture_on_commit_callbacks(execute=True):
        upload_decide(actor=anonymizer, upload_id=in_review.pk, decision=decision, reason=REASON)
    user_for("uploader")
    before = snapshot()
    response = client.post(reverse("anonymization:version-create", args=[in_review.pk]),
                           {"file": files.uploaded(NEW_NAME, PUBLIC_CONTENT)})
    _assert_refused(response, before, snapshot)


# --- Refusals say why ---------------------------------------------------------------------------

# Each refusal: who tries, on which upload, which POST, and the reason they must read.
REFUSALS = {
    "approve-own-upload": ("moderator", "own_upload", "decide", "You cannot approve your own upload"),
    "decide-after-a-colleague": ("anonymizer", "sent_back", "decide", "not waiting for a decision"),
    "decide-as-uploader": ("uploader", "in_review", "decide", "Only the anonymization team and moderators decide"),
    "message-after-the-review": ("uploader", "rejected", "message", "the thread is closed"),
    "version-after-the-review": ("uploader", "rejected", "version", "only while the file is under review"),
    "version-from-the-team": ("anonymizer", "in_review", "version", "only while the file is under review"),
}


@pytest.fixture
def own_upload(people, pending_request, scanned):
    """A file the moderator attached themselves."""
    return scanned(pending_request, actor=people["moderator"])


@pytest.fixture
def rejected(in_review, anonymizer):
    upload_decide(actor=anonymizer, upload_id=in_review.pk, decision=Decision.REJECT, reason=REASON)
    in_review.refresh_from_db()
    return in_review


def _refused_post(client, action, upload):
    if action == "decide":
        data = {"decision": Decision.APPROVE, "reason": "", "version": upload.current_version_id}
    elif action == "message":
        data = {"raw": MESSAGE}
    else:
        data = {"file": files.uploaded(NEW_NAME, PUBLIC_CONTENT)}
    url = reverse({"decide": "anonymization:upload-decide", "message": "anonymization:message-create",
                   "version": "anonymization:version-create"}[action], args=[upload.pk])
    return client.post(url, data)


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal_says_why(request, client, user_for, snapshot, case):
    role, upload_fixture, action, reason = REFUSALS[case]
    upload = request.getfixturevalue(upload_fixture)
    user_for(role)
    before = snapshot()
    response = _refused_post(client, action, upload)
    _assert_refused(response, before, snapshot)
    assert reason in response.content.decode()


# --- Quarantined downloads ----------------------------------------------------------------------

def _download_url(token):
    return reverse("anonymization:version-download", args=[token])


def _token(people, role, version):
    return download_token(user=people[role] or AnonymousUser(), version=version)


@pytest.mark.parametrize(("role", "outcome"), [_param(role, expected_item(role), bug_key=("download", role))
                                               for role in ROLES])
def test_quarantined_download_with_own_token_only_for_uploader_and_team(
    client, people, user_for, in_review, snapshot, role, outcome,
):
    version = in_review.current_version
    person = user_for(role)
    before = snapshot()
    response = client.get(_download_url(_token(people, role, version)))
    if outcome == NOT_FOUND:
        _assert_not_found(response, before, snapshot, "patient_name")
        return
    _assert_attachment(response, FILE_NAME)
    assert "no-store" in response["Cache-Control"]
    assert _read(response) == FILE_CONTENT
    _assert_audited(before, AuditRecord.Action.DOWNLOADED, actor=person, upload=in_review, version=version)


def _someone_else(role):
    return "uploader" if role == "anonymizer" else "anonymizer"


@pytest.mark.parametrize("role", [_param(role, bug_key=("foreign-token", role)) for role in ROLES])
def test_quarantined_download_with_a_token_made_for_someone_else_is_404(
    client, people, user_for, in_review, snapshot, role,
):
    token = _token(people, _someone_else(role), in_review.current_version)
    user_for(role)
    before = snapshot()
    response = client.get(_download_url(token))
    _assert_not_found(response, before, snapshot, "patient_name")


@pytest.mark.parametrize("role", sorted(SEES_UPLOAD))
def test_quarantined_download_link_expires(client, people, user_for, in_review, snapshot, role):
    token = _token(people, role, in_review.current_version)
    user_for(role)
    seconds = settings.ANONYMIZATION_DOWNLOAD_LINK_SECONDS
    now = timezone.now()
    with time_machine.travel(now + datetime.timedelta(seconds=seconds - 30), tick=False):
        response = client.get(_download_url(token))
        _assert_attachment(response, FILE_NAME)
        _read(response)
    before = snapshot()
    with time_machine.travel(now + datetime.timedelta(seconds=seconds + 1), tick=False):
        response = client.get(_download_url(token))
    _assert_not_found(response, before, snapshot, "patient_name")


def test_quarantined_download_link_stops_working_when_its_holder_leaves_the_team(
    client, people, user_for, in_review, snapshot,
):
    """The link is checked on every use, not only when it was made."""
    token = _token(people, "anonymizer", in_review.current_version)
    people["anonymizer"].groups.clear()  # staff take the role away (in the admin)
    user_for("anonymizer")
    before = snapshot()
    response = client.get(_download_url(token))
    _assert_not_found(response, before, snapshot, "patient_name")


def test_quarantined_download_with_a_forged_token_is_404(client, user_for, in_review, snapshot):
    user_for("anonymizer")
    before = snapshot()
    response = client.get(_download_url("not-a-signed-token"))
    _assert_not_found(response, before, snapshot)


# --- Published downloads ------------------------------------------------------------------------

PUBLISHED_CASES = {
    # A published file of a request that became public: everybody.
    "public": lambda role: OK,
    # A file still waiting for review has no public copy: nobody, not even its uploader.
    "unpublished": lambda role: NOT_FOUND,
    # A published file of a request now waiting in the private channel: its readers only.
    "private_topic": lambda role: OK if role in READS_PRIVATE_TOPIC else NOT_FOUND,
}
PUBLISHED_FIXTURES = {"public": "published_public", "unpublished": "in_review", "private_topic": "published_private"}


@pytest.mark.parametrize(("case", "role", "outcome"), [
    _param(case, role, expected(role), bug_key=("published", case, role))
    for case, expected in PUBLISHED_CASES.items() for role in ROLES
])
def test_published_download_for_whoever_reads_the_request(request, client, user_for, snapshot, case, role, outcome):
    upload = request.getfixturevalue(PUBLISHED_FIXTURES[case])
    name = upload.current_version.original_name
    user_for(role)
    before = snapshot()
    response = client.get(reverse("anonymization:published-download", args=[upload.pk, name]))
    if outcome == NOT_FOUND:
        _assert_not_found(response, before, snapshot)
        return
    _assert_attachment(response, name)
    assert _read(response) == PUBLIC_CONTENT  # a table carries no metadata: copied as it is
    assert snapshot() == before


@pytest.mark.parametrize(("role", "outcome"), [
    _param(role, PUBLISHED_CASES["private_topic"](role), bug_key=("published-name", role)) for role in ROLES
])
def test_published_download_under_another_name_redirects_only_its_readers(
    client, user_for, published_private, snapshot, role, outcome,
):
    """A reader who follows an old link is sent to the file's name; nobody else learns that name."""
    user_for(role)
    before = snapshot()
    response = client.get(reverse("anonymization:published-download", args=[published_private.pk, "old.csv"]))
    if outcome == NOT_FOUND:
        _assert_not_found(response, before, snapshot, PUBLIC_NAME)
        return
    assert response.status_code == 302
    assert response["Location"] == reverse("anonymization:published-download",
                                           args=[published_private.pk, PUBLIC_NAME])
