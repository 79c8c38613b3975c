"""Requests board pages run a fixed number of queries, whatever the amount of data.

The board (with and without filters), the dashboard, a person's requests, claims and matches,
and a request's discussion page are measured on a seeded board, then again after the data
doubled: an N+1 query would show as a count that grows.
"""
import datetime
import pickle

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum import services as forum_services
from forum.permissions import Role
from requests_board import services
from requests_board.models import Claim
from tests.forum.factories import CategoryFactory, UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_request

pytestmark = pytest.mark.django_db

MODALITIES = ["tabular", "imaging", "sequences", "text"]
RESULT_TYPES = ["answer", "figure", "dataset", "software"]


def _deliver(volunteer, data_request, n):
    return services.result_deliver(
        actor=volunteer, data_request_id=data_request.pk, summary=f"Synthetic result {n}: the median is 5 days.",
        repository_url=f"https://github.com/example/synthetic-{n}", license="BSD-3-Clause",
    )


def _grow(world, count, start=0):
    """`count` requests in every state, tagged, the claimed ones with a lead and a collaborator, some
    with updates and results; the viewer asks some, claims some and gave some claims up."""
    viewer, requesters, volunteers = world["viewer"], world["requesters"], world["volunteers"]
    categories = world["categories"]
    for n in range(start, start + count):
        stage = n % 5
        author = viewer if n % 4 == 0 else requesters[n % len(requesters)]
        data_request = make_request(
            author, categories[n % len(categories)], title=f"Synthetic board request {n}",
            expertise=["statistics", f"batch-{n % 3}", f"method-{n % 4}"],
            modality=MODALITIES[n % len(MODALITIES)], result_type=RESULT_TYPES[n % len(RESULT_TYPES)],
            deadline=None if n % 3 == 0 else world["deadline"],
        )
        if stage == 0:
            continue  # open, nobody has claimed it
        # The viewer claims (or collaborates on) requests of others; two other volunteers on the rest.
        people = [volunteers[n % len(volunteers)], volunteers[(n + 1) % len(volunteers)]]
        if author != viewer:
            people[n % 2] = viewer
        lead, collaborator = people
        # `part` counts only in Citizen science, where each participant takes one part.
        services.request_claim(actor=lead, data_request_id=data_request.pk, plan=f"Plan {n}", part="rows 1-50")
        services.request_claim(actor=collaborator, data_request_id=data_request.pk, plan=f"Help {n}",
                               part="rows 51-100")
        if stage >= 2:
            services.update_post(actor=lead, data_request_id=data_request.pk, raw=f"Update {n}: halfway.")
        if stage >= 3:
            result = _deliver(lead, data_request, n)
            if stage == 4:
                services.result_accept(actor=data_request.author, result_id=result.pk)
        if n % 7 == 1 and author != viewer:
            # A claim the viewer gave up: it shows under "Earlier claims".
            mine = Claim.objects.filter(data_request=data_request, volunteer=viewer, status=Claim.Status.ACTIVE)
            if mine.exists():
                services.claim_release(actor=viewer, claim_id=mine.get().pk)
    # Also: a request waiting for the anonymization team, a draft and a withdrawn request, each time.
    make_request(viewer, categories[0], title=f"Synthetic patient request {start}", patient_data="yes")
    make_request(viewer, categories[1], title=f"Synthetic draft {start}", publish=False)
    withdrawn = make_request(requesters[0], categories[0], title=f"Synthetic withdrawn {start}")
    services.request_withdraw(actor=requesters[0], data_request_id=withdrawn.pk, reason="Synthetic.")


