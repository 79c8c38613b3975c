"""The life cycle of a request: drafts, publishing, every transition, refusals that change nothing."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from forum.models import Post, Topic
from forum.permissions import Role
from requests_board import services
from requests_board.models import Claim, DataRequest, RequestEvent
from requests_board.permissions import request_is_public
from tests.forum.factories import UserFactory
from tests.requests_board.factories import make_claimed, make_delivered, make_request, request_details

pytestmark = pytest.mark.django_db
State = DataRequest.State


def snapshot(data_request):
    """Everything a refused step must leave as it was."""
    data_request.refresh_from_db()
    return (
        data_request.state, data_request.accepted_result_id, data_request.topic_id,
        RequestEvent.objects.filter(data_request=data_request).count(),
        Claim.objects.filter(data_request=data_request, status="active").count(),
        Topic.objects.count(),
    )


def test_publish_creates_a_topic_with_the_question_and_expertise_tags(requester, public_category):
    data_request = make_request(requester, public_category, expertise=["Statistics", "time series"])
    topic = data_request.topic
    assert data_request.state == State.OPEN and data_request.published_at is not None
    assert topic.category == public_category and topic.author == requester
    assert topic.first_post.raw.startswith("A CSV of 120")
    assert sorted(tag.name for tag in topic.tags.all()) == ["statistics", "time-series"]
    assert request_is_public(data_request)
    kinds = list(data_request.events.values_list("kind", "from_state", "to_state"))
    assert kinds == [("created", "", "draft"), ("published", "draft", "open")]


def test_draft_needs_only_a_title_and_creates_no_topic(requester, public_category):
    details = {"title": "Half-written request", "category": public_category}
    draft = services.request_submit(actor=requester, details=details, publish=False)
    assert draft.state == State.DRAFT and draft.topic is None
    assert not request_is_public(draft)
    assert Topic.objects.count() == 0


def test_draft_is_published_later(requester, public_category):
    draft = services.request_submit(
        actor=requester, details={"title": "Draft first", "category": public_category}, publish=False
    )
    published = services.request_submit(
        actor=requester, details=request_details(public_category, title="Draft first"), publish=True,
        data_request_id=draft.pk,
    )
    assert published.pk == draft.pk and published.state == State.OPEN and published.topic.title == "Draft first"


def test_refused_publish_leaves_the_draft_as_it_was(requester, public_category):
    draft = services.request_submit(
        actor=requester, details={"title": "Keep me", "category": public_category}, publish=False
    )
    with pytest.raises(ValidationError):
        services.request_submit(
            actor=requester, details=request_details(public_category, title="Changed", serves_covid=False),
            publish=True, data_request_id=draft.pk,
        )
    draft.refresh_from_db()
    assert draft.title == "Keep me" and draft.state == State.DRAFT and Topic.objects.count() == 0


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"serves_covid": False}, "serves_covid", "COVID-19"),
    ({"patient_data": ""}, "patient_data", "identify a patient"),
    ({"data_links": ["http://example.org/data.csv"]}, "data_links", "https://"),
    ({"data_links": ["not a link"]}, "data_links", "not a web address"),
    ({"deadline": datetime.date(2020, 1, 1)}, "deadline", "in the past"),
    ({"title": "   "}, "title", "title"),
    ({"question": ""}, "question", "describe your question"),
    ({"modality": ""}, "modality", "kind of data"),
    ({"modality": "smell"}, "modality", "one of the options"),
    ({"result_type": ""}, "result_type", "form of the result"),
    ({"result_description": ""}, "result_description", "result you need"),
    ({"expertise": []}, "expertise", "expertise"),
    ({"expertise": [f"tag{n}" for n in range(9)]}, "expertise", "at most"),
    ({"data_links": [f"https://zenodo.org/records/{n}" for n in range(11)]}, "data_links", "at most"),
])
def test_bad_details_are_refused_with_a_clear_message_and_nothing_saved(requester, public_category, overrides,
                                                                         field, words):
    with pytest.raises(ValidationError) as raised:
        make_request(requester, public_category, **overrides)
    assert field in raised.value.message_dict
    assert words.lower() in " ".join(raised.value.message_dict[field]).lower()
    assert DataRequest.objects.count() == 0 and Topic.objects.count() == 0


def test_links_show_their_host(requester, public_category):
    data_request = make_request(requester, public_category, data_links=[
        "https://zenodo.org/records/1", "https://www.dropbox.com/s/x", "https://data.example.org/a.csv",
        "https://doi.org/10.5281/zenodo.1",
    ])
    assert [link["host"] for link in data_request.links] == ["Zenodo", "Dropbox", "data.example.org", "DOI"]


def test_only_requesters_ask(volunteer, public_category):
    with pytest.raises(PermissionDenied):
        make_request(volunteer, public_category)


def test_a_private_category_cannot_be_chosen_directly(requester, anonymization_category):
    with pytest.raises(ValidationError) as raised:
        make_request(requester, anonymization_category)
    assert "category" in raised.value.message_dict


@pytest.mark.parametrize("answer", ["yes", "unsure"])
def test_patient_data_goes_to_the_anonymization_channel_first(requester, public_category, anonymization_category,
                                                              answer):
    data_request = make_request(requester, public_category, patient_data=answer)
    assert data_request.topic.category == anonymization_category
    assert data_request.category == public_category  # where it goes once cleared
    assert data_request.needs_anonymization and not request_is_public(data_request)
    assert "sent_to_anonymization" in data_request.events.values_list("kind", flat=True)


def test_the_anonymization_channel_is_created_when_a_site_lacks_it(requester, public_category):
    data_request = make_request(requester, public_category, patient_data="yes")
    assert data_request.topic.category.slug == "anonymization"
    assert not data_request.topic.category.is_public


def test_clearing_publishes_into_the_chosen_area(requester, moderator, public_category, anonymization_category):
    data_request = make_request(requester, public_category, patient_data="yes")
    services.request_clear(actor=moderator, data_request_id=data_request.pk)
    data_request.refresh_from_db()
    assert data_request.topic.category == public_category and data_request.cleared_at is not None
    assert request_is_public(data_request)


def test_a_requester_cannot_clear_their_own_request(requester, public_category, anonymization_category):
    data_request = make_request(requester, public_category, patient_data="yes")
    with pytest.raises(PermissionDenied):
        services.request_clear(actor=requester, data_request_id=data_request.pk)
    data_request.refresh_from_db()
    assert data_request.cleared_at is None and not request_is_public(data_request)


def test_saying_later_that_data_may_identify_a_patient_hides_the_request_at_once(requester, public_category,
                                                                                  anonymization_category):
    data_request = make_request(requester, public_category)
    services.request_edit(actor=requester, data_request_id=data_request.pk,
                          details=request_details(public_category, patient_data="yes"))
    data_request.refresh_from_db()
    assert data_request.topic.category == anonymization_category and not request_is_public(data_request)
    # Saying "no" again does not make it public: only clearing does.
    services.request_edit(actor=requester, data_request_id=data_request.pk,
                          details=request_details(public_category, patient_data="no"))
    data_request.refresh_from_db()
    assert not request_is_public(data_request)


def test_editing_changes_title_question_and_tags_through_the_forum(requester, public_category):
    data_request = make_request(requester, public_category)
    services.request_edit(actor=requester, data_request_id=data_request.pk, details=request_details(
        public_category, title="A sharper title", question="A sharper question.", expertise=["imaging"],
    ))
    data_request.refresh_from_db()
    topic = data_request.topic
    first_post = Post.objects.get(topic=topic, number=1)
    assert topic.title == "A sharper title" and first_post.raw == "A sharper question."
    assert [tag.name for tag in topic.tags.all()] == ["imaging"]
    assert first_post.revision_count == 2


def test_others_cannot_edit_a_request(requester, volunteer, public_category):
    data_request = make_request(requester, public_category)
    with pytest.raises(PermissionDenied):
        services.request_edit(actor=volunteer, data_request_id=data_request.pk,
                              details=request_details(public_category, title="Hijacked"))


def test_full_life_cycle_is_recorded(requester, volunteer, public_category):
    data_request, claim, result = make_delivered(requester, volunteer, public_category)
    services.result_accept(actor=requester, result_id=result.pk)
    data_request.refresh_from_db()
    claim.refresh_from_db()
    assert data_request.state == State.ACCEPTED and data_request.accepted_result == result
    assert data_request.accepted_at is not None and data_request.first_claimed_at is not None
    assert claim.status == Claim.Status.COMPLETED
    transitions = [
        (event.kind, event.from_state, event.to_state, event.actor_id)
        for event in data_request.events.exclude(from_state="")
    ]
    assert transitions == [
        ("published", "draft", "open", requester.pk),
        ("claimed", "open", "claimed", volunteer.pk),
        ("delivered", "claimed", "delivered", volunteer.pk),
        ("accepted", "delivered", "accepted", requester.pk),
    ]


def test_an_update_moves_a_claimed_request_in_progress(requester, volunteer, public_category):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    post = services.update_post(actor=volunteer, data_request_id=data_request.pk, raw="Halfway there.")
    data_request.refresh_from_db()
    assert data_request.state == State.IN_PROGRESS
    assert post.topic_id == data_request.topic_id and post.progress_update.data_request == data_request


def test_accepting_someone_elses_request_is_refused(requester, volunteer, public_category):
    other = UserFactory(roles=[Role.REQUESTER])
    data_request, _claim, result = make_delivered(requester, volunteer, public_category)
    before = snapshot(data_request)
    for actor in (other, volunteer):
        with pytest.raises(PermissionDenied):
            services.result_accept(actor=actor, result_id=result.pk)
    assert snapshot(data_request) == before


def test_a_moderator_may_accept_for_the_requester(requester, volunteer, moderator, public_category):
    data_request, _claim, result = make_delivered(requester, volunteer, public_category)
    services.result_accept(actor=moderator, result_id=result.pk)
    data_request.refresh_from_db()
    assert data_request.state == State.ACCEPTED


def test_withdraw_ends_claims(requester, volunteer, public_category):
    data_request, claim = make_claimed(requester, volunteer, public_category)
    services.request_withdraw(actor=requester, data_request_id=data_request.pk, reason="Solved elsewhere")
    data_request.refresh_from_db()
    claim.refresh_from_db()
    assert data_request.state == State.WITHDRAWN and claim.status == Claim.Status.RELEASED


def test_close_needs_a_reason_and_closes_the_topic(requester, moderator, public_category):
    data_request = make_request(requester, public_category)
    before = snapshot(data_request)
    with pytest.raises(ValidationError) as raised:
        services.request_close(actor=moderator, data_request_id=data_request.pk, reason="  ")
    assert "reason" in raised.value.message_dict and snapshot(data_request) == before
    services.request_close(actor=moderator, data_request_id=data_request.pk, reason="Duplicate of another request")
    data_request.refresh_from_db()
    assert data_request.state == State.CLOSED and data_request.topic.closed
    assert data_request.close_reason == "Duplicate of another request"
    assert data_request.events.last().detail == "Duplicate of another request"


def test_only_moderators_close(requester, volunteer, public_category):
    data_request = make_request(requester, public_category)
    for actor in (requester, volunteer):
        with pytest.raises(PermissionDenied):
            services.request_close(actor=actor, data_request_id=data_request.pk, reason="No")


# Every step from every state it does not start from is refused and changes nothing.
INVALID = [
    ("withdraw", State.DELIVERED), ("withdraw", State.ACCEPTED), ("withdraw", State.CLOSED),
    ("withdraw", State.WITHDRAWN), ("withdraw", State.IN_PROGRESS),
    ("accept", State.ACCEPTED), ("accept", State.CLOSED),
    ("claim", State.DELIVERED), ("claim", State.ACCEPTED), ("claim", State.WITHDRAWN), ("claim", State.CLOSED),
    ("deliver", State.OPEN), ("deliver", State.ACCEPTED), ("deliver", State.WITHDRAWN), ("deliver", State.CLOSED),
    ("update", State.OPEN), ("update", State.ACCEPTED), ("update", State.CLOSED),
    ("close", State.CLOSED),
]


def _bring_to(state, requester, volunteer, moderator, category):
    data_request, claim, result = make_delivered(requester, volunteer, category)
    if state == State.OPEN:
        data_request = make_request(requester, category, title="Another open request")
        return data_request, None
    if state == State.CLAIMED:
        other = UserFactory(roles=[Role.VOLUNTEER])
        data_request, _claim = make_claimed(requester, other, category, title="Another claimed request")
    elif state == State.IN_PROGRESS:
        other = UserFactory(roles=[Role.VOLUNTEER])
        data_request, _claim = make_claimed(requester, other, category, title="Another request in progress")
        services.update_post(actor=other, data_request_id=data_request.pk, raw="Started.")
    elif state == State.ACCEPTED:
        services.result_accept(actor=requester, result_id=result.pk)
    elif state == State.WITHDRAWN:
        data_request = make_request(requester, category, title="Withdrawn request")
        services.request_withdraw(actor=requester, data_request_id=data_request.pk)
    elif state == State.CLOSED:
        services.request_close(actor=moderator, data_request_id=data_request.pk, reason="Off topic")
    data_request.refresh_from_db()
    assert data_request.state == state
    return data_request, (result if result.data_request_id == data_request.pk else None)


@pytest.mark.parametrize(("step", "state"), INVALID)
def test_invalid_transitions_are_refused_and_change_nothing(requester, volunteer, moderator, public_category,
                                                            step, state):
    data_request, result = _bring_to(state, requester, volunteer, moderator, public_category)
    before = snapshot(data_request)
    newcomer = UserFactory(roles=[Role.VOLUNTEER])
    claimant = data_request.claims.filter(status="active").select_related("volunteer").first()
    actor = claimant.volunteer if claimant else volunteer
    steps = {
        "withdraw": lambda: services.request_withdraw(actor=requester, data_request_id=data_request.pk),
        "accept": lambda: services.result_accept(actor=requester, result_id=result.pk),
        "claim": lambda: services.request_claim(actor=newcomer, data_request_id=data_request.pk),
        "deliver": lambda: services.result_deliver(
            actor=actor, data_request_id=data_request.pk, summary="Late result",
            repository_url="https://github.com/example/late", license="BSD-3-Clause"),
        "update": lambda: services.update_post(actor=actor, data_request_id=data_request.pk, raw="More."),
        "close": lambda: services.request_close(actor=moderator, data_request_id=data_request.pk, reason="Again"),
    }
    with pytest.raises((ValidationError, PermissionDenied)) as raised:
        steps[step]()
    message = " ".join(getattr(raised.value, "messages", [str(raised.value)]))
    assert message and "%(" not in message
    assert snapshot(data_request) == before


def test_refusal_names_the_state(requester, volunteer, public_category):
    data_request, _claim, result = make_delivered(requester, volunteer, public_category)
    with pytest.raises(services.InvalidTransition) as raised:
        services.request_withdraw(actor=requester, data_request_id=data_request.pk)
    assert "result delivered" in raised.value.messages[0].lower()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("repository_url", "", "open repository"),
    ("repository_url", "ftp://example.org/x", "https://"),
    ("license", "", "license"),
    ("license", "Free-For-All", "SPDX"),
    ("summary", "", "summarise"),
])
def test_bad_results_are_refused(requester, volunteer, public_category, field, value, words):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    arguments = {"summary": "Done.", "repository_url": "https://github.com/example/x", "license": "BSD-3-Clause",
                 field: value}
    before = snapshot(data_request)
    with pytest.raises(ValidationError) as raised:
        services.result_deliver(actor=volunteer, data_request_id=data_request.pk, **arguments)
    assert words.lower() in " ".join(raised.value.message_dict[field]).lower()
    assert snapshot(data_request) == before


def test_license_expressions_are_normalized(requester, volunteer, public_category):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    result = services.result_deliver(
        actor=volunteer, data_request_id=data_request.pk, summary="Done.",
        repository_url="https://zenodo.org/records/9", license="mit or apache-2.0",
    )
    assert result.license == "MIT OR Apache-2.0" and result.repository_host == "Zenodo"


def test_only_claimants_post_updates_and_results(requester, volunteer, public_category):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    outsider = UserFactory(roles=[Role.VOLUNTEER])
    before = snapshot(data_request)
    with pytest.raises(PermissionDenied):
        services.update_post(actor=outsider, data_request_id=data_request.pk, raw="Me too")
    with pytest.raises(PermissionDenied):
        services.result_deliver(actor=requester, data_request_id=data_request.pk, summary="x",
                                repository_url="https://github.com/example/x", license="BSD-3-Clause")
    assert snapshot(data_request) == before


def test_deadline_today_is_accepted(requester, public_category):
    data_request = make_request(requester, public_category, deadline=timezone.localdate())
    assert data_request.deadline == timezone.localdate()
