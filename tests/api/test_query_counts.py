"""Every list endpoint runs a fixed number of queries whatever the data size: measured with a few
rows, then with many (claims, tags, results and license records included), for an anonymous
caller, a member's token and a moderator's token, under the same budget."""

import pytest
from rest_framework.test import APIClient

from forum import services as forum_services
from forum.permissions import Role
from requests_board import services
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.requests_board.factories import make_request

pytestmark = pytest.mark.django_db

FEW, MANY = 3, 25
DETAIL_BUDGET = 14  # 11, and what the caller may do: its claims, its accepted result held?, their claim count

# The most queries each list may run (the same with FEW rows and with MANY), whoever calls.
BUDGET = {
    "categories": 5,
    "tags": 5,
    "topics": 6,
    "topic posts": 8,
    "users": 7,
    "notifications": 5,
    "search": 7,
    "requests": 9,
    "results": 6,
    "datasets": 6,
}


class World:
    """The people and places every builder shares."""

    def __init__(self, settings, on_commit):
        settings.REQUESTS_MAX_ACTIVE_CLAIMS = 100
        self.on_commit = on_commit
        self.requester = UserFactory(roles=[Role.REQUESTER])
        self.volunteers = [UserFactory(roles=[Role.VOLUNTEER]) for _ in range(3)]
        self.writers = [UserFactory() for _ in range(3)]
        self.public = CategoryFactory(slug="data-requests", name="Data requests")
        self.private = CategoryFactory(slug="anonymization", name="Anonymization", private=True)
        self.topic = TopicFactory(category=self.public, author=self.requester, title="The synthetic thread")
        self.viewer = None

    def writer(self, number):
        return self.writers[number % len(self.writers)]


def grow_categories(world, start, stop):
    for number in range(start, stop):
        category = CategoryFactory(slug=f"area-{number}", name=f"Area {number}")
        CategoryFactory(slug=f"area-{number}-sub", name=f"Area {number} sub", parent=category)
        TopicFactory(category=category, author=world.writer(number), title=f"Synthetic topic in area {number}")


def grow_tags(world, start, stop):
    for number in range(start, stop):
        forum_services.topic_create(actor=world.writer(number), category=world.public,
                                    title=f"Synthetic tagged topic {number}", raw="Synthetic.",
                                    tags=[f"tag-{number}", "shared"])
    forum_services.topic_create(actor=world.requester, category=world.private, title=f"Private tagged {stop}",
                                raw="Synthetic.", tags=[f"tag-{start}", "secret"])


def grow_topics(world, start, stop):
    for number in range(start, stop):
        topic = forum_services.topic_create(actor=world.writer(number), category=world.public,
                                            title=f"Synthetic topic {number}", raw="Synthetic.",
                                            tags=[f"tag-{number}", "shared"])
        forum_services.post_create(actor=world.writer(number + 1), topic_id=topic.pk, raw="A synthetic reply.")


def grow_topic_posts(world, start, stop):
    flagger = world.volunteers[0]
    for number in range(start, stop):
        post = forum_services.post_create(actor=world.writer(number), topic_id=world.topic.pk,
                                          raw=f"Synthetic reply {number}.",
                                          reply_to_number=number if number % 2 else None)
        if number % 5 == 3:
            forum_services.post_delete(actor=post.author, post_id=post.pk)
        elif number % 5 == 4:
            with world.on_commit(execute=True):
                forum_services.post_flag(actor=flagger, post_id=post.pk, reason="personal_data")


def grow_users(world, start, stop):
    for number in range(start, stop):
        person = UserFactory(roles=[Role.VOLUNTEER] if number % 2 else [])
        person.expertise.add(f"skill-{number}", "statistics")
        # The directory lists people with something the reader may read.
        TopicFactory(category=world.public, author=person, title=f"Synthetic topic of person {number}")


def grow_notifications(world, start, stop):
    for number in range(start, stop):
        forum_services.notify(
            user=world.viewer, kind="replied" if number % 2 else "moderator_message", key=f"query-count:{number}",
            url="/notifications/", actor=world.writer(number), title=f"Synthetic notice {number}",
            topic=world.topic if number % 2 else None,
        )


def grow_search(world, start, stop):
    for number in range(start, stop):
        category = world.public if number % 3 else CategoryFactory(slug=f"area-{number}", name=f"Area {number}")
        forum_services.topic_create(actor=world.writer(number), category=category,
                                    title=f"Synthetic zebrafish {number}", raw="A synthetic zebrafish question.",
                                    tags=[f"tag-{number}"] if number % 2 else [])