def _featured(world, *, size, title):
    """A request `size` volunteers claimed, each posting a progress update; `size // 3` results
    delivered and as many replies from the requester. `size` 3 on the seeded board, 6 after it doubled."""
    author = world["requesters"][0]
    featured = make_request(author, world["categories"][0], title=title, expertise=["statistics", "imaging"])
    volunteers = [UserFactory(roles=[Role.VOLUNTEER]) for _ in range(size)]
    for volunteer in volunteers:
        services.request_claim(actor=volunteer, data_request_id=featured.pk, plan="Synthetic plan.")
        services.update_post(actor=volunteer, data_request_id=featured.pk, raw="Synthetic progress update.")
    for n in range(size // 3):
        forum_services.post_create(actor=author, topic_id=featured.topic_id, raw=f"Thank you all! ({n})")
        _deliver(volunteers[n], featured, f"{featured.pk}-{n}")
    featured.refresh_from_db()
    return featured


def _double(world):
    """Twice the requests, and a featured request twice as busy (its topic page is measured)."""
    _grow(world, 15, start=100)
    world["featured"] = _featured(world, size=6, title="Synthetic featured request, twice as busy")


@pytest.fixture
def world(settings, public_category, anonymization_category, citizen_science_category):
    """A seeded board: 15 requests in every state over three topic areas, a featured request
    with several claimants, progress updates and results, and a viewer who asks and volunteers."""
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 100  # so the viewer's claims can double too
    viewer = UserFactory(roles=[Role.REQUESTER, Role.VOLUNTEER])
    viewer.expertise.set(["statistics", "imaging"])
    world = {
        "viewer": viewer,
        "requesters": [UserFactory(roles=[Role.REQUESTER]) for _ in range(3)],
        "volunteers": [UserFactory(roles=[Role.VOLUNTEER]) for _ in range(4)],
        "categories": [public_category, CategoryFactory(slug="epidemiology", name="Epidemiology"),
                       citizen_science_category],
        "deadline": timezone.localdate() + datetime.timedelta(days=30),
        "member": UserFactory(),
    }
    _grow(world, 15)
    world["featured"] = _featured(world, size=3, title="Synthetic featured request")
    return world


BOARD_PAGES = {
    "board": "/requests/",
    "board-open": "/requests/?state=open",
    "board-accepted": "/requests/?state=accepted",
    "board-unclaimed": "/requests/?unclaimed=on",
    "board-filtered": (
        "/requests/?state=active&category=data-requests&tag=statistics&modality=tabular&result_type=answer"
        "&has_deadline=on"
    ),
    "board-tag": "/requests/?tag=batch-1",
    "dashboard": "/requests/dashboard/",
}
PERSONAL_PAGES = {
    "mine": "/requests/mine/",
    "claims": "/requests/claims/",
    "matches": "/requests/matches/",
}


def _topic_url(world):
    return world["featured"].topic.get_absolute_url()


# Queries per page on a seeded board, whatever its size.
# Board: the filter's topic areas, the counts per state (one grouped query), the paginator's count,
# the list (visibility is a subquery), its tags and its active claims (two prefetches); a topic-area
# filter adds its lookup. Dashboard: the figures, the weekly series and two medians of two queries each.
# A request's topic: the forum's 5 (see tests/forum/test_pages.py; the request lookup is one of them), then
# the results and updates among the page's posts, the request's claims and its history, and the topic once
# more (forum_hooks.post_marks asks can_accept_result before topic_panel attaches the topic to the request:
# redundant, but a fixed one), the topic's files (one query, shared by the panel and the post marks) and
# its licensed items (one query, shared by the panel, the marks and the JSON-LD).
QUERIES_ANONYMOUS = {
    "board": 6, "board-open": 6, "board-accepted": 6, "board-unclaimed": 6, "board-filtered": 7, "board-tag": 6,
    "dashboard": 6, "topic": 12,  # topic: + which categories are public, from an empty cache
}
# Signed in adds the session, the user, the user's and groups' permissions and moderated categories.
SIGNED_IN_EXTRA = 6  # + the bell's unread count (forum.context_processors.notifications)
# My requests: count, list, active claims, tags. My claims: active and ended claims. Matches: the
# person's expertise, count, list, tags, active claims. A topic adds the person's access, the forum's
# read position, likes and bookmarks (one query), every notification level they chose (three, kept until
# they choose another) and the read-mark write (tests/forum/test_pages.py), then the bell's unread count:
# 26 from an empty cache (read again, 8: TOPIC_WARM_SIGNED_IN below).
QUERIES_SIGNED_IN = {
    **{page: count + SIGNED_IN_EXTRA for page, count in QUERIES_ANONYMOUS.items() if page != "topic"},
    "mine": SIGNED_IN_EXTRA + 4, "claims": SIGNED_IN_EXTRA + 2, "matches": SIGNED_IN_EXTRA + 5, "topic": 26,
}

KNOWN_N_PLUS_ONE: dict = {}


def _signed_in_param(page):
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN_N_PLUS_ONE[page])] if page in KNOWN_N_PLUS_ONE else []
    return pytest.param(page, marks=marks, id=page)


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


def _url(world, page):
    return _topic_url(world) if page == "topic" else {**BOARD_PAGES, **PERSONAL_PAGES}[page]


@pytest.mark.parametrize("page", sorted(QUERIES_ANONYMOUS))
def test_board_pages_run_a_fixed_number_of_queries_anonymous(client, world, page, django_assert_max_num_queries):
    url = _url(world, page)
    _warm(client)
    with django_assert_max_num_queries(QUERIES_ANONYMOUS[page]):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("page", [_signed_in_param(page) for page in sorted(QUERIES_SIGNED_IN)])
