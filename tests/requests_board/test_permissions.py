"""Who may see and do what on the requests board: every role against every URL of the app,
for a public request, a request waiting in the private Anonymization channel and a draft.

The rule: what a person may not see is a 404, exactly like something missing (a draft
for anybody but its author; a request waiting for the anonymization team for anybody
outside its audience). What they may see but not do is refused: a 403 for form pages
(GET and POST), a redirect back with an error message for one-button actions. Refused
or hidden, nothing in the database changes. What they may do succeeds.
"""
import datetime

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.utils import timezone

from forum.models import Notification, OutboundEmail, Post, Topic
from forum.permissions import Role
from requests_board import services
from requests_board.models import Claim, DataRequest, ProgressUpdate, RequestEvent, Result
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_claimed, make_delivered, make_request, request_details

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous", "member", "author", "other_requester", "volunteer", "claim_holder", "moderator", "anonymizer",
]
KINDS = ["public", "pending", "draft"]
# Who sees a request waiting in the Anonymization channel: its author, the team and moderators.
PENDING_AUDIENCE = {"author", "moderator", "anonymizer"}

# Words that appear in one request's title only, so lists and search can be checked for them.
TITLES = {
    "public": "Quokkalith incubation estimate for a synthetic cohort",
    "pending": "Zanzibarite ward records of synthetic patients",
    "draft": "Marmoplex draft about synthetic swabs",
}
SECRET_WORD = {"public": "Quokkalith", "pending": "Zanzibarite", "draft": "Marmoplex"}

# Outcomes.
OK = "ok"  # GET: the page (or the redirect to the request's page); POST: the step happens
LOGIN = "login"  # anonymous visitors are sent to sign in; nothing is revealed or changed
NOT_FOUND = "404"  # may not see it: like a missing request, nothing changes
FORBIDDEN = "403"  # may see it, may not do this: the form is refused, nothing changes
REFUSED = "refused"  # one-button action refused: back to the page with an error, nothing changes
INVALID = "invalid"  # allowed in principle, not in this state: the form comes back (400) with why

PUBLIC_PAGE_VIEWS = {"detail", "topic"}  # no sign-in needed


@pytest.fixture
def people(requester, volunteer, moderator, anonymizer):
    return {
        "anonymous": None,
        "member": UserFactory(),
        "author": requester,
        "other_requester": UserFactory(roles=[Role.REQUESTER]),
        "volunteer": volunteer,
        "claim_holder": UserFactory(roles=[Role.VOLUNTEER]),
        "moderator": moderator,
        "anonymizer": anonymizer,
    }


@pytest.fixture
def requests_(people, public_category, anonymization_category):
    """A public request claimed by `claim_holder`, a request waiting for the anonymization team,
    and a draft; all by `author`."""
    author = people["author"]
    public, claim = make_claimed(author, people["claim_holder"], public_category, title=TITLES["public"])
    pending = make_request(author, public_category, title=TITLES["pending"], patient_data="yes")
    draft = make_request(author, public_category, publish=False, title=TITLES["draft"])
    assert pending.topic.category_id == anonymization_category.pk
    assert pending.needs_anonymization and pending.cleared_at is None
    return {"public": public, "pending": pending, "draft": draft, "claim": claim}


def _redeclared_pending(people, public_category):
    """A request claimed and delivered in public, then re-declared by its author as possibly
    identifying a patient: it is back in the Anonymization channel with a claim and a result."""
    author, holder = people["author"], people["claim_holder"]
    data_request, claim, result = make_delivered(author, holder, public_category, title=TITLES["pending"])
    services.request_edit(
        actor=author, data_request_id=data_request.pk,
        details=_published_details(data_request, title=TITLES["pending"], patient_data="yes"),
    )
    data_request.refresh_from_db()
    assert data_request.needs_anonymization and data_request.cleared_at is None
    assert data_request.topic.category.slug == "anonymization"
    return data_request, claim, result


def _published_details(data_request, **overrides):
    details = request_details(data_request.category, **overrides)
    details.pop("category")
    details["expertise"] = ", ".join(details["expertise"])
    details["data_links"] = "\n".join(details["data_links"])
    return details


