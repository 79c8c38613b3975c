"""Claims and expiry stay right when things happen at the same moment (PostgreSQL)."""
import datetime
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connections
from django.utils import timezone

from forum.models import Notification, OutboundEmail
from forum.permissions import Role
from requests_board import services
from requests_board.models import Claim, RequestEvent
from requests_board.notifications import NoticeKind
from tests.forum.factories import UserFactory
from tests.requests_board.factories import make_claimed, make_request

pytestmark = pytest.mark.django_db(transaction=True)


def _run_together(functions) -> list:
    """Start every function at once, each on its own thread and connection; return what each raised."""
    barrier = threading.Barrier(len(functions))
    errors = []

    def run(function):
        try:
            barrier.wait()
            function()
        except Exception as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_expiry_runs_remind_and_release_each_claim_once(needs_postgresql, settings, requester,
                                                                     volunteer, public_category):
    settings.REQUESTS_CLAIM_REMIND_AFTER_DAYS = 7
    settings.REQUESTS_CLAIM_RELEASE_AFTER_DAYS = 3
    volunteers = [volunteer] + [UserFactory(roles=[Role.VOLUNTEER]) for _ in range(3)]
    claims = [make_claimed(requester, person, public_category, title=f"Request {n}")[1]
              for n, person in enumerate(volunteers)]
    mail.outbox.clear()
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(days=8), tick=False):
        assert _run_together([services.claims_expire] * 4) == []
    assert Notification.objects.filter(kind=NoticeKind.CLAIM_REMINDER).count() == len(claims)
    assert OutboundEmail.objects.filter(kind=NoticeKind.CLAIM_REMINDER).count() == len(claims)
    assert RequestEvent.objects.filter(kind="reminded").count() == len(claims)
    with time_machine.travel(start + datetime.timedelta(days=12), tick=False):
        assert _run_together([services.claims_expire] * 4) == []
    assert Claim.objects.filter(status=Claim.Status.EXPIRED).count() == len(claims)
    assert RequestEvent.objects.filter(kind="expired").count() == len(claims)
    assert Notification.objects.filter(kind=NoticeKind.CLAIM_EXPIRED).count() == len(claims)
    for person in volunteers:
        assert len([m for m in mail.outbox if m.to == [person.email]]) == 2  # one reminder, one release


def test_concurrent_claims_never_pass_the_limit(needs_postgresql, settings, requester, volunteer,
                                                public_category):
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 2
    requests = [make_request(requester, public_category, title=f"Request {n}") for n in range(5)]
    errors = _run_together([
        (lambda data_request=data_request: services.request_claim(actor=volunteer, data_request_id=data_request.pk))
        for data_request in requests
    ])
    assert Claim.objects.filter(volunteer=volunteer, status="active").count() == 2
    assert len(errors) == 3 and all("active claims" in " ".join(error.messages) for error in errors)


def test_concurrent_claims_on_one_request_give_one_lead(needs_postgresql, requester, public_category):
    data_request = make_request(requester, public_category)
    people = [UserFactory(roles=[Role.VOLUNTEER]) for _ in range(5)]
    assert _run_together([
        (lambda person=person: services.request_claim(actor=person, data_request_id=data_request.pk))
        for person in people
    ]) == []
    roles = sorted(Claim.objects.filter(data_request=data_request).values_list("role", flat=True))
    assert roles == ["collaborator"] * 4 + ["lead"]
    assert RequestEvent.objects.filter(data_request=data_request, kind="claimed").count() == 1
