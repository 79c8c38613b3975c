"""What a person may do to a request (`permissions.request_actions`) is exactly what its services accept.

The matrix: every state a request can be in (with and without the anonymization team's hold)
against every kind of person who can see it. Each step the actions offer is tried through its real
service in a savepoint that is rolled back: offered steps succeed, the others are refused with the
very words the actions give (PermissionDenied or a ValidationError from the service = refused).
Then the pages: the panel shows those words to the people whose step it is, and a refused form
shows them too, never a bare "You cannot do this".
"""
import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum.pagecache import invalidate
from forum.permissions import Role
from requests_board import selectors, services
from requests_board.models import Claim, DataRequest, Result
from requests_board.permissions import can_see_request, request_actions
from requests_board.rules import TRANSITIONS
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_claimed, make_delivered, make_request, request_details

pytestmark = pytest.mark.django_db

STATES = [
    "draft", "open", "claimed", "in_progress", "delivered", "accepted", "withdrawn", "closed",
    "pending_open", "pending_delivered", "cleared",
]
ROLES = ["anonymous", "newcomer", "volunteer", "claimant", "requester", "category_moderator", "moderator",
         "anonymizer"]
ACTIONS = ["publish", "edit", "claim", "update", "deliver", "accept", "withdraw", "close", "clear", "attach",
           "export", "release", "release_others"]
# Who sees a request: a draft its author; one waiting for the anonymization team its author, the team and
# moderators (the category moderator moderates the public area, not the private channel); the rest everybody.
AUDIENCE = {
    "draft": {"requester"},
    "pending_open": {"requester", "moderator", "anonymizer"},
    "pending_delivered": {"requester", "moderator", "anonymizer"},
}


class Rollback(Exception):
    pass


class _Rolled:
    """The outcome of a service call made in a savepoint and rolled back."""

    def __init__(self, error=None):
        self.error = error

    @property
    def accepted(self):
        return self.error is None

    @property
    def message(self) -> str | None:
        """The refusal's words, when it is about the step rather than a field of its form."""
        if isinstance(self.error, PermissionDenied):
            return str(self.error)
        if isinstance(self.error, ValidationError) and not hasattr(self.error, "error_dict"):
            return " ".join(self.error.messages)
        return None


def attempt(call) -> _Rolled:
    """Run `call()` in a savepoint and undo it: accepted, or the refusal."""
    try:
        with transaction.atomic():
            call()
            raise Rollback
    except Rollback:
        return _Rolled()
    except (PermissionDenied, ValidationError) as error:
        return _Rolled(error)


@pytest.fixture
def people(db, public_category):
    category_moderator = UserFactory(totp=True)
    public_category.moderators.add(category_moderator)
    return {
        "anonymous": AnonymousUser(),
        "newcomer": UserFactory(roles=[Role.VOLUNTEER], trust_level=0),
        "volunteer": UserFactory(roles=[Role.VOLUNTEER]),
        "claimant": UserFactory(roles=[Role.VOLUNTEER]),
        "requester": UserFactory(roles=[Role.REQUESTER]),
        "category_moderator": category_moderator,
        "moderator": UserFactory(roles=[Role.MODERATOR], totp=True),
        "anonymizer": UserFactory(roles=[Role.ANONYMIZATION], totp=True),
    }


def _edit_details(data_request, **overrides):
    details = request_details(data_request.category, **overrides)
    details.pop("category")
    return details


