"""Recording and checking licensed items through the real request flows: holds, releases, the
author's notification and email, idempotent checks, the append-only log, overdue checks and rechecks after a
change of policy."""
import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from forum.models import Notification, OutboundEmail
from licensing import services as licensing_services
from licensing import tasks as licensing_tasks
from licensing.models import LicensedItem, LicenseEvent
from requests_board import services
from requests_board.models import DataRequest, Result
from requests_board.notifications import NoticeKind
from requests_board.services.lifecycle import InvalidTransition
from tests.anonymization import files
from tests.requests_board.factories import make_claimed, make_request, request_details

pytestmark = pytest.mark.django_db
State = LicensedItem.State
Action = LicenseEvent.Action
REPOSITORY = "https://github.com/example/incubation"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and run what it queued for after commit (the license check, then the emails),
    as the worker would."""
    def _run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)
    return _run


@pytest.fixture
def claimed(requester, volunteer, public_category):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    return data_request


@pytest.fixture
def deliver(run, volunteer, claimed):
    def _deliver(license, repository_license="", attachment=None, data_request=None):
        return run(services.result_deliver, actor=volunteer, data_request_id=(data_request or claimed).pk,
                   summary="The median is 5.1 days (synthetic).", repository_url=REPOSITORY, license=license,
                   repository_license=repository_license, attachment=attachment, ip="192.0.2.7")
    return _deliver


def result_item(result) -> LicensedItem:
    return LicensedItem.objects.get(item_type=LicensedItem.ItemType.RESULT, object_id=result.pk)


def dataset_item(data_request) -> LicensedItem:
    return LicensedItem.objects.get(item_type=LicensedItem.ItemType.DATASET, object_id=data_request.pk)


def notices(kind, recipient=None):
    """The notifications of `kind` (to `recipient`): one per person and event, whatever the retries."""
    found = Notification.objects.filter(kind=kind).order_by("pk")
    return list(found.filter(user=recipient) if recipient else found)


def emailed(notification) -> bool:
    """Whether the email owed for `notification` was sent."""
    return OutboundEmail.objects.filter(notification=notification, status=OutboundEmail.Status.SENT).exists()


# --- Results ---------------------------------------------------------------------------------------

def test_a_result_under_gpl_is_held_logged_and_its_author_emailed(deliver, claimed, volunteer, mailoutbox):
    mailoutbox.clear()
    result = deliver("GPL-3.0-only")
    item = result_item(result)
    assert item.state == State.HELD and item.is_held and item.held_at is not None
    assert (item.kind, item.expression, item.topic_id, item.post_id, item.author) == (
        "result", "GPL-3.0-only", claimed.topic_id, result.post_id, volunteer)
    assert item.checked_revision == item.revision == 1
    [problem] = item.problems
    assert "“GPL-3.0-only”" in problem and "BSD-3-Clause (suggested)" in problem
    [event] = item.events.all()
    assert (event.action, event.revision, event.expression, event.problems) == (
        Action.HELD, 1, "GPL-3.0-only", item.problems)
    [notice] = notices(NoticeKind.LICENSE_HELD)
    assert (notice.user, notice.topic_id) == (volunteer, claimed.topic_id) and emailed(notice)
    held_mail = [message for message in mailoutbox if "Held for its license" in message.subject]
    assert len(held_mail) == 1 and held_mail[0].to == [volunteer.email]
    assert "does not follow the site's licensing policy" in held_mail[0].body
    # Only its author and the moderators read a held result: no email quotes it to anybody else.
    for message in mailoutbox:
        if message.to != [volunteer.email]:
            assert "5.1 days" not in message.body + message.alternatives[0][0]


def test_a_held_result_cannot_be_accepted_and_the_refusal_names_the_problem(deliver, claimed, requester):
    result = deliver("GPL-3.0-only")
    with pytest.raises(InvalidTransition) as refused:
        services.result_accept(actor=requester, result_id=result.pk)
    message = " ".join(refused.value.messages)
    assert "held for its license" in message and "“GPL-3.0-only”" in message and "BSD-3-Clause" in message
    claimed.refresh_from_db()
    assert claimed.state == DataRequest.State.DELIVERED and claimed.accepted_result_id is None


def test_fixing_the_license_releases_the_result_once(run, deliver, claimed, requester, volunteer, mailoutbox):
    result = deliver("GPL-3.0-only")
    mailoutbox.clear()
    run(services.result_license_edit, actor=volunteer, result_id=result.pk, license="BSD-3-Clause",
        repository_license="MIT")
    item = result_item(result)
    assert item.state == State.OK and item.problems == [] and item.held_at is None
    assert (item.revision, item.checked_revision, item.expression, item.code_expression) == (
        2, 2, "BSD-3-Clause", "MIT")
    assert list(item.events.values_list("action", "revision")) == [(Action.HELD, 1), (Action.RELEASED, 2)]
    [released] = notices(NoticeKind.LICENSE_RELEASED, volunteer)
    assert emailed(released)
    assert [message.subject for message in mailoutbox if "Released" in message.subject] == [
        f"Released: the license of your item on “{claimed.topic.title}” is fixed"]

    # The check is idempotent: a retried or duplicated task changes nothing and tells nobody again.
    def told():
        return Notification.objects.count(), OutboundEmail.objects.count()

    events, owed = LicenseEvent.objects.count(), told()
    assert licensing_services.item_check(item_id=item.pk) == "unchanged"
    assert licensing_tasks.check_license.delay(item_id=item.pk).get() == "unchanged"
    assert (LicenseEvent.objects.count(), told()) == (events, owed)

    accepted = run(services.result_accept, actor=requester, result_id=result.pk)
    assert accepted.accepted_at is not None


def test_a_result_following_the_policy_is_ok_without_events_or_notices(deliver):
    result = deliver("BSD-2-Clause", repository_license="MIT OR Apache-2.0")
    item = result_item(result)
    assert item.state == State.OK and item.checked_revision == 1 and item.held_at is None
    assert item.license_id_list == ["BSD-2-Clause", "MIT", "Apache-2.0"]
    assert not item.events.exists()
    assert not notices(NoticeKind.LICENSE_HELD) and not notices(NoticeKind.LICENSE_RELEASED)


def test_fixing_only_the_results_license_keeps_the_repository_license_optional(run, deliver, volunteer):
    result = deliver("GPL-3.0-only")
    run(services.result_license_edit, actor=volunteer, result_id=result.pk, license="BSD-3-Clause",
        repository_license="")
    assert result_item(result).state == State.OK


def test_a_repository_under_a_non_osi_license_holds_the_result(run, deliver, volunteer):
    result = deliver("BSD-3-Clause", repository_license="CC-BY-4.0")
    item = result_item(result)
    assert item.is_held and item.problems[0].startswith("Repository: Not allowed for code: “CC-BY-4.0”")
    run(services.result_license_edit, actor=volunteer, result_id=result.pk, license="BSD-3-Clause",
        repository_license="MIT")
    assert result_item(result).state == State.OK


def test_a_figure_under_a_data_license_holds_the_result_with_a_figure_message(deliver):
    result = deliver("CC-BY-4.0", attachment=files.uploaded("figure.png", files.plain_png()))
    item = result_item(result)
    assert item.file_kinds == ["png"]
    assert item.is_held
    assert item.problems[-1].startswith("It attaches a figure, which is a pictorial result.")


def test_changing_problems_while_held_logs_and_tells_again_at_the_new_revision(run, deliver, volunteer):
    result = deliver("GPL-3.0-only")
    run(services.result_license_edit, actor=volunteer, result_id=result.pk, license="MIT", repository_license="MIT")
    item = result_item(result)
    assert item.is_held and "“MIT”" in item.problems[0]
    assert list(item.events.values_list("action", "revision")) == [(Action.HELD, 1), (Action.HELD, 2)]
    assert len(notices(NoticeKind.LICENSE_HELD, volunteer)) == 2


def test_an_unchecked_bad_license_is_refused_at_acceptance_by_the_policy_itself(volunteer, requester, claimed):
    # An item left unchecked (recorded before checks ran at once, or its check lost): acceptance
    # asks the policy directly.
    result = services.result_deliver(actor=volunteer, data_request_id=claimed.pk, summary="Synthetic.",
                                     repository_url=REPOSITORY, license="CC0-1.0")
    LicensedItem.objects.filter(pk=result_item(result).pk).update(state=State.PENDING, checked_revision=0)
    with pytest.raises(InvalidTransition, match="“CC0-1.0”"):
        services.result_accept(actor=requester, result_id=result.pk)


def test_a_license_expression_too_long_once_normalized_is_refused_at_delivery(volunteer, claimed):
    expression = "GPL-2.0+ OR LGPL-2.1+ OR GPL-3.0+ OR LGPL-3.0+ OR LGPL-2.0+ OR GPL-3.0 OR GPL-2.0"
    with pytest.raises(ValidationError):
        services.result_deliver(actor=volunteer, data_request_id=claimed.pk, summary="Synthetic.",
                                repository_url=REPOSITORY, license=expression)


# --- Recording ------------------------------------------------------------------------------------

def _facts(result: Result, **changes) -> dict:
    facts = {
        "item_type": LicensedItem.ItemType.RESULT, "object_id": result.pk, "topic": result.post.topic,
        "post": result.post, "author": result.author, "title": result.post.topic.title, "kind": "result",
        "expression": result.license, "code_expression": result.repository_license, "file_kinds": [],
    }
    return {**facts, **changes}


def test_recording_identical_facts_changes_nothing_and_queues_no_check(deliver, django_capture_on_commit_callbacks):
    result = deliver("BSD-3-Clause")
    before = result_item(result)
    with django_capture_on_commit_callbacks() as queued:
        item = licensing_services.item_record(**_facts(result, file_kinds=()))
    assert queued == []
    after = result_item(result)
    assert (item.pk, after.revision, after.checked_revision, after.state) == (before.pk, 1, 1, State.OK)


def test_recording_a_new_title_updates_it_without_a_new_check(deliver, django_capture_on_commit_callbacks):
    result = deliver("BSD-3-Clause")
    with django_capture_on_commit_callbacks() as queued:
        licensing_services.item_record(**_facts(result, title="A renamed synthetic request"))
    # No check is queued: only its topic's pages are made stale (they keep its items).
    assert [callback.__qualname__ for callback in queued] == ["invalidate_on_commit.<locals>.<lambda>"]
    item = result_item(result)
    assert (item.title, item.revision, item.checked_revision) == ("A renamed synthetic request", 1, 1)


def test_recording_a_new_license_bumps_the_revision_and_queues_one_check(deliver, run):
    result = deliver("BSD-3-Clause")
    item = run(licensing_services.item_record, **_facts(result, expression="MIT", code_expression="Apache-2.0"))
    item.refresh_from_db()
    assert (item.revision, item.checked_revision, item.state) == (2, 2, State.HELD)
    assert item.license_ids == " MIT Apache-2.0 "


def test_file_kinds_are_recorded_as_a_sorted_set(deliver, run):
    result = deliver("BSD-3-Clause")
    run(licensing_services.item_record, **_facts(result, file_kinds=["png", "csv", "png"]))
    item = result_item(result)
    assert item.file_kinds == ["csv", "png"] and item.revision == 2
    run(licensing_services.item_record, **_facts(result, file_kinds=("csv", "png")))
    assert result_item(result).revision == 2


def test_checking_a_vanished_item_reports_it_gone():
    assert licensing_services.item_check(item_id=987654) == "gone"


# --- A request's data license --------------------------------------------------------------------

def test_publishing_records_the_data_license_and_a_default_one_passes(run, requester, public_category):
    data_request = run(make_request, author=requester, category=public_category)
    item = dataset_item(data_request)
    assert (item.kind, item.expression, item.state, item.author) == ("data", "CC-BY-SA-4.0", State.OK, requester)
    assert item.post_id is None and item.topic_id == data_request.topic_id


def test_a_draft_records_no_data_license(requester, public_category):
    draft = make_request(requester, public_category, publish=False, data_license="MIT")
    assert not LicensedItem.objects.filter(item_type="dataset", object_id=draft.pk).exists()


def test_a_data_license_edited_to_mit_is_held_and_released_when_set_back(run, requester, public_category,
                                                                           mailoutbox):
    data_request = run(make_request, author=requester, category=public_category)
    mailoutbox.clear()
    run(services.request_edit, actor=requester, data_request_id=data_request.pk,
        details=request_details(public_category, data_license="mit"))
    data_request.refresh_from_db()
    assert data_request.data_license == "MIT"
    item = dataset_item(data_request)
    assert item.is_held and item.revision == 2
    assert "Not allowed for data: “MIT”" in item.problems[0] and "CC-BY-SA-4.0 (suggested)" in item.problems[0]
    assert list(item.events.values_list("action", flat=True)) == [Action.HELD]
    assert [notice.topic_id for notice in notices(NoticeKind.LICENSE_HELD, requester)] == [data_request.topic_id]
    assert [message.to for message in mailoutbox] == [[requester.email]]

    run(services.request_edit, actor=requester, data_request_id=data_request.pk,
        details=request_details(public_category, data_license="CC-BY-4.0"))
    item = dataset_item(data_request)
    assert item.state == State.OK and item.revision == 3
    assert list(item.events.values_list("action", flat=True)) == [Action.HELD, Action.RELEASED]
    assert len(notices(NoticeKind.LICENSE_RELEASED, requester)) == 1


def test_editing_other_details_does_not_check_the_data_license_again(run, requester, public_category):
    data_request = run(make_request, author=requester, category=public_category)
    run(services.request_edit, actor=requester, data_request_id=data_request.pk,
        details=request_details(public_category, question="A reworded synthetic question."))
    item = dataset_item(data_request)
    assert (item.revision, item.checked_revision) == (1, 1)


def test_a_request_published_with_a_code_license_for_its_data_is_held(run, requester, public_category):
    data_request = run(make_request, author=requester, category=public_category, data_license="Apache-2.0")
    assert dataset_item(data_request).is_held


# --- The log is append-only ------------------------------------------------------------------------

@pytest.fixture
def event(deliver):
    result = deliver("GPL-3.0-only")
    return result_item(result).events.get()


def test_a_logged_event_cannot_be_saved_again(event):
    event.problems = []
    with pytest.raises(ValidationError, match="append-only"):
        event.save()


def test_a_logged_event_cannot_be_deleted(event):
    with pytest.raises(ValidationError, match="append-only"):
        event.delete()


def test_the_log_cannot_be_updated_or_deleted_in_bulk(event):
    attempts = [
        lambda: LicenseEvent.objects.filter(pk=event.pk).update(problems=[]),
        lambda: LicenseEvent.objects.all().delete(),
        lambda: event.item.events.update(action=Action.RELEASED),
        lambda: event.item.events.all().delete(),
        lambda: LicenseEvent.objects.bulk_update([event], ["problems"]),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="append-only"), transaction.atomic():
            attempt()
    event.refresh_from_db()
    assert event.action == Action.HELD and event.problems


# --- Overdue checks and rechecks ------------------------------------------------------------------

def test_unchecked_items_are_listed_once_overdue_and_the_periodic_task_checks_them(volunteer, claimed):
    # Items left unchecked, as if their check had been lost (or they predate checks run at once).
    result = services.result_deliver(actor=volunteer, data_request_id=claimed.pk, summary="Synthetic.",
                                     repository_url=REPOSITORY, license="GPL-3.0-only")
    item = result_item(result)
    LicensedItem.objects.filter(pk__in=[item.pk, dataset_item(claimed).pk]).update(
        revision=F("revision") + 1)
    assert licensing_services.items_unchecked() == []  # just recorded: the worker may still be on it
    overdue = [dataset_item(claimed).pk, item.pk]  # the request's data was never checked either
    assert licensing_services.items_unchecked(older_than_seconds=0) == overdue
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        assert licensing_services.items_unchecked() == overdue
        assert licensing_tasks.check_pending_licenses.delay().get() == 2
        assert licensing_services.items_unchecked() == []
    assert result_item(result).is_held and dataset_item(claimed).state == State.OK


def test_a_recheck_dry_run_counts_and_changes_nothing(deliver, django_capture_on_commit_callbacks):
    result = deliver("BSD-3-Clause")
    with django_capture_on_commit_callbacks() as queued:
        assert licensing_services.items_recheck() == 2  # the request's data and the result
    assert queued == []
    assert result_item(result).revision == 1


def test_a_recheck_after_a_change_of_policy_holds_and_then_releases(run, settings, deliver, claimed, volunteer):
    result = deliver("BSD-3-Clause")
    settings.LICENSING_RESULT_LICENSES = ["BSD-2-Clause"]
    assert run(licensing_services.items_recheck, apply=True) == 2
    item = result_item(result)
    assert item.is_held and item.revision == 2 and "Use BSD-2-Clause." in item.problems[0]
    assert dataset_item(claimed).state == State.OK and dataset_item(claimed).revision == 2
    assert len(notices(NoticeKind.LICENSE_HELD, volunteer)) == 1

    # Rechecking under the same policy finds the same problems: no new event, no new email.
    run(licensing_services.items_recheck, apply=True)
    item = result_item(result)
    assert item.is_held and (item.revision, item.checked_revision) == (3, 3)
    assert item.events.count() == 1 and len(notices(NoticeKind.LICENSE_HELD, volunteer)) == 1

    settings.LICENSING_RESULT_LICENSES = ["BSD-3-Clause", "BSD-2-Clause"]
    run(licensing_services.items_recheck, apply=True)
    item = result_item(result)
    assert item.state == State.OK
    assert list(item.events.values_list("action", flat=True)) == [Action.HELD, Action.RELEASED]
    assert len(notices(NoticeKind.LICENSE_RELEASED, volunteer)) == 1