# --- The expected outcome of every role × view × kind ------------------------------------------

def _sees(kind, role):
    if kind == "public":
        return True
    if kind == "pending":
        return role in PENDING_AUDIENCE
    return role == "author"


# Who may do each step, by kind of request; anybody else who sees the request is refused.
MAY = {
    "edit": {"public": {"author", "moderator"}, "pending": {"author", "moderator"}, "draft": {"author"}},
    "withdraw": {kind: {"author"} for kind in KINDS},
    "close": {"public": {"moderator"}, "pending": {"moderator"}, "draft": set()},
    # Only public requests are claimed, by volunteers (moderators hold the capability too), never the requester.
    "claim": {"public": {"volunteer", "claim_holder", "moderator"}, "pending": set(), "draft": set()},
    # Updates and results come from people holding an active claim.
    "update": {"public": {"claim_holder"}, "pending": set(), "draft": set()},
    "result": {"public": {"claim_holder"}, "pending": set(), "draft": set()},
    # The anonymization team and moderators clear; the public request and the draft are not waiting.
    "clear": {"public": set(), "pending": {"moderator", "anonymizer"}, "draft": set()},
    # Sending a request to the anonymization team ends its claims, so none is left to release there.
    "release": {"public": {"claim_holder", "author", "moderator"}, "pending": set()},
    "accept": {"public": {"author", "moderator"}, "pending": {"author", "moderator"}},
}
# One-button actions answer a refusal with a redirect and a message; form pages with a 403.
BUTTON_ACTIONS = {"clear", "release", "accept"}
REQUEST_GET_VIEWS = ["detail", "topic", "edit", "withdraw", "close", "claim", "update", "result"]
REQUEST_POST_ACTIONS = ["edit", "withdraw", "close", "clear", "claim", "update", "result", "release", "accept"]


def expected_get(kind, view, role):
    if role == "anonymous" and view not in PUBLIC_PAGE_VIEWS:
        return LOGIN
    if not _sees(kind, role):
        return NOT_FOUND
    if view in PUBLIC_PAGE_VIEWS:
        return OK
    return OK if role in MAY[view][kind] else FORBIDDEN


def expected_post(kind, action, role):
    if role == "anonymous":
        return LOGIN
    if not _sees(kind, role):
        return NOT_FOUND
    if role not in MAY[action][kind]:
        return REFUSED if action in BUTTON_ACTIONS else FORBIDDEN
    if (kind, action) == ("draft", "withdraw"):
        return INVALID  # only open or claimed requests are withdrawn
    if (kind, action, role) == ("public", "claim", "claim_holder"):
        return INVALID  # already claimed it
    return OK


GET_BUGS: dict = {}
POST_BUGS: dict = {}


def _params(views, expected, bugs):
    params = []
    for kind in KINDS:
        for view in views:
            if kind == "draft" and view in {"topic", "release", "accept"}:
                continue  # a draft has no topic, and nobody can claim it or deliver to it
            for role in ROLES:
                marks = [pytest.mark.xfail(strict=True, reason=bugs[kind, view, role])] if (
                    (kind, view, role) in bugs) else []
                params.append(pytest.param(kind, view, role, expected(kind, view, role), marks=marks,
                                           id=f"{kind}-{view}-{role}"))
    return params


# --- Helpers ------------------------------------------------------------------------------------

def snapshot():
    """Everything a step could change."""
    return {
        "requests": list(DataRequest.objects.order_by("pk").values_list(
            "pk", "state", "title", "patient_data", "needs_anonymization", "cleared_at", "close_reason",
            "accepted_result_id", "topic_id", "updated_at",
        )),
        "topics": list(Topic.objects.order_by("pk").values_list("pk", "title", "category_id", "closed")),
        "claims": list(Claim.objects.order_by("pk").values_list("pk", "status", "role", "last_activity_at")),
        "results": list(Result.objects.order_by("pk").values_list("pk", "accepted_at")),
        "posts": list(Post.objects.order_by("pk").values_list("pk", "raw")),
        "updates": ProgressUpdate.objects.count(),
        "events": RequestEvent.objects.count(),
        "notifications": Notification.objects.count(),
        "emails": OutboundEmail.objects.count(),
    }


