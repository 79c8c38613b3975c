"""The anonymization pages run a fixed number of queries, whatever the amount of data.

The triage queue (for a team member) and an upload's review page (for a team member and for
its uploader) are measured on seeded data, then again after the data doubled: more uploads in
every state for the queue; more versions, messages and audit records for the review page. An
N+1 query would show as a count that grows.
"""
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anonymization import services
from anonymization.models import AuditRecord, Upload
from anonymization.services import Decision
from forum.permissions import Role
from requests_board import services as request_services
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_request

from . import files

pytestmark = pytest.mark.django_db

# One upload per stage, in turn: still being scanned, waiting for review, sent back for changes,
# published, rejected. The queue lists the first two as waiting, the third as with the uploader,
# the last two as recently decided.
STAGES = ["scanning", "review", "changes", "published", "rejected"]
REASON = "Please drop the synthetic names column."


def _attach(requester, data_request, name, content, capture, *, scan=True):
    def attach():
        return request_services.request_attach(
            actor=requester, data_request_id=data_request.pk, file=files.uploaded(name, content), ip="192.0.2.1",
        )
    if not scan:
        return attach()  # its scan waits for a commit that never comes: it stays "being scanned"
    with capture(execute=True):
        return attach()


def _grow_queue(world, count, start=0):
    """`count` uploads over as many requests (half declared identifying) by three requesters,
    in every stage, decided by different members of the team."""
    capture, team = world["capture"], world["team"]
    for n in range(start, start + count):
        stage = STAGES[n % len(STAGES)]
        requester = world["requesters"][n % len(world["requesters"])]
        data_request = make_request(requester, world["category"], title=f"Synthetic queue request {n}",
                                    patient_data="yes" if n % 2 == 0 else "no")
        content = files.clean_aggregated_csv() if stage == "published" else files.identifying_columns_csv()
        upload = _attach(requester, data_request, f"synthetic-table-{n}.csv", content, capture,
                         scan=stage != "scanning")
        decider = team[n % len(team)]
        if stage in ("changes", "rejected"):
            decision = Decision.CHANGES if stage == "changes" else Decision.REJECT
            services.upload_decide(actor=decider, upload_id=upload.pk, decision=decision, reason=REASON)
        elif stage == "published":
            with capture(execute=True):
                services.upload_decide(actor=decider, upload_id=upload.pk, decision=Decision.APPROVE)
        upload.refresh_from_db()
        assert upload.state == stage


def _grow_featured(world, versions, messages):
    """The featured upload gets up to `versions` versions (each sent back by the team, then replaced
    and scanned) and `messages` more messages between its uploader and three team members; each
    step, and a report view by every team member, adds audit records."""
    capture, team, upload, uploader = world["capture"], world["team"], world["featured"], world["uploader"]
    while upload.current_version.number < versions:
        services.upload_decide(actor=team[upload.current_version.number % len(team)], upload_id=upload.pk,
                               decision=Decision.CHANGES, reason=REASON)
        with capture(execute=True):
            services.upload_add_version(
                actor=uploader, upload_id=upload.pk, ip="192.0.2.1",
                file=files.uploaded(f"synthetic-ward-list-v{upload.current_version.number + 1}.csv",
                                    files.identifying_values_csv()),
            )
        upload.refresh_from_db()
    for n in range(messages):
        author = uploader if n % 2 == 0 else team[n % len(team)]
        with capture(execute=True):
            services.message_post(actor=author, upload_id=upload.pk, raw=f"Synthetic question {n} about the file.",
                                  ip="192.0.2.2")
    for member in team:
        services.audit_report_viewed(actor=member, upload=upload, ip="192.0.2.3")
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW


@pytest.fixture
def world(settings, public_category, anonymization_category, requester, anonymizer, moderator,
          django_capture_on_commit_callbacks):
    """Ten uploads in every stage over ten requests, and a featured upload under review with three
    versions, four messages and its audit log; the anonymization team has three members."""
    settings.ANONYMIZATION_MAX_FILES_PER_DAY = 1000  # so the data can double
    world = {
        "capture": django_capture_on_commit_callbacks,
        "category": public_category,
        "requesters": [requester, *(UserFactory(roles=[Role.REQUESTER]) for _ in range(2))],
        "team": [anonymizer, UserFactory(roles=[Role.ANONYMIZATION], totp=True), moderator],
        "uploader": requester,
        "viewer": anonymizer,
    }
    _grow_queue(world, 10)
    featured_request = make_request(requester, public_category, title="Synthetic featured request",
                                    patient_data="yes")
    world["featured"] = _attach(requester, featured_request, "synthetic-ward-list.csv",
                                files.identifying_columns_csv(), django_capture_on_commit_callbacks)
    _grow_featured(world, versions=3, messages=4)
    return world


