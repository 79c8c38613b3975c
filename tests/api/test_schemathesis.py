"""Schemathesis fuzzes the live API against its own OpenAPI schema.

The app is served by pytest-django's live server on a database filled by seed_demo plus
content the caller may not see, each piece carrying a unique marker string. The
schemathesis CLI then runs, in its own process, against /api/v1/schema/: once with a
write token of an ordinary member (a requester and volunteer, no team role) and once
anonymously. It must find no server error, no response outside the schema (status,
content type, headers, body) and, through the custom check in schemathesis_hooks.py,
no marker in any response. A failure prints schemathesis's report.

The run is bounded (a fixed seed, ten examples per operation in the fuzzing phase, one
worker): about two minutes with the token and one anonymously, in both CI passes (SQLite
and PostgreSQL). SCHEMATHESIS_ARGS adds options for a longer run by hand, e.g.
SCHEMATHESIS_ARGS="--max-examples 100 --seed 7".
"""
import datetime
import logging
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from forum import services
from forum.models import Category, Flag, Post, User
from forum.permissions import Role, requires_mfa
from requests_board import services as request_services
from requests_board.models import DataRequest
from tests.forum.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).resolve().parent
HOOKS = HERE / "schemathesis_hooks.py"
SEED = 20261121
MAX_EXAMPLES = 10
TIMEOUT_SECONDS = 600
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",  # input the schema forbids is refused
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",  # what the schema says needs a token refuses a missing or bad one
    "ensure_resource_availability",
    "no_private_content",  # schemathesis_hooks.py
]
# Not run: positive_data_acceptance (schema-valid input meets the services' rules: unknown
# categories, missing fields for publishing, states that forbid a step) and use_after_free
# (a deleted post stays readable as a placeholder, by design).

# Each marker appears only in content the fuzzing callers may not see.
PRIVATE = {
    "anon_request_title": "zqxprivanontitle",
    "anon_request_question": "zqxprivanonquestion",
    "anon_request_tag": "zqxprivanontag",
    "anon_request_link": "zqxprivanonlink",
    "anon_reply": "zqxprivanonreply",
    "private_category": "zqxprivcategory",
    "private_topic_title": "zqxprivtopictitle",
    "private_topic_body": "zqxprivtopicbody",
    "private_tag": "zqxprivtopictag",
    "hidden_reply": "zqxprivhiddenreply",
    "hidden_topic_title": "zqxprivhiddentitle",
    "hidden_topic_body": "zqxprivhiddenbody",
    "deleted_reply": "zqxprivdeletedreply",
    "draft_title": "zqxprivdrafttitle",
    "draft_question": "zqxprivdraftquestion",
    "email": "zqxprivemail",
    # seed_demo's own private content: its request waiting for the anonymization team, and
    # the quarantined file of it.
    "seed_anon_request": "Ward admissions spreadsheet",
    "seed_quarantined_file": "Fakeperson",
}