def build(state, people, category):
    """A request by `requester` in `state`; `claimant` holds (or held) its claim where it has one."""
    requester, claimant = people["requester"], people["claimant"]
    if state == "draft":
        return make_request(requester, category, publish=False)
    if state in ("open", "pending_open", "cleared"):
        data_request = make_request(requester, category, patient_data="no" if state == "open" else "yes")
        if state == "cleared":
            services.request_clear(actor=people["anonymizer"], data_request_id=data_request.pk)
        return data_request
    if state in ("claimed", "withdrawn", "closed"):
        data_request, _claim = make_claimed(requester, claimant, category)
        if state == "withdrawn":
            services.request_withdraw(actor=requester, data_request_id=data_request.pk)
        if state == "closed":
            services.request_close(actor=people["moderator"], data_request_id=data_request.pk, reason="Duplicate.")
        return data_request
    if state == "in_progress":
        data_request, _claim = make_claimed(requester, claimant, category)
        services.update_post(actor=claimant, data_request_id=data_request.pk, raw="Cleaned the synthetic rows.")
        return data_request
    data_request, _claim, result = make_delivered(requester, claimant, category)
    if state == "accepted":
        services.result_accept(actor=requester, result_id=result.pk)
    if state == "pending_delivered":  # re-declared as possibly identifying a patient: back to the channel
        services.request_edit(actor=requester, data_request_id=data_request.pk,
                              details=_edit_details(data_request, patient_data="yes"))
    return data_request


def service_call(action, user, data_request):
    """The service behind `action`, ready to call; None when there is nothing to act on (no result
    to accept, no claim to release), and the step must then not be offered."""
    pk = data_request.pk
    claims = list(Claim.objects.filter(data_request=data_request, status=Claim.Status.ACTIVE))
    mine = [claim for claim in claims if user.is_authenticated and claim.volunteer_id == user.pk]
    others = [claim for claim in claims if claim not in mine]
    result = Result.objects.filter(data_request=data_request).order_by("-pk").first()
    calls = {
        "publish": lambda: services.request_submit(
            actor=user, details=request_details(data_request.category), publish=True, data_request_id=pk),
        "edit": (lambda: services.request_submit(
            actor=user, details=request_details(data_request.category), publish=False, data_request_id=pk))
        if data_request.state == DataRequest.State.DRAFT else (lambda: services.request_edit(
            actor=user, data_request_id=pk, details=_edit_details(
                data_request, patient_data=data_request.patient_data, title=data_request.title))),
        "claim": lambda: services.request_claim(actor=user, data_request_id=pk, plan="A synthetic plan."),
        "update": lambda: services.update_post(actor=user, data_request_id=pk, raw="A synthetic progress update."),
        "deliver": lambda: services.result_deliver(
            actor=user, data_request_id=pk, summary="Another synthetic result.",
            repository_url="https://github.com/example/another", license="BSD-3-Clause"),
        "accept": result and (lambda: services.result_accept(actor=user, result_id=result.pk)),
        "withdraw": lambda: services.request_withdraw(actor=user, data_request_id=pk),
        "close": lambda: services.request_close(actor=user, data_request_id=pk, reason="A synthetic duplicate."),
        "clear": lambda: services.request_clear(actor=user, data_request_id=pk),
        "attach": lambda: services.request_attach(
            actor=user, data_request_id=pk, ip="192.0.2.1",
            file=SimpleUploadedFile("counts.csv", b"week,cases\n1,12\n2,19\n", content_type="text/csv")),
        "export": lambda: services.export_request(actor=user, data_request=data_request),
        "release": mine and (lambda: services.claim_release(actor=user, claim_id=mine[0].pk)),
        "release_others": others and (lambda: services.claim_release(actor=user, claim_id=others[0].pk)),
    }
    return calls[action] or None


def _cells():
    for state in STATES:
        for role in ROLES:
            if role in AUDIENCE.get(state, ROLES):
                yield pytest.param(state, role, id=f"{state}-{role}")


def _loaded(data_request):
    """As pages load it: with its topic and topic area (request_actions runs no query)."""
    return DataRequest.objects.select_related("topic", "topic__category", "category", "author").get(
        pk=data_request.pk)