def _client_for(client, people, role):
    if people[role] is not None:
        sign_in(client, people[role])
    return client


def _errors(response):
    return [m.message for m in get_messages(response.wsgi_request) if m.level == message_levels.ERROR]


def _assert_hidden_or_refused(response, outcome, before, title):
    """The common half of every outcome but OK: the right answer and nothing changed."""
    if outcome == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif outcome == NOT_FOUND:
        assert response.status_code == 404
        assert title not in response.content.decode()
    elif outcome == FORBIDDEN:
        assert response.status_code == 403
    elif outcome == REFUSED:
        assert response.status_code == 302
        assert _errors(response), "a refused action says why"
    elif outcome == INVALID:
        assert response.status_code == 400
    assert snapshot() == before


# --- The matrix: pages ------------------------------------------------------------------------

def _get_url(view, data_request):
    if view == "topic":
        return data_request.topic.get_absolute_url()
    return {
        "detail": f"/requests/{data_request.pk}/",
        "edit": f"/requests/{data_request.pk}/edit/",
        "withdraw": f"/requests/{data_request.pk}/withdraw/",
        "close": f"/requests/{data_request.pk}/close/",
        "claim": f"/requests/{data_request.pk}/claim/",
        "update": f"/requests/{data_request.pk}/update/",
        "result": f"/requests/{data_request.pk}/result/",
    }[view]


@pytest.mark.parametrize(("kind", "view", "role", "outcome"), _params(REQUEST_GET_VIEWS, expected_get, GET_BUGS))
def test_request_pages_by_role(client, people, requests_, kind, view, role, outcome):
    data_request = requests_[kind]
    _client_for(client, people, role)
    before = snapshot()
    response = client.get(_get_url(view, data_request))
    if outcome != OK:
        _assert_hidden_or_refused(response, outcome, before, TITLES[kind])
        return
    if view == "detail":
        assert response.status_code == 302
        assert response["Location"] == data_request.get_absolute_url()
    else:
        assert response.status_code == 200
        assert TITLES[kind] in response.content.decode()
    assert snapshot() == before


# --- The matrix: actions ----------------------------------------------------------------------

def _form_data(action, data_request):
    if action == "edit":
        if data_request.state == DataRequest.State.DRAFT:
            details = _published_details(data_request, title="Renamed synthetic request")
            details.update(category=data_request.category_id, action="save")
            return details
        return _published_details(data_request, title="Renamed synthetic request",
                                  patient_data=data_request.patient_data)
    return {
        "withdraw": {"reason": "Solved elsewhere (synthetic)."},
        "close": {"reason": "Duplicate of another synthetic request."},
        "clear": {},
        "claim": {"plan": "Bootstrap the synthetic cohort.",
                  "expected_date": (timezone.localdate() + datetime.timedelta(days=5)).isoformat()},
        "update": {"raw": "Halfway through the synthetic cohort."},
        "result": {"summary": "The median is 5.2 days (synthetic).",
                   "repository_url": "https://github.com/example/synthetic-result", "license": "BSD-3-Clause"},
        "release": {},
        "accept": {},
    }[action]


def _target(kind, action, people, requests_, public_category):
    """The request the action is on, and its URL. Releasing and accepting need a claim and a result."""
    if action in {"release", "accept"}:
        if kind == "public":
            data_request, claim = requests_["public"], requests_["claim"]
            result = None
            if action == "accept":
                result = services.result_deliver(
                    actor=people["claim_holder"], data_request_id=data_request.pk, summary="Synthetic result.",
                    repository_url="https://github.com/example/synthetic", license="BSD-3-Clause",
                )
        else:
            data_request, claim, result = _redeclared_pending(people, public_category)
        data_request.refresh_from_db()
        url = f"/claims/{claim.pk}/release/" if action == "release" else f"/results/{result.pk}/accept/"
        return data_request, url, {"claim": claim, "result": result}
    data_request = requests_[kind]
    return data_request, f"/requests/{data_request.pk}/{action}/", {}