def _plant_private_content():
    """seed_demo, then private content of every kind the API must keep from other people."""
    call_command("seed_demo", "--allow-production", "--password", "fuzz-demo-password-2026")
    requester = User.objects.get(username="demo_requester")
    volunteer = User.objects.get(username="demo_volunteer")
    moderator = User.objects.get(username="demo_moderator")
    anonymizer = User.objects.get(username="demo_anonymizer")
    anonymization = Category.objects.get(slug="anonymization")
    public = Category.objects.get(slug="data-requests")

    # A request whose data may identify a patient, not cleared: it waits in the Anonymization channel.
    waiting = request_services.request_submit(actor=requester, publish=True, details={
        "title": f"Synthetic ward list {PRIVATE['anon_request_title']}",
        "question": f"A *synthetic* list with names, {PRIVATE['anon_request_question']}.",
        "category": public, "modality": "tabular", "data_size": "small",
        "data_links": [f"https://zenodo.org/records/{PRIVATE['anon_request_link']}"],
        "result_description": "Weekly counts.", "result_type": "figure",
        "deadline": datetime.date.today() + datetime.timedelta(days=30),
        "expertise": [PRIVATE["anon_request_tag"]], "serves_covid": True, "patient_data": "yes",
        "data_license": "CC-BY-SA-4.0",
    })
    assert waiting.needs_anonymization and waiting.cleared_at is None
    services.post_create(actor=anonymizer, topic_id=waiting.topic_id, raw=f"Checking it: {PRIVATE['anon_reply']}.")

    # A private category of its own (moderators only), with a topic and a tag used nowhere else.
    staff = services.category_create(
        name="Staff room", slug="staff-room", security=Category.Security.PRIVATE, group_names=("Moderators",),
        description=f"Moderators only: {PRIVATE['private_category']}.",
    )
    private_topic = services.topic_create(
        actor=moderator, category=staff, title=f"Private plans {PRIVATE['private_topic_title']}",
        raw=f"Only moderators read this: {PRIVATE['private_topic_body']}.", tags=[PRIVATE["private_tag"]],
    )
    services.topic_create(
        actor=anonymizer, category=anonymization, title="A synthetic review note for the team",
        raw="The team only: nothing identifying here, only the channel is private.",
    )

    # In a public topic: a reply hidden for personal data, and a reply its author deleted.
    topic = services.topic_create(
        actor=requester, category=public, title="Public synthetic question about weekly counts",
        raw="How do I count weekly admissions in a *synthetic* table?",
    )
    hidden = services.post_create(actor=requester, topic_id=topic.pk,
                                  raw=f"Here is a name from the data: {PRIVATE['hidden_reply']}.")
    services.post_flag(actor=volunteer, post_id=hidden.pk, reason=Flag.Reason.PERSONAL_DATA)
    deleted = services.post_create(actor=volunteer, topic_id=topic.pk,
                                   raw=f"Posted by mistake: {PRIVATE['deleted_reply']}.")
    services.post_delete(actor=volunteer, post_id=deleted.pk)

    # A topic whose first post is hidden for personal data: the whole topic is hidden.
    hidden_topic = services.topic_create(
        actor=requester, category=public, title=f"Admissions of one synthetic patient {PRIVATE['hidden_topic_title']}",
        raw=f"The patient is {PRIVATE['hidden_topic_body']}.",
    )
    first_post = Post.objects.get(topic=hidden_topic, number=1)
    services.post_flag(actor=volunteer, post_id=first_post.pk, reason=Flag.Reason.PERSONAL_DATA)

    # A draft: its author's alone.
    draft = request_services.request_submit(actor=requester, publish=False, details={
        "title": f"Unfinished synthetic request {PRIVATE['draft_title']}",
        "question": f"Half written: {PRIVATE['draft_question']}.", "category": public,
    })

    # Somebody's email address: profiles never show it.
    person = User.objects.create_user(username="quiet_member", email=f"{PRIVATE['email']}@example.org",
                                      password="not-used-2026")
    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)

    # One more file waiting in quarantine, named and filled like personal data.
    request_services.request_attach(actor=requester, data_request_id=waiting.pk, file=SimpleUploadedFile(
        "ward_list.csv", f"name,ward\n{PRIVATE['seed_quarantined_file']},B\n".encode()))

    for request in DataRequest.objects.filter(needs_anonymization=True):
        assert request.cleared_at is None
    # Where the people allowed to see each marker read it through the API (see _check_planted).
    return {
        moderator: [
            "/categories/", "/tags/?page_size=100", "/topics/?page_size=100", f"/topics/{private_topic.pk}/",
            f"/topics/{hidden_topic.pk}/", f"/topics/{topic.pk}/posts/", f"/topics/{waiting.topic_id}/posts/",
            f"/requests/{waiting.pk}/",
        ],
        requester: [f"/requests/{draft.pk}/"],
    }


# Never served to anybody: the API shows no email address, no quarantined file, and no
# draft's question (`question_html` is null for a draft, even to its author).
NEVER_SERVED = {"email", "seed_quarantined_file", "draft_question"}