def _double_queue(world):
    _grow_queue(world, 10, start=100)


def _double_featured(world):
    _grow_featured(world, versions=6, messages=4)


def _url(world, page):
    if page == "queue":
        return reverse("anonymization:queue")
    return reverse("anonymization:upload-detail", args=[world["featured"].pk])


def _warm(client):
    """The same start for every measure: an empty cache, then one page warms what every page reads
    (the current terms), as on a running site."""
    cache.clear()
    client.get("/faq/")


def _count_queries(client, url):
    _warm(client)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context)


def _measure(client, world, pages):
    return {page: _count_queries(client, _url(world, page)) for page in pages}


# Queries per page, whatever the amount of data.
# Signed in: the session, the user, and the user's and their groups' permissions (read once, cached
# for the request: they say who triages, and that a team member's second factor is due), then the
# bell's unread count (forum.context_processors.notifications), which counts only notifications about
# topics the person can read and so also reads the categories they moderate (cached for the request).
SIGNED_IN_TEAM = 4 + 2
# Somebody without a team permission: the second-factor check asks whether a category moderator reads
# private categories, from the same cached categories: nothing more.
SIGNED_IN_MEMBER = SIGNED_IN_TEAM
# The queue: its three lists (waiting, with the uploader, recently decided), each with its topic,
# uploader, current version and decider joined, then the requests' titles and deadlines for all of
# them at once (one query, requests_board.anonymization_hooks.upload_subjects); and the count of posts
# held for the team in the review queue (one query).
QUEUE = SIGNED_IN_TEAM + 5
# The review page: the upload with its topic, category, post, uploader, versions and decider joined;
# the request's title and deadline; the audit record of this very view (one insert); the versions with
# their uploaders; the messages with their authors; and, for the team only, the audit log with its
# actors and versions.
ITEM_TEAM = SIGNED_IN_TEAM + 6
ITEM_UPLOADER = SIGNED_IN_MEMBER + 5


def test_queue_page_runs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    sign_in(client, world["viewer"])
    _warm(client)
    with django_assert_max_num_queries(QUEUE):
        response = client.get(_url(world, "queue"))
    assert response.status_code == 200


@pytest.mark.parametrize(("reader", "limit"), [("viewer", ITEM_TEAM), ("uploader", ITEM_UPLOADER)])
def test_item_page_runs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries, reader, limit):
    sign_in(client, world[reader])
    _warm(client)
    with django_assert_max_num_queries(limit):
        response = client.get(_url(world, "item"))
    assert response.status_code == 200


def test_pages_show_the_seeded_data(client, world):
    """The counts above are taken on pages that really list the seeded rows."""
    sign_in(client, world["viewer"])
    queue = client.get(_url(world, "queue")).content.decode()
    # Waiting: two scanning, two in review, and the featured upload; two sent back; four decided.
    assert queue.count("synthetic-table-") == 10
    assert "synthetic-ward-list-v3.csv" in queue and "scanning…" in queue
    assert "Synthetic queue request 3" in queue
    item = client.get(_url(world, "item")).content.decode()
    assert item.count('class="version') == 3
    assert item.count('class="review-message"') == 4
    assert "Audit log" in item
    assert AuditRecord.objects.filter(upload=world["featured"]).count() > 10
    sign_in(client, world["uploader"])
    mine = client.get(_url(world, "item")).content.decode()
    assert mine.count('class="version') == 3 and "Audit log" not in mine


def test_queue_query_count_does_not_grow_with_the_uploads(client, world):
    sign_in(client, world["viewer"])
    before = _measure(client, world, ["queue"])
    _double_queue(world)
    assert client.get(_url(world, "queue")).content.decode().count("synthetic-table-") == 20
    assert _measure(client, world, ["queue"]) == before


@pytest.mark.parametrize("reader", ["viewer", "uploader"])
def test_item_page_query_count_does_not_grow_with_versions_messages_and_audit(client, world, reader):
    sign_in(client, world[reader])
    before = _measure(client, world, ["item"])
    _double_featured(world)
    page = client.get(_url(world, "item")).content.decode()
    assert page.count('class="version') == 6 and page.count('class="review-message"') == 8
    assert _measure(client, world, ["item"]) == before