def test_board_pages_run_a_fixed_number_of_queries_signed_in(client, world, page, django_assert_max_num_queries):
    sign_in(client, world["viewer"])
    url = _url(world, page)
    _warm(client)
    with django_assert_max_num_queries(QUERIES_SIGNED_IN[page]):
        response = client.get(url)
    assert response.status_code == 200


# A request's topic page read again by the same person (what a volunteer following a request does):
# the session, the person; the topic, its tags, posts and events; the topic's files and licensed
# items. The person's access, the bell, the read position and what the panel shows every reader
# (the request, its claims, results, updates and history) come from the cache or the page's own rows.
TOPIC_WARM_SIGNED_IN = 8


def test_a_request_topic_page_read_again_runs_the_queries_it_needs(client, world, django_assert_max_num_queries):
    sign_in(client, world["viewer"])
    url = _topic_url(world)
    client.get(url)
    with django_assert_max_num_queries(TOPIC_WARM_SIGNED_IN):
        response = client.get(url)
    assert response.status_code == 200 and 'class="request-panel' in response.content.decode()


def test_what_the_panel_keeps_in_the_cache_leaves_out_what_is_each_persons_own(client, world):
    """The panel's shared reads are pickled into the cache: the people in them are there by name,
    without their email address, password hash or anything a moderator wrote about them."""
    from requests_board.selectors import request_panel_data

    author = world["featured"].author
    type(author).objects.filter(pk=author.pk).update(silence_reason="Synthetic moderator's reason")
    data = request_panel_data(topic=world["featured"].topic)
    people = [data.data_request.author, *(claim.volunteer for claim in data.claims),
              *(result.author for result in data.results),
              *(person for event in data.events for person in (event.actor, event.subject) if person)]
    assert data.claims and data.events
    kept = pickle.dumps(data)
    for person in people:
        stored = type(person).objects.get(pk=person.pk)
        assert stored.email.encode() not in kept and stored.password.encode() not in kept
        assert stored.name.encode() in kept
    assert b"Synthetic moderator's reason" not in kept


def test_pages_show_the_seeded_data(client, world):
    """The counts above are taken on pages that really list the seeded rows."""
    sign_in(client, world["viewer"])
    board = client.get("/requests/").content.decode()
    # Active requests (4 stages of 5), the featured one and the viewer's own request waiting
    # for the anonymization team.
    assert board.count('class="request-row"') == 12 + 1 + 1
    assert "claimed by" in board and 'class="tag"' in board
    assert client.get("/requests/?state=accepted").content.decode().count('class="request-row"') == 3
    filtered = client.get(BOARD_PAGES["board-filtered"]).content.decode()
    assert filtered.count('class="request-row"') >= 1
    mine = client.get("/requests/mine/").content.decode()
    assert "Synthetic draft 0" in mine and "Synthetic patient request 0" in mine
    assert mine.count('class="request-row"') == 4 + 2
    claims = client.get("/requests/claims/").content.decode()
    assert "Earlier claims" in claims and claims.count("<tr") > 3
    assert client.get("/requests/matches/").content.decode().count('class="request-row"') >= 2
    topic = client.get(_topic_url(world)).content.decode()
    assert topic.count("post-mark-update") == 3 and topic.count("post-mark-result") == 1
    assert topic.count('class="badge">Collaborator') == 2 and "Synthetic featured request" in topic


def _measure(client, world, pages):
    return {page: _count_queries(client, _url(world, page)) for page in pages}


def test_query_counts_do_not_grow_with_the_data_anonymous(client, world):
    """The same pages after the board doubled: not one query more (an N+1 would show here)."""
    before = _measure(client, world, QUERIES_ANONYMOUS)
    _double(world)
    assert _measure(client, world, QUERIES_ANONYMOUS) == before


def test_query_counts_do_not_grow_with_the_data_signed_in(client, world):
    sign_in(client, world["viewer"])
    pages = [page for page in QUERIES_SIGNED_IN if page not in KNOWN_N_PLUS_ONE]
    before = _measure(client, world, pages)
    _double(world)
    assert _measure(client, world, pages) == before


def test_my_requests_query_count_does_not_grow_with_the_data(client, world):
    sign_in(client, world["viewer"])
    before = _measure(client, world, ["mine"])
    _double(world)
    assert _measure(client, world, ["mine"]) == before


@pytest.mark.parametrize("reader", ["member", "requester"])
def test_request_topic_query_count_does_not_grow_with_its_claims(client, world, reader):
    """A signed-in reader of a request twice as busy (claims, updates, results): not one query more."""
    sign_in(client, world["member"] if reader == "member" else world["requesters"][0])
    before = _measure(client, world, ["topic"])
    _double(world)
    assert _measure(client, world, ["topic"]) == before