def _check_planted(readers):
    """Each marker is served to the people allowed to see it, so its absence from the fuzzed
    callers' responses is the access rule at work and not a marker nobody could find."""
    seen = ""
    for person, paths in readers.items():
        second_factor = requires_mfa(person)  # the moderator's token is made after two-factor sign-in
        if second_factor:
            TOTP.activate(person, generate_totp_secret())
        _token, key = services.api_token_create(actor=person, name="planting check", scope="read",
                                                second_factor=second_factor)
        client = Client(HTTP_AUTHORIZATION=f"Token {key}")
        for path in paths:
            response = client.get(f"/api/v1{path}")
            assert response.status_code == 200, (person.username, path, response.content)
            seen += response.content.decode().lower()
    missing = [name for name, marker in PRIVATE.items() if name not in NEVER_SERVED and marker.lower() not in seen]
    assert not missing, f"planted content nobody is shown: {missing}"


def _fuzzer_token() -> str:
    member = UserFactory(username="api_fuzzer", roles=[Role.REQUESTER, Role.VOLUNTEER])
    _token, key = services.api_token_create(actor=member, name="schemathesis", scope="write")
    return key


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("The schemathesis CLI is not installed next to this Python (requirements-dev.txt).")
    return found


@pytest.fixture
def roomy_rate_limits(settings):
    """The web's rate limits, a hundred times wider: with the real ones most write examples would
    only meet 429 (which stays documented and is still checked) instead of the code behind it."""
    settings.FORUM_RATE_LIMITS = {kind: (count * 100, window)
                                  for kind, (count, window) in settings.FORUM_RATE_LIMITS.items()}
    settings.FORUM_RATE_LIMITS_PER_IP = {kind: (count * 100, window)
                                         for kind, (count, window) in settings.FORUM_RATE_LIMITS_PER_IP.items()}


@pytest.mark.parametrize("caller", ["member_token", "anonymous"])
def test_schemathesis_finds_no_error_schema_violation_or_private_content(
    caller, live_server, roomy_rate_limits, tmp_path, caplog,
):
    # Refusals (4xx) are what fuzzing mostly meets: keep them out of the log, which then
    # shows only server errors next to schemathesis's report.
    caplog.set_level(logging.ERROR, logger="django.request")
    _check_planted(_plant_private_content())
    command = [
        _schemathesis(), "run", f"{live_server.url}/api/v1/schema/",
        "--checks", ",".join(CHECKS),
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--workers", "1",
        "--request-timeout", "30",
        "--generation-database", "none",
        "--suppress-health-check", "all",
        "--no-color",
        *shlex.split(os.environ.get("SCHEMATHESIS_ARGS", "")),
    ]
    if caller == "member_token":
        command += ["--header", f"Authorization: Token {_fuzzer_token()}"]
    else:
        # Anonymous writes are all 401, which the member's run checks already (ignored_auth
        # sends each operation without the token): reads are what may leak.
        command += ["--include-method", "GET"]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(HOOKS),
        "SCHEMATHESIS_PRIVATE_MARKERS": ",".join(PRIVATE.values()),
        "COLUMNS": "160",
    }
    started = time.monotonic()
    # cwd: nothing schemathesis writes lands in the working tree, and no stray schemathesis.toml applies.
    try:
        completed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                                   timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"schemathesis ({caller}) ran over {TIMEOUT_SECONDS}s; its output so far:\n"
                    f"{_text(timeout.stdout)}\n{_text(timeout.stderr)}", pytrace=False)
    elapsed = time.monotonic() - started
    report = completed.stdout + ("\n" + completed.stderr if completed.stderr.strip() else "")
    if completed.returncode != 0:
        pytest.fail(f"schemathesis ({caller}) found problems (exit code {completed.returncode}, {elapsed:.0f}s); "
                    f"its report:\n{report}", pytrace=False)
    print(f"schemathesis ({caller}) passed in {elapsed:.0f}s\n{report}")


def _text(output) -> str:
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else (output or "")