def _assert_done(action, data_request, actor, extra):
    data_request.refresh_from_db()
    if action == "edit":
        assert data_request.title == "Renamed synthetic request"
        if data_request.topic_id:
            assert Topic.objects.get(pk=data_request.topic_id).title == "Renamed synthetic request"
    elif action == "withdraw":
        assert data_request.state == DataRequest.State.WITHDRAWN
    elif action == "close":
        assert data_request.state == DataRequest.State.CLOSED
        assert data_request.close_reason == "Duplicate of another synthetic request."
    elif action == "clear":
        assert data_request.cleared_at is not None
        assert data_request.topic.category_id == data_request.category_id
    elif action == "claim":
        assert Claim.objects.filter(data_request=data_request, volunteer=actor, status=Claim.Status.ACTIVE).exists()
    elif action == "update":
        assert ProgressUpdate.objects.filter(data_request=data_request, post__author=actor).exists()
    elif action == "result":
        assert Result.objects.filter(data_request=data_request, author=actor, license="BSD-3-Clause").exists()
    elif action == "release":
        extra["claim"].refresh_from_db()
        assert extra["claim"].status != Claim.Status.ACTIVE
    elif action == "accept":
        assert data_request.state == DataRequest.State.ACCEPTED
        assert data_request.accepted_result_id == extra["result"].pk


@pytest.mark.parametrize(
    ("kind", "action", "role", "outcome"), _params(REQUEST_POST_ACTIONS, expected_post, POST_BUGS)
)
def test_request_actions_by_role(client, people, requests_, public_category, kind, action, role, outcome):
    data_request, url, extra = _target(kind, action, people, requests_, public_category)
    _client_for(client, people, role)
    before = snapshot()
    response = client.post(url, _form_data(action, data_request))
    if outcome != OK:
        _assert_hidden_or_refused(response, outcome, before, TITLES[kind])
        return
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not _errors(response)
    _assert_done(action, data_request, people[role], extra)


# --- Pages that are not about one request -----------------------------------------------------

MAY_ASK = {"author", "other_requester", "moderator"}
BOARD_PAGES = {
    "board": "/requests/", "dashboard": "/requests/dashboard/", "create": "/requests/new/",
    "mine": "/requests/mine/", "claims": "/requests/claims/", "matches": "/requests/matches/",
}


def expected_board_page(page, role):
    if page in {"board", "dashboard"}:
        return OK
    if role == "anonymous":
        return LOGIN
    if page == "create":
        return OK if role in MAY_ASK else FORBIDDEN
    return OK


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", sorted(BOARD_PAGES))
def test_board_pages_by_role(client, people, requests_, page, role):
    _client_for(client, people, role)
    before = snapshot()
    response = client.get(BOARD_PAGES[page])
    outcome = expected_board_page(page, role)
    if outcome == OK:
        assert response.status_code == 200
        assert snapshot() == before
    else:
        _assert_hidden_or_refused(response, outcome, before, TITLES["pending"])


@pytest.mark.parametrize("role", ROLES)
def test_asking_by_role(client, people, public_category, anonymization_category, role):
    _client_for(client, people, role)
    details = request_details(public_category, title="Freshly asked synthetic request")
    details.update(category=public_category.pk, action="publish", expertise="statistics",
                   data_links="\n".join(details["data_links"]), serves_covid="on")
    before = snapshot()
    response = client.post("/requests/new/", details)
    outcome = OK if role in MAY_ASK else expected_board_page("create", role)
    if outcome != OK:
        _assert_hidden_or_refused(response, outcome, before, "Freshly asked")
        return
    assert response.status_code == 302
    asked = DataRequest.objects.get(title="Freshly asked synthetic request")
    assert asked.author == people[role] and asked.state == DataRequest.State.OPEN