@pytest.mark.parametrize(("state", "role"), list(_cells()))
def test_actions_offer_exactly_what_the_services_accept(settings, people, public_category,
                                                        anonymization_category, state, role):
    settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL = 1
    data_request = build(state, people, public_category)
    user = people[role]
    assert can_see_request(user, data_request)
    loaded = _loaded(data_request)
    claims = selectors.claim_list(data_request=loaded)
    with CaptureQueriesContext(connection) as queries:
        actions = request_actions(user, loaded, claims=claims,
                                  active_claim_count=selectors.active_claim_count(user=user))
    assert len(queries) <= 1, "one query at most, the claims counted for the limit"
    assert set(actions) == set(ACTIONS)
    mismatches = []
    for name in ACTIONS:
        action = actions[name]
        call = service_call(name, user, _loaded(data_request))
        if call is None:
            if action.allowed:
                mismatches.append(f"{name}: offered, but there is nothing to act on")
            continue
        outcome = attempt(call)
        if outcome.accepted != action.allowed:
            mismatches.append(f"{name}: offered={action.allowed} ({action.reason!r}), service "
                              f"{'accepted' if outcome.accepted else f'refused: {outcome.error!r}'}")
        elif not outcome.accepted and outcome.message is not None and outcome.message != action.reason:
            mismatches.append(f"{name}: refused with {outcome.message!r}, the actions say {action.reason!r}")
    assert not mismatches, "\n".join(mismatches)


# --- The same words on the pages --------------------------------------------------------------