def grow_requests(world, start, stop):
    """Requests with tags, a lead and a collaborator, a delivered result and their license records checked."""
    with world.on_commit(execute=True):
        for number in range(start, stop):
            data_request = make_request(world.requester, world.public, title=f"Synthetic request {number}",
                                        expertise=[f"skill-{number}", "statistics"],
                                        data_license="MIT" if number % 4 == 3 else "CC-BY-SA-4.0")
            lead = world.volunteers[number % 3]
            helper = world.volunteers[(number + 1) % 3]
            services.request_claim(actor=lead, data_request_id=data_request.pk, plan="A synthetic plan.")
            services.request_claim(actor=helper, data_request_id=data_request.pk)
            services.result_deliver(
                actor=lead, data_request_id=data_request.pk, summary=f"Synthetic result {number}.",
                repository_url="https://github.com/example/result", license="BSD-3-Clause",
                repository_license="MIT",
            )


ENDPOINTS = {
    "categories": ("/api/v1/categories/", {}, grow_categories),
    "tags": ("/api/v1/tags/", {}, grow_tags),
    "topics": ("/api/v1/topics/", {}, grow_topics),
    "topic posts": (None, {}, grow_topic_posts),
    "users": ("/api/v1/users/", {}, grow_users),
    "notifications": ("/api/v1/notifications/", {}, grow_notifications),
    "search": ("/api/v1/search/", {"q": "zebrafish"}, grow_search),
    "requests": ("/api/v1/requests/", {}, grow_requests),
    "results": ("/api/v1/results/", {}, grow_requests),
    "datasets": ("/api/v1/datasets/", {}, grow_requests),
}
VIEWERS = ("anonymous", "member", "moderator")


def _client(world, viewer) -> APIClient:
    client = APIClient()
    if viewer == "anonymous":
        return client
    world.viewer = UserFactory(roles=[Role.MODERATOR], totp=True) if viewer == "moderator" else UserFactory()
    _token, key = forum_services.api_token_create(actor=world.viewer, name="query counts", scope="read",
                                                        second_factor=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _rows(body) -> int:
    return len(body) if isinstance(body, list) else len(body["results"])


CASES = [
    pytest.param(endpoint, viewer, id=f"{endpoint}-{viewer}",
                 )
    for endpoint in ENDPOINTS for viewer in VIEWERS
    if not (endpoint == "notifications" and viewer == "anonymous")  # the signed-in only: 401
]


@pytest.mark.parametrize("endpoint, viewer", CASES)
def test_list_endpoints_run_a_fixed_number_of_queries(endpoint, viewer, settings, django_assert_max_num_queries,
                                                      django_capture_on_commit_callbacks):
    world = World(settings, django_capture_on_commit_callbacks)
    client = _client(world, viewer)
    url, params, grow = ENDPOINTS[endpoint]
    url = url or f"/api/v1/topics/{world.topic.pk}/posts/"
    budget = BUDGET[endpoint]

    grow(world, 0, FEW)
    assert client.get(url, params).status_code == 200  # notes the token's use, warms caches
    with django_assert_max_num_queries(budget) as few:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    rows_few = _rows(response.json())

    grow(world, FEW, MANY)
    # The writes made what is cached stale (new categories: everybody's access; new topics: the counts):
    # the first request reads them again, a few queries more, whatever the size.
    with django_assert_max_num_queries(budget + 5):
        assert client.get(url, params).status_code == 200
    with django_assert_max_num_queries(budget) as many:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    rows_many = _rows(response.json())

    assert rows_many > rows_few >= min(FEW, 1)
    assert len(many) == len(few), (
        f"{endpoint} as {viewer}: {len(few)} queries for {rows_few} rows, {len(many)} for {rows_many}:\n"
        + "\n".join(query["sql"][:300] for query in many.captured_queries)
    )


@pytest.mark.parametrize("viewer", VIEWERS)
def test_request_detail_runs_a_fixed_number_of_queries(viewer, settings, django_assert_max_num_queries,
                                                       django_capture_on_commit_callbacks):
    """One request with few or many claims and results costs the same."""
    world = World(settings, django_capture_on_commit_callbacks)
    client = _client(world, viewer)
    with django_capture_on_commit_callbacks(execute=True):
        data_request = make_request(world.requester, world.public, expertise=["statistics", "imaging"])
    url = f"/api/v1/requests/{data_request.pk}/"
    assert client.get(url).status_code == 200
    with django_assert_max_num_queries(DETAIL_BUDGET) as few:
        assert client.get(url).status_code == 200
    extra = [UserFactory(roles=[Role.VOLUNTEER]) for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        for volunteer in extra:
            services.request_claim(actor=volunteer, data_request_id=data_request.pk)
        for number, volunteer in enumerate(extra):
            services.result_deliver(actor=volunteer, data_request_id=data_request.pk,
                                    summary=f"Synthetic result {number}.",
                                    repository_url="https://github.com/example/result", license="BSD-2-Clause")
    with django_assert_max_num_queries(DETAIL_BUDGET) as many:
        response = client.get(url)
    assert len(response.json()["claims"]) == 5 and len(response.json()["results"]) == 5
    assert len(many) == len(few)