# --- Lists, search and feeds ------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_pending_request_is_listed_only_to_its_audience(client, people, requests_, role):
    """The board, search and every feed leave a request waiting for the anonymization team out
    for anybody outside its audience; drafts are on no list but their author's own."""
    _client_for(client, people, role)
    may_see = role in PENDING_AUDIENCE
    board = client.get("/requests/").content.decode()
    assert TITLES["public"] in board
    assert (TITLES["pending"] in board) == may_see, role
    assert TITLES["draft"] not in board

    for state in ("open", "active", "unclaimed"):
        assert (TITLES["pending"] in client.get("/requests/", {"state": state}).content.decode()) == may_see

    results = client.get("/search/", {"q": SECRET_WORD["pending"]}).content.decode()
    pending_post = f'href="/p/{requests_["pending"].topic.posts.get(number=1).pk}/"'
    if not may_see:
        assert pending_post not in results and SECRET_WORD["pending"] + " ward" not in results
    public_results = client.get("/search/", {"q": SECRET_WORD["public"]}).content.decode()
    assert f'href="/p/{requests_["public"].topic.posts.get(number=1).pk}/"' in public_results
    draft_results = client.get("/search/", {"q": SECRET_WORD["draft"]}).content.decode()
    assert TITLES["draft"] not in draft_results

    # Feeds show what an anonymous visitor sees, whoever asks.
    for feed in ("/latest.atom", "/latest.rss", "/c/data-requests/feed.atom", "/c/data-requests/feed.rss",
                 "/tag/statistics/feed.atom", "/tag/statistics/feed.rss"):
        content = client.get(feed).content.decode()
        assert TITLES["public"] in content, feed
        assert TITLES["pending"] not in content and TITLES["draft"] not in content, (feed, role)
    assert client.get("/c/anonymization/feed.atom").status_code == 404

    mine = client.get("/requests/mine/")
    if role == "author":
        content = mine.content.decode()
        assert TITLES["draft"] in content and TITLES["pending"] in content


@pytest.mark.parametrize("role", sorted(PENDING_AUDIENCE))
def test_pending_request_is_found_by_its_audience(client, people, requests_, role):
    sign_in(client, people[role])
    assert TITLES["pending"] in client.get("/requests/").content.decode()
    results = client.get("/search/", {"q": SECRET_WORD["pending"]}).content.decode()
    assert f'href="/p/{requests_["pending"].topic.posts.get(number=1).pk}/"' in results


def test_matches_never_offer_a_pending_request(client, people, requests_, public_category):
    """A volunteer whose expertise fits is offered the public open request, never one waiting
    for the anonymization team."""
    volunteer = people["volunteer"]
    open_public = make_request(people["other_requester"], public_category, title="Quokkalith open twin")
    volunteer.expertise.set(["statistics"])
    sign_in(client, volunteer)
    content = client.get("/requests/matches/").content.decode()
    assert open_public.title in content
    assert TITLES["pending"] not in content and TITLES["draft"] not in content


def test_dashboard_counts_public_requests_only(client, people, requests_):
    from requests_board import selectors

    assert TITLES["pending"] not in client.get("/requests/dashboard/").content.decode()
    figures = selectors.dashboard()
    assert (figures.open, figures.claimed) == (0, 1)  # the open request waiting for the team is not counted


def test_my_claims_hide_an_active_claim_on_a_request_sent_to_anonymization(client, people, public_category,
                                                                          anonymization_category):
    data_request, claim, _result = _redeclared_pending(people, public_category)
    sign_in(client, people["claim_holder"])
    assert client.get(data_request.topic.get_absolute_url()).status_code == 404  # an outsider now
    claim.refresh_from_db()
    assert claim.status == "released"  # sending it to the team ended the claim
    assert TITLES["pending"] not in client.get("/requests/claims/").content.decode()


def test_my_claims_hide_an_ended_claim_on_a_request_sent_to_anonymization(client, people, public_category,
                                                                         anonymization_category):
    author, holder = people["author"], people["claim_holder"]
    data_request, claim = make_claimed(author, holder, public_category, title=TITLES["pending"])
    services.claim_release(actor=holder, claim_id=claim.pk)
    services.request_edit(
        actor=author, data_request_id=data_request.pk,
        details=_published_details(data_request, title=TITLES["pending"], patient_data="yes"),
    )
    sign_in(client, holder)
    assert client.get(f"/requests/{data_request.pk}/").status_code == 404
    assert TITLES["pending"] not in client.get("/requests/claims/").content.decode()
