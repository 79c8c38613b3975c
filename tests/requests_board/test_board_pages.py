"""The board's pages kept per audience (requests_board/selectors/board_pages.py): each reader's page
is the page read for them alone, with their own held requests merged in, and a change shows at once."""
import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.utils import timezone

from forum.pagination import bounded_page
from forum.permissions import Role
from requests_board import selectors, services
from requests_board.models import Claim, DataRequest
from tests.forum.factories import CategoryFactory, UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_claimed, make_request

pytestmark = pytest.mark.django_db

PER_PAGE = 3


@pytest.fixture
def world(public_category, volunteer):
    requesters = [UserFactory(roles=[Role.REQUESTER]) for _ in range(2)]
    claimer = UserFactory(roles=[Role.VOLUNTEER])
    today = timezone.localdate()
    for n in range(10):
        deadline = None if n % 4 == 0 else today + datetime.timedelta(days=n % 5)
        data_request = make_request(requesters[n % 2], public_category, title=f"Synthetic board request {n}",
                                    deadline=deadline, expertise=["statistics" if n % 2 else "imaging"])
        if n % 4 == 1:
            services.request_claim(actor=claimer, data_request_id=data_request.pk)
    for n in range(2):  # held for the anonymization team: their author sees them, nobody else
        make_request(requesters[0], public_category, title=f"Synthetic held request {n}", patient_data="yes",
                     deadline=today + datetime.timedelta(days=n * 3))
    return requesters


def _titles(page):
    return [data_request.title for data_request in page.object_list]


def _same_as_alone(user, filters, pages=(1, 2, 3, 4, 7)):
    for number in pages:
        _board, kept = selectors.board_page(user=user, filters=filters, number=number, per_page=PER_PAGE)
        result = selectors.board(user=user, filters=filters)
        paginator = Paginator(result.requests, PER_PAGE)
        paginator.count = result.total
        alone = paginator.get_page(number)
        where = (getattr(user, "username", "anonymous"), filters, number)
        assert _titles(kept) == _titles(alone), where
        assert (kept.number, kept.paginator.num_pages) == (alone.number, alone.paginator.num_pages), where


@pytest.mark.parametrize("who", ["anonymous", "volunteer", "requester with held requests", "moderator"])
def test_every_kept_board_page_is_the_page_read_alone(world, who, volunteer, moderator, public_category):
    user = {"anonymous": AnonymousUser(), "volunteer": volunteer, "requester with held requests": world[0],
            "moderator": moderator}[who]
    for filters in (
        selectors.BoardFilters(), selectors.BoardFilters(state="unclaimed"), selectors.BoardFilters(state="claimed"),
        selectors.BoardFilters(tag="statistics"), selectors.BoardFilters(has_deadline=True),
        selectors.BoardFilters(category=public_category),
    ):
        _same_as_alone(user, filters)
        _same_as_alone(user, filters)  # again, from the cache


def test_held_requests_are_their_authors_alone(world, volunteer):
    own = _titles(selectors.board_page(user=world[0], filters=selectors.BoardFilters(), number=1, per_page=50)[1])
    shared = _titles(selectors.board_page(user=volunteer, filters=selectors.BoardFilters(), number=1, per_page=50)[1])
    assert {"Synthetic held request 0", "Synthetic held request 1"} <= set(own)
    assert not {"Synthetic held request 0", "Synthetic held request 1"} & set(shared)
    assert DataRequest.objects.filter(title__startswith="Synthetic held", needs_anonymization=True).count() == 2


def test_a_claim_and_a_new_request_show_on_the_next_board_page(client, world, volunteer, public_category):
    sign_in(client, volunteer)
    assert "Synthetic brand new request" not in client.get("/requests/").content.decode()
    make_request(world[1], public_category, title="Synthetic brand new request", deadline=timezone.localdate())
    page = client.get("/requests/").content.decode()
    assert "Synthetic brand new request" in page
    data_request = DataRequest.objects.get(title="Synthetic brand new request")
    services.request_claim(actor=volunteer, data_request_id=data_request.pk)
    assert "Synthetic brand new request" not in client.get("/requests/?unclaimed=on").content.decode()


def test_many_held_requests_merge_on_every_page(world, public_category, monkeypatch):
    from forum.selectors import lists

    for n in range(5):
        make_request(world[0], public_category, title=f"Synthetic many held {n}", patient_data="yes",
                     deadline=timezone.localdate() + datetime.timedelta(days=n % 3))
    for merged in (30, 2):
        monkeypatch.setattr(lists, "OWN_MERGED", merged)
        for filters in (selectors.BoardFilters(), selectors.BoardFilters(has_deadline=True)):
            _same_as_alone(world[0], filters, pages=(1, 2, 3, 4, 5, 6))


def test_kept_matches_are_the_pages_read_alone_and_follow_each_change(client, world, volunteer, public_category):
    volunteer.expertise.set(["statistics"])
    tag_ids = [tag.pk for tag in volunteer.expertise.all()]
    for number in (1, 2, 3, 9):
        alone = bounded_page(selectors.matches_for(user=volunteer, tag_ids=tag_ids), PER_PAGE, number)
        for _ in range(2):  # read, then from the cache
            kept = selectors.matches_page(user=volunteer, tag_ids=tag_ids, number=number, per_page=PER_PAGE)
            assert _titles(kept) == _titles(alone), number
            assert (kept.number, kept.paginator.num_pages) == (alone.number, alone.paginator.num_pages), number
    sign_in(client, volunteer)
    assert "Synthetic new match" not in client.get("/requests/matches/").content.decode()
    new = make_request(world[1], public_category, title="Synthetic new match", expertise=["statistics"],
                       deadline=timezone.localdate())
    assert "Synthetic new match" in client.get("/requests/matches/").content.decode()
    services.request_claim(actor=UserFactory(roles=[Role.VOLUNTEER]), data_request_id=new.pk)
    assert "Synthetic new match" not in client.get("/requests/matches/").content.decode()


def test_kept_claims_follow_an_update_and_a_release(world, volunteer, public_category):
    data_request, claim = make_claimed(world[1], volunteer, public_category, title="Synthetic claimed by me")
    Claim.objects.filter(pk=claim.pk).update(last_activity_at=timezone.now() - datetime.timedelta(days=3))
    before = [due.remind_on for due in selectors.my_claims(user=volunteer)]
    assert [due.remind_on for due in selectors.my_claims(user=volunteer)] == before  # from the cache
    services.update_post(actor=volunteer, data_request_id=data_request.pk, raw="Synthetic progress, half done.")
    after = [due.remind_on for due in selectors.my_claims(user=volunteer)]
    assert after[0] == before[0] + datetime.timedelta(days=3)  # the update restarted the clock
    services.claim_release(actor=volunteer, claim_id=claim.pk)
    assert selectors.my_claims(user=volunteer) == []
    assert [ended.pk for ended in selectors.my_ended_claims(user=volunteer)] == [claim.pk]


def test_filter_fields_are_kept_per_choice_and_show_a_new_topic_area(client, world, volunteer):
    sign_in(client, volunteer)
    for _ in range(2):  # rendered, then kept
        assert '<option value="imaging" selected>' in client.get("/requests/?modality=imaging").content.decode()
        assert '<option value="imaging" selected>' not in client.get("/requests/").content.decode()
    CategoryFactory(slug="synthetic-new-area", name="Synthetic new topic area")
    assert "Synthetic new topic area" in client.get("/requests/").content.decode()