def _panel(client, data_request) -> str:
    response = client.get(data_request.topic.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_a_new_volunteer_learns_what_earns_the_trust_to_claim(client, settings, requester, public_category):
    settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL = 1
    settings.FORUM_TRUST_LEVELS = {**settings.FORUM_TRUST_LEVELS,
                                   1: {"days": 0, "topics_read": 3, "posts": 0, "likes_received": 0}}
    data_request = make_request(requester, public_category)
    newcomer = UserFactory(roles=[Role.VOLUNTEER], trust_level=0)
    reason = request_actions(newcomer, _loaded(data_request), claims=[])["claim"].reason
    assert "from trust level 1; you are at level 0" in reason and "read 3 topics started by others" in reason
    sign_in(client, newcomer)
    page = _panel(client, data_request)
    assert f"<strong>Claim this request:</strong> {reason}" in page
    assert f'href="/requests/{data_request.pk}/claim/"' not in page  # not offered
    # Refused the same way by the claim page and by the service, never with a bare "You cannot do this".
    response = client.post(f"/requests/{data_request.pk}/claim/", {"plan": ""})
    assert response.status_code == 403 and reason in response.content.decode()
    with pytest.raises(PermissionDenied) as error:
        services.request_claim(actor=newcomer, data_request_id=data_request.pk)
    assert str(error.value) == reason
    assert not Claim.objects.exists()


def test_visitors_are_asked_to_sign_in_to_claim(client, requester, public_category):
    data_request = make_request(requester, public_category)
    page = _panel(client, data_request)
    assert "Sign in to claim" in page
    assert f'href="/requests/{data_request.pk}/claim/"' not in page


def test_a_volunteer_at_the_limit_is_told_before_claiming(client, settings, requester, volunteer, public_category):
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 1
    make_claimed(requester, volunteer, public_category, title="The synthetic request already claimed")
    second = make_request(requester, public_category, title="One more synthetic request")
    sign_in(client, volunteer)
    page = _panel(client, second)
    assert "You already have 1 active claims, the most allowed." in page
    assert f'href="/requests/{second.pk}/claim/"' not in page
    claim_page = client.get(f"/requests/{second.pk}/claim/").content.decode()
    assert "You already have 1 active claims, the most allowed." in claim_page and "<form" not in claim_page.split(
        "<main", 1)[-1].split("</main>")[0]


def test_the_requester_learns_why_they_cannot_withdraw_work_in_progress(client, requester, volunteer,
                                                                        public_category):
    data_request, claim = make_claimed(requester, volunteer, public_category)
    services.update_post(actor=volunteer, data_request_id=data_request.pk, raw="Cleaned the synthetic rows.")
    sign_in(client, requester)
    page = _panel(client, data_request)
    words = "This request is in progress: only open or claimed requests can be withdrawn."
    assert words in page
    assert f'href="/requests/{data_request.pk}/withdraw/"' not in page
    withdraw_page = client.get(f"/requests/{data_request.pk}/withdraw/").content.decode()
    assert words in withdraw_page and "Withdraw request" not in withdraw_page


def test_a_silenced_requester_sees_why_they_cannot_edit(client, requester, public_category):
    data_request = make_request(requester, public_category)
    requester.silenced_until = timezone.now() + datetime.timedelta(days=1)
    requester.silence_reason = "Synthetic cool-down."
    requester.save(update_fields=["silenced_until", "silence_reason"])
    sign_in(client, requester)
    page = _panel(client, data_request)
    assert "Synthetic cool-down." in page
    assert f'href="/requests/{data_request.pk}/edit/"' not in page
    response = client.get(f"/requests/{data_request.pk}/edit/")
    assert response.status_code == 403 and "Synthetic cool-down." in response.content.decode()


def test_the_panel_offers_the_claimant_their_steps(client, requester, volunteer, public_category):
    data_request, claim = make_claimed(requester, volunteer, public_category)
    sign_in(client, UserFactory(roles=[Role.VOLUNTEER]))
    assert f'href="/requests/{data_request.pk}/claim/">Join as a collaborator</a>' in _panel(client, data_request)
    client.logout()
    sign_in(client, volunteer)
    page = _panel(client, data_request)
    for url in (f"/requests/{data_request.pk}/update/", f"/requests/{data_request.pk}/result/",
                f"/claims/{claim.pk}/release/"):
        assert f'"{url}"' in page, url
    assert f'href="/requests/{data_request.pk}/claim/"' not in page
    assert "You have already claimed this request." not in page  # theirs already: nothing to explain


def _topic_queries(client, data_request) -> int:
    with CaptureQueriesContext(connection) as queries:
        _panel(client, data_request)
    return len(queries)


def test_the_panel_for_a_volunteer_who_may_claim_runs_no_more_queries_with_more_claims(
        client, settings, requester, volunteer, public_category):
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 100
    data_request, _claim = make_claimed(requester, UserFactory(roles=[Role.VOLUNTEER]), public_category)
    sign_in(client, volunteer)
    _panel(client, data_request)  # warms what every page reads once
    invalidate()  # as after a write: the panel's reads are made again
    client.get("/faq/")  # (and the bell's count, counted here as below)
    before = _topic_queries(client, data_request), _topic_queries(client, data_request)
    for _ in range(3):
        services.request_claim(actor=UserFactory(roles=[Role.VOLUNTEER]), data_request_id=data_request.pk)
    client.get("/faq/")  # what a write made stale (the bell's count) is counted once again
    # The first reader after the claims (the panel read again), then the next one (from the cache).
    assert (_topic_queries(client, data_request), _topic_queries(client, data_request)) == before
    assert before[1] < before[0]


# --- The table ----------------------------------------------------------------------------------

def test_every_step_of_the_table_starts_and_ends_in_real_states():
    states = set(DataRequest.State)
    for name, step in TRANSITIONS.items():
        assert step.moves, name
        assert set(step.moves) <= states and set(step.moves.values()) <= states, name
    # Claiming a request someone already works on joins it; it does not move it back.
    assert TRANSITIONS["claim"].moves == {"open": "claimed", "claimed": "claimed", "in_progress": "in_progress"}


def test_actions_serialize_as_plain_data(requester, public_category):
    data_request = make_request(requester, public_category)
    actions = request_actions(AnonymousUser(), _loaded(data_request), claims=[])
    assert actions["claim"].as_dict() == {"allowed": False, "reason": "Sign in to claim this request.",
                                          "shown": True}
    assert actions["export"].as_dict()["allowed"] is False
