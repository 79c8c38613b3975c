"""The forum's endpoints under /api/v1/: every success shape, the main refusals, filters,
orderings, cursor pagination, search, placeholders, and what people may see of each other."""
import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from forum import services
from forum.models import Notification, Post, Topic
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

TOPIC_KEYS = {"id", "title", "slug", "category", "tags", "author", "created_at", "last_posted_at", "post_count",
              "like_count", "view_count", "pinned", "closed", "archived", "url"}
POST_KEYS = {"id", "topic", "number", "author", "reply_to_number", "created_at", "edited_at", "like_count", "state",
             "raw", "html", "url"}
CATEGORY_KEYS = {"id", "slug", "name", "description", "color", "parent", "security", "position", "url"}
USER_KEYS = {"username", "name", "affiliation", "orcid", "bio_html", "expertise", "joined", "url"}
NOTIFICATION_KEYS = {"id", "kind", "kind_label", "text", "title", "url", "count", "created_at", "read"}


# --- Helpers ------------------------------------------------------------------------

def api(user=None, scope="write") -> APIClient:
    """A client calling as `user` through a personal token (anonymous without one)."""
    client = APIClient()
    if user is not None:
        _token, key = services.api_token_create(actor=user, name="endpoint tests", scope=scope,
                                                             second_factor=True)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def reply(author, topic, raw="A synthetic reply.", **kwargs):
    return services.post_create(actor=author, topic_id=topic.pk, raw=raw, **kwargs)


def error_code(response) -> str:
    return response.json()["error"]["code"]


def error_fields(response) -> dict:
    return response.json()["error"].get("fields", {})


def ids_of(response) -> list:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def collect(client, url, params=None, *, between_pages=None) -> tuple[list, int]:
    """Every item of a cursor-paginated list, following `next`; returns (items, pages)."""
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    body = response.json()
    items, pages = list(body["results"]), 1
    while body["next"]:
        if between_pages is not None:
            between_pages(pages)
        response = client.get(body["next"])
        assert response.status_code == 200, response.content
        body = response.json()
        items.extend(body["results"])
        pages += 1
        assert pages < 200, "pagination does not end"
    return items, pages


# --- Categories -----------------------------------------------------------------------

def test_categories_list_public_ones_with_counts_of_visible_topics_and_subcategories(
    requester, member, public_category, private_category, public_topic, private_topic,
):
    child = CategoryFactory(slug="statistics-help", name="Statistics help", parent=public_category)
    TopicFactory(category=child, author=member, title="A synthetic question in a subcategory")
    deleted = TopicFactory(category=public_category, author=member, title="A synthetic topic to delete")
    services.post_delete(actor=member, post_id=deleted.posts.get(number=1).pk)

    response = api().get("/api/v1/categories/")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)  # not paginated
    by_slug = {category["slug"]: category for category in body}
    assert "anonymization" not in by_slug and "statistics-help" not in by_slug  # subcategories are nested
    data_requests = by_slug["data-requests"]
    assert set(data_requests) == CATEGORY_KEYS | {"topic_count", "latest_activity", "subcategories"}
    assert data_requests["topic_count"] == 2  # its own live topic and the subcategory's; not the deleted one
    assert data_requests["security"] == "public" and data_requests["parent"] is None
    assert data_requests["url"] == public_category.get_absolute_url()
    assert [sub["slug"] for sub in data_requests["subcategories"]] == ["statistics-help"]
    assert set(data_requests["subcategories"][0]) == CATEGORY_KEYS
    assert data_requests["subcategories"][0]["parent"] == "data-requests"
    assert data_requests["latest_activity"] is not None

    # A member who is not in the private channel does not see it either.
    assert "anonymization" not in {c["slug"] for c in api(member).get("/api/v1/categories/").json()}


def test_private_categories_are_listed_for_who_may_read_them(requester, moderator, anonymizer, private_category,
                                                             private_topic):
    for user in (moderator, anonymizer, requester):  # a requester sees the channel holding their own topic
        slugs = {c["slug"]: c for c in api(user).get("/api/v1/categories/").json()}
        assert "anonymization" in slugs
        assert slugs["anonymization"]["topic_count"] == 1
        assert slugs["anonymization"]["security"] == "private"


def test_category_detail_and_its_refusals(member, public_category, private_category):
    response = api().get("/api/v1/categories/data-requests/")
    assert response.status_code == 200
    assert set(response.json()) == CATEGORY_KEYS and response.json()["name"] == "Data requests"
    for client in (api(), api(member)):
        for slug in ("anonymization", "no-such-category"):
            response = client.get(f"/api/v1/categories/{slug}/")
            assert response.status_code == 404 and error_code(response) == "not_found"


def test_category_detail_of_a_private_category_for_its_readers(moderator, private_category):
    assert api(moderator).get("/api/v1/categories/anonymization/").json()["security"] == "private"


# --- Tags ---------------------------------------------------------------------------

def test_tag_counts_cover_only_topics_the_caller_may_see(requester, member, moderator, public_category,
                                                          private_category):
    for number in range(2):
        services.topic_create(actor=member, category=public_category, title=f"Synthetic statistics {number}",
                              raw="Synthetic.", tags=["statistics", "imaging"][: number + 1])
    services.topic_create(actor=requester, category=private_category, title="Private synthetic statistics",
                          raw="Synthetic.", tags=["statistics", "secret-cohort"])
    gone = services.topic_create(actor=member, category=public_category, title="Deleted synthetic genomics",
                                 raw="Synthetic.", tags=["genomics", "statistics"])
    services.post_delete(actor=member, post_id=gone.posts.get(number=1).pk)

    def counts(client):
        response = client.get("/api/v1/tags/")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        for tag in body["results"]:
            assert set(tag) == {"name", "slug", "topic_count"}
        return {tag["name"]: tag["topic_count"] for tag in body["results"]}

    assert counts(api()) == {"imaging": 1, "statistics": 2}
    assert counts(api(member)) == {"imaging": 1, "statistics": 2}
    assert counts(api(requester)) == {"imaging": 1, "secret-cohort": 1, "statistics": 3}
    # Moderators see the private topic; a deleted topic's tags are counted for nobody.
    assert counts(api(moderator)) == {"imaging": 1, "secret-cohort": 1, "statistics": 3}


def test_tags_are_ordered_by_name_and_paginate(member, public_category):
    names = [f"tag-{letter}" for letter in "edcba"]
    for number, name in enumerate(names):
        services.topic_create(actor=member, category=public_category, title=f"Synthetic tagged {number}",
                              raw="Synthetic.", tags=[name])
    items, pages = collect(api(), "/api/v1/tags/", {"page_size": 2, "ordering": "name"})
    assert [tag["name"] for tag in items] == sorted(names) and pages == 3
    assert error_fields(api().get("/api/v1/tags/", {"ordering": "-name"})) == {
        "ordering": ["Order by one of: name."]}


# --- Topics -------------------------------------------------------------------------

def test_topic_list_shape_and_visibility(requester, moderator, public_topic, private_topic):
    body = api().get("/api/v1/topics/").json()
    assert set(body) == {"next", "previous", "results"}
    assert [topic["id"] for topic in body["results"]] == [public_topic.pk]
    topic = body["results"][0]
    assert set(topic) == TOPIC_KEYS
    assert topic["author"] == {"username": requester.username, "name": requester.name}
    assert topic["category"] == "data-requests" and topic["url"] == public_topic.get_absolute_url()
    assert topic["post_count"] == 1 and topic["closed"] is False
    assert {t["id"] for t in api(moderator).get("/api/v1/topics/").json()["results"]} == {
        public_topic.pk, private_topic.pk}
    assert {t["id"] for t in api(requester).get("/api/v1/topics/").json()["results"]} == {
        public_topic.pk, private_topic.pk}


def test_topic_list_filters_by_category_with_subcategories_and_by_tag(member, public_category, private_category):
    other = CategoryFactory(slug="other-area", name="Other area")
    child = CategoryFactory(slug="child-area", name="Child area", parent=public_category)
    in_parent = services.topic_create(actor=member, category=public_category, title="Synthetic parent topic",
                                      raw="Synthetic.", tags=["statistics"])
    in_child = services.topic_create(actor=member, category=child, title="Synthetic child topic", raw="Synthetic.",
                                     tags=["imaging"])
    in_other = services.topic_create(actor=member, category=other, title="Synthetic other topic", raw="Synthetic.",
                                     tags=["statistics"])
    client = api()

    def ids(params):
        response = client.get("/api/v1/topics/", params)
        assert response.status_code == 200, response.content
        return {topic["id"] for topic in response.json()["results"]}

    assert ids({"category": "data-requests"}) == {in_parent.pk, in_child.pk}
    assert ids({"category": "child-area"}) == {in_child.pk}
    assert ids({"tag": "statistics"}) == {in_parent.pk, in_other.pk}
    assert ids({"tag": "statistics", "category": "other-area"}) == {in_other.pk}
    assert ids({"tag": "imaging", "category": "other-area"}) == set()
    assert [t["tags"] for t in client.get("/api/v1/topics/", {"tag": "imaging"}).json()["results"]] == [["imaging"]]
    for params in ({"category": "no-such-area"}, {"category": "anonymization"}, {"tag": "no-such-tag"}):
        response = client.get("/api/v1/topics/", params)
        assert response.status_code == 404 and error_code(response) == "not_found"


def test_a_tag_used_only_on_private_topics_is_a_404_for_outsiders(requester, member, private_category):
    services.topic_create(actor=requester, category=private_category, title="Private synthetic cohort",
                          raw="Synthetic.", tags=["secret-cohort"])
    assert api(member).get("/api/v1/topics/", {"tag": "secret-cohort"}).status_code == 404
    assert len(api(requester).get("/api/v1/topics/", {"tag": "secret-cohort"}).json()["results"]) == 1


def test_topic_list_leaves_out_deleted_topics(member, moderator, public_category):
    kept = TopicFactory(category=public_category, author=member, title="Synthetic kept topic")
    gone = TopicFactory(category=public_category, author=member, title="Synthetic deleted topic")
    services.post_delete(actor=member, post_id=gone.posts.get(number=1).pk)
    for client in (api(), api(member), api(moderator)):
        assert [t["id"] for t in client.get("/api/v1/topics/").json()["results"]] == [kept.pk]


def test_topic_orderings(member, public_category):
    first = TopicFactory(category=public_category, author=member, title="Synthetic first topic")
    second = TopicFactory(category=public_category, author=member, title="Synthetic second topic")
    third = TopicFactory(category=public_category, author=member, title="Synthetic third topic")
    reply(member, first, "Bumps the first topic.")
    client = api()

    def order(ordering=None):
        params = {"ordering": ordering} if ordering else {}
        return [t["id"] for t in client.get("/api/v1/topics/", params).json()["results"]]

    assert order() == order("-last_posted_at") == [first.pk, third.pk, second.pk]
    assert order("-created_at") == [third.pk, second.pk, first.pk]
    assert order("created_at") == [first.pk, second.pk, third.pk]
    response = client.get("/api/v1/topics/", {"ordering": "title"})
    assert response.status_code == 400 and set(error_fields(response)) == {"ordering"}
    assert "-last_posted_at" in error_fields(response)["ordering"][0]


def test_topic_cursor_pagination_follows_next_without_duplicates_or_gaps_while_topics_arrive(member,
                                                                                            public_category):
    existing = [TopicFactory(category=public_category, author=member, title=f"Synthetic topic {n}").pk
                for n in range(11)]
    arrived = []

    def a_new_topic_arrives(_page):
        arrived.append(TopicFactory(category=public_category, author=member,
                                    title=f"Synthetic newcomer {len(arrived)}").pk)

    for ordering in ("-last_posted_at", "-created_at"):
        before = Topic.objects.count()
        items, pages = collect(api(), "/api/v1/topics/", {"page_size": 3, "ordering": ordering},
                               between_pages=a_new_topic_arrives)
        ids = [item["id"] for item in items]
        assert len(ids) == len(set(ids)), "a topic was listed twice"
        assert [pk for pk in ids if pk in existing] == sorted(existing, reverse=True), "a topic was skipped"
        assert pages == -(-before // 3)  # new topics come first, so the walk never reaches them
    # Oldest first: what arrives during the walk is at the end, and is reached too.
    existing = list(Topic.objects.order_by("pk").values_list("pk", flat=True))
    arrived.clear()
    items, _pages = collect(api(), "/api/v1/topics/", {"page_size": 4, "ordering": "created_at"},
                            between_pages=a_new_topic_arrives)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    assert ids == existing + arrived


def test_page_size_is_bounded_and_a_bad_cursor_is_refused(member, public_category):
    for number in range(3):
        TopicFactory(category=public_category, author=member, title=f"Synthetic topic {number}")
    client = api()
    body = client.get("/api/v1/topics/", {"page_size": 1}).json()
    assert len(body["results"]) == 1 and body["next"] and body["previous"] is None
    second = client.get(body["next"]).json()
    assert second["previous"] and len(second["results"]) == 1
    back = client.get(second["previous"]).json()
    assert [t["id"] for t in back["results"]] == [t["id"] for t in body["results"]]
    assert len(client.get("/api/v1/topics/", {"page_size": 100}).json()["results"]) == 3
    for size in ("0", "101", "-1", "many"):
        response = client.get("/api/v1/topics/", {"page_size": size})
        assert response.status_code == 400 and set(error_fields(response)) == {"page_size"}, size
    response = client.get("/api/v1/topics/", {"cursor": "not-a-cursor"})
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_topic_detail_has_its_first_post(requester, member, public_topic, private_topic):
    response = api().get(f"/api/v1/topics/{public_topic.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == TOPIC_KEYS | {"first_post"}
    assert set(body["first_post"]) == POST_KEYS
    assert body["first_post"]["number"] == 1 and body["first_post"]["raw"] == "Synthetic data only."
    assert body["first_post"]["html"].startswith("<p>") and body["first_post"]["state"] == "visible"
    for client in (api(), api(member)):
        assert client.get(f"/api/v1/topics/{private_topic.pk}/").status_code == 404
    assert api().get("/api/v1/topics/999999/").status_code == 404
    assert api(requester).get(f"/api/v1/topics/{private_topic.pk}/").json()["title"] == "Private synthetic request"


def test_start_a_topic(member, public_category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(member).post("/api/v1/topics/", {
            "category": "data-requests", "title": "A synthetic question about cohorts",
            "raw": "How do I *compare* two synthetic cohorts?", "tags": ["statistics", "Cohorts"],
        }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == TOPIC_KEYS | {"first_post"}
    assert body["title"] == "A synthetic question about cohorts" and body["category"] == "data-requests"
    assert body["tags"] == ["cohorts", "statistics"]
    assert "<em>compare</em>" in body["first_post"]["html"]
    topic = Topic.objects.get(pk=body["id"])
    assert topic.author == member and topic.posts.count() == 1


@pytest.mark.parametrize("payload, fields", [
    ({}, {"category", "title", "raw"}),
    ({"category": "data-requests", "title": "", "raw": "Synthetic."}, {"title"}),
    ({"category": "data-requests", "title": "x" * 201, "raw": "Synthetic."}, {"title"}),
    ({"category": "no-such-area", "title": "A synthetic title", "raw": "Synthetic."}, {"category"}),
    ({"category": "data-requests", "title": "A synthetic title", "raw": "Synthetic.", "tags": "statistics"},
     {"tags"}),
])
def test_start_a_topic_refusals_name_their_fields(member, public_category, payload, fields):
    response = api(member).post("/api/v1/topics/", payload, format="json")
    assert response.status_code == 400 and error_code(response) == "invalid"
    assert set(error_fields(response)) == fields
    assert Topic.objects.count() == 0


def test_a_category_the_caller_cannot_see_is_no_such_category(member, public_category):
    hidden = CategoryFactory(slug="staff-room", name="Staff room", private=True)
    hidden.members_start_private_topics = False
    hidden.save()
    response = api(member).post("/api/v1/topics/", {"category": "staff-room", "title": "A synthetic title",
                                                    "raw": "Synthetic."}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"category"}


def test_starting_a_topic_needs_a_writer(member, public_category):
    payload = {"category": "data-requests", "title": "A synthetic title", "raw": "Synthetic."}
    assert api().post("/api/v1/topics/", payload, format="json").status_code == 401
    response = api(member, scope="read").post("/api/v1/topics/", payload, format="json")
    assert response.status_code == 403 and error_code(response) == "token_read_only"


# --- Topic posts ----------------------------------------------------------------------

def test_topic_posts_in_order_with_replies(requester, member, public_topic):
    reply(member, public_topic, "First synthetic reply.")
    reply(requester, public_topic, "Second synthetic reply.", reply_to_number=2)
    response = api().get(f"/api/v1/topics/{public_topic.pk}/posts/")
    assert response.status_code == 200
    posts = response.json()["results"]
    assert [p["number"] for p in posts] == [1, 2, 3]
    assert set(posts[0]) == POST_KEYS
    assert posts[2]["reply_to_number"] == 2 and posts[1]["reply_to_number"] is None
    assert posts[1]["author"] == {"username": member.username, "name": member.name}
    assert all(p["topic"] == public_topic.pk and p["state"] == "visible" for p in posts)
    assert posts[1]["url"] == Post.objects.get(topic=public_topic, number=2).get_absolute_url()
    newest_first = api().get(f"/api/v1/topics/{public_topic.pk}/posts/", {"ordering": "-number"}).json()
    assert [p["number"] for p in newest_first["results"]] == [3, 2, 1]
    assert api().get(f"/api/v1/topics/{public_topic.pk}/posts/", {"ordering": "created_at"}).status_code == 400


def test_topic_posts_of_an_invisible_or_missing_topic_are_404(member, private_topic):
    assert api(member).get(f"/api/v1/topics/{private_topic.pk}/posts/").status_code == 404
    assert api().get("/api/v1/topics/999999/posts/").status_code == 404


def test_deleted_and_hidden_posts_stay_as_placeholders(requester, member, moderator, public_topic,
                                                       django_capture_on_commit_callbacks):
    deleted = reply(member, public_topic, "A synthetic reply its author takes back.")
    hidden = reply(member, public_topic, "A synthetic reply flagged for personal data.")
    reply(requester, public_topic, "A synthetic reply that stays.")
    services.post_delete(actor=member, post_id=deleted.pk)
    flagger = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_flag(actor=flagger, post_id=hidden.pk, reason="personal_data")

    def by_number(client):
        response = client.get(f"/api/v1/topics/{public_topic.pk}/posts/")
        assert response.status_code == 200
        return {p["number"]: p for p in response.json()["results"]}

    for client in (api(), api(requester)):
        posts = by_number(client)
        assert [n for n in posts] == [1, 2, 3, 4]  # nothing is left out
        assert posts[2]["state"] == "deleted" and posts[2]["raw"] is None and posts[2]["html"] is None
        assert posts[3]["state"] == "hidden" and posts[3]["raw"] is None and posts[3]["html"] is None
        assert posts[4]["state"] == "visible" and posts[4]["raw"] == "A synthetic reply that stays."
        assert posts[2]["author"]["username"] == member.username
    own = by_number(api(member))  # the author reads their hidden post, not the deleted one
    assert own[3]["raw"] == "A synthetic reply flagged for personal data." and own[3]["html"]
    assert own[2]["state"] == "deleted" and own[2]["raw"] is None
    moderated = by_number(api(moderator))  # moderators read both
    assert moderated[2]["state"] == "deleted" and moderated[2]["raw"] == "A synthetic reply its author takes back."
    assert moderated[3]["raw"] == "A synthetic reply flagged for personal data."
    # One post alone is shown the same way.
    single = api().get(f"/api/v1/posts/{deleted.pk}/").json()
    assert single["state"] == "deleted" and single["raw"] is None and single["html"] is None
    assert api().get(f"/api/v1/posts/{hidden.pk}/").json()["html"] is None


def test_a_hidden_post_says_hidden_also_to_who_may_read_it(member, moderator, public_topic,
                                                           django_capture_on_commit_callbacks):
    hidden = reply(member, public_topic, "A synthetic reply flagged for personal data.")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_flag(actor=UserFactory(), post_id=hidden.pk, reason="personal_data")
    for client in (api(member), api(moderator)):
        posts = {p["number"]: p for p in client.get(f"/api/v1/topics/{public_topic.pk}/posts/").json()["results"]}
        assert posts[2]["raw"] == "A synthetic reply flagged for personal data."  # readable, and yet
        assert posts[2]["state"] == "hidden"
        assert client.get(f"/api/v1/posts/{hidden.pk}/").json()["state"] == "hidden"


def test_topic_posts_paginate_while_replies_arrive(member, requester, public_topic):
    for number in range(9):
        reply(member, public_topic, f"Synthetic reply {number}.")

    def a_reply_arrives(_page):
        reply(requester, public_topic, "A synthetic reply during the walk.")

    items, _pages = collect(api(), f"/api/v1/topics/{public_topic.pk}/posts/", {"page_size": 4},
                            between_pages=a_reply_arrives)
    numbers = [p["number"] for p in items]
    assert numbers == list(range(1, Post.objects.filter(topic=public_topic).count() + 1))


def test_reply_to_a_topic(requester, member, public_topic, private_topic, django_capture_on_commit_callbacks):
    client = api(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/topics/{public_topic.pk}/posts/",
                               {"raw": "A **synthetic** answer.", "reply_to_number": 1}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == POST_KEYS and body["number"] == 2 and body["reply_to_number"] == 1
    assert "<strong>synthetic</strong>" in body["html"] and body["author"]["username"] == member.username
    # The topic's author is told (their notifications say so).
    notices = api(requester).get("/api/v1/notifications/").json()["results"]
    assert [n["kind"] for n in notices] == ["replied"] and notices[0]["title"] == public_topic.title
    response = client.post(f"/api/v1/topics/{public_topic.pk}/posts/", {}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"raw"}
    response = client.post(f"/api/v1/topics/{public_topic.pk}/posts/", {"raw": "x", "reply_to_number": 0},
                           format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"reply_to_number"}
    assert client.post(f"/api/v1/topics/{private_topic.pk}/posts/", {"raw": "Synthetic."},
                       format="json").status_code == 404
    assert client.post("/api/v1/topics/999999/posts/", {"raw": "Synthetic."}, format="json").status_code == 404
    assert Post.objects.filter(topic=private_topic).count() == 1


def test_reply_to_a_closed_topic_is_refused(member, moderator, public_topic):
    services.topic_set_closed(actor=moderator, topic_id=public_topic.pk, closed=True)
    response = api(member).post(f"/api/v1/topics/{public_topic.pk}/posts/", {"raw": "Synthetic."}, format="json")
    assert response.status_code == 403 and error_code(response) == "permission_denied"


# --- Posts: read, edit, delete ---------------------------------------------------------

def test_post_detail(member, public_topic, private_topic):
    post = reply(member, public_topic, "A synthetic reply.")
    response = api().get(f"/api/v1/posts/{post.pk}/")
    assert response.status_code == 200 and set(response.json()) == POST_KEYS
    assert response.json()["raw"] == "A synthetic reply." and response.json()["edited_at"] is None
    private_post = private_topic.posts.get(number=1)
    assert api(member).get(f"/api/v1/posts/{private_post.pk}/").status_code == 404
    assert api().get("/api/v1/posts/999999/").status_code == 404


def test_the_author_edits_their_post_and_others_cannot(member, requester, moderator, public_topic):
    post = reply(member, public_topic, "A synthetic reply with a typo.")
    response = api(member).patch(f"/api/v1/posts/{post.pk}/", {"raw": "A synthetic reply, fixed.",
                                                               "reason": "typo"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["raw"] == "A synthetic reply, fixed." and body["edited_at"] is not None
    assert "fixed" in body["html"]
    post.refresh_from_db()
    assert post.revision_count == 2 and post.revisions.order_by("-number").first().reason == "typo"

    response = api(requester).patch(f"/api/v1/posts/{post.pk}/", {"raw": "Vandalised."}, format="json")
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert api().patch(f"/api/v1/posts/{post.pk}/", {"raw": "Vandalised."}, format="json").status_code == 401
    response = api(member, scope="read").patch(f"/api/v1/posts/{post.pk}/", {"raw": "x"}, format="json")
    assert response.status_code == 403 and error_code(response) == "token_read_only"
    post.refresh_from_db()
    assert post.raw == "A synthetic reply, fixed."

    response = api(moderator).patch(f"/api/v1/posts/{post.pk}/", {"raw": "Moderated synthetic reply."},
                                    format="json")
    assert response.status_code == 200 and response.json()["raw"] == "Moderated synthetic reply."
    # Fields left out keep their value; a text that is no text is refused.
    response = api(member).patch(f"/api/v1/posts/{post.pk}/", {"reason": "nothing to change"}, format="json")
    assert response.status_code == 200 and response.json()["raw"] == "Moderated synthetic reply."
    assert api(requester).patch(f"/api/v1/posts/{post.pk}/", {}, format="json").status_code == 403
    for raw in ("", 42, None, ["a list"]):
        response = api(member).patch(f"/api/v1/posts/{post.pk}/", {"raw": raw}, format="json")
        assert response.status_code == 400 and set(error_fields(response)) == {"raw"}, raw
    post.refresh_from_db()
    assert post.raw == "Moderated synthetic reply." and post.revision_count == 3
    assert api(member).patch("/api/v1/posts/999999/", {"raw": "x"}, format="json").status_code == 404


def test_editing_a_first_post_may_retitle_its_topic(requester, public_topic):
    first = public_topic.posts.get(number=1)
    response = api(requester).patch(f"/api/v1/posts/{first.pk}/", {
        "raw": "Synthetic data only, edited.", "title": "A retitled synthetic request"}, format="json")
    assert response.status_code == 200
    assert api().get(f"/api/v1/topics/{public_topic.pk}/").json()["title"] == "A retitled synthetic request"
    response = api(requester).patch(f"/api/v1/posts/{first.pk}/", {"raw": "x", "title": ""}, format="json")
    assert response.status_code == 400 and "title" in error_fields(response)


def test_the_author_deletes_their_post_and_others_cannot(member, requester, moderator, public_topic):
    mine = reply(member, public_topic, "A synthetic reply to delete.")
    theirs = reply(requester, public_topic, "A synthetic reply a moderator deletes.")
    response = api(requester).delete(f"/api/v1/posts/{mine.pk}/")
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert api().delete(f"/api/v1/posts/{mine.pk}/").status_code == 401
    assert api(member, scope="read").delete(f"/api/v1/posts/{mine.pk}/").status_code == 403
    response = api(member).delete(f"/api/v1/posts/{mine.pk}/")
    assert response.status_code == 204 and response.content == b""
    mine.refresh_from_db()
    assert mine.deleted_at is not None and mine.deleted_by == member
    assert api().get(f"/api/v1/posts/{mine.pk}/").json()["state"] == "deleted"
    assert api(member).delete(f"/api/v1/posts/{mine.pk}/").status_code == 403  # already deleted
    assert api(moderator).delete(f"/api/v1/posts/{theirs.pk}/").status_code == 204
    assert api(member).delete("/api/v1/posts/999999/").status_code == 404
    public_topic.refresh_from_db()
    assert public_topic.post_count == 1


def test_deleting_a_first_post_deletes_the_topic(requester, public_topic):
    first = public_topic.posts.get(number=1)
    assert api(requester).delete(f"/api/v1/posts/{first.pk}/").status_code == 204
    assert api().get(f"/api/v1/topics/{public_topic.pk}/").status_code == 404
    assert api().get("/api/v1/topics/").json()["results"] == []


# --- People ---------------------------------------------------------------------------

def shown_somewhere(*people):
    """The directory names people with something public to read."""
    category = CategoryFactory(slug="directory-area", name="Directory area")
    for person in people:
        TopicFactory(category=category, author=person, title=f"A synthetic topic by {person.username}")


def test_users_list_public_profiles_and_never_an_email(member, requester, moderator):
    shown_somewhere(member, requester, moderator)
    response = api().get("/api/v1/users/")
    assert response.status_code == 200
    users = response.json()["results"]
    assert {u["username"] for u in users} >= {member.username, requester.username, moderator.username}
    for user in users:
        assert set(user) == USER_KEYS
    text = response.content.decode()
    assert "email" not in text and "@example.org" not in text
    for client in (api(member), api(moderator)):
        text = client.get("/api/v1/users/").content.decode()
        assert member.email not in text and "email" not in text


def test_users_orderings_and_expertise(member, public_category):
    older = UserFactory(username="aaron-synthetic")
    newer = UserFactory(username="zed-synthetic")
    older.expertise.add("statistics", "imaging")
    shown_somewhere(member, older, newer)
    by_join = [u["username"] for u in api().get("/api/v1/users/").json()["results"]]
    assert by_join.index(newer.username) < by_join.index(older.username)
    by_name = [u["username"] for u in api().get("/api/v1/users/", {"ordering": "username"}).json()["results"]]
    assert by_name == sorted(by_name)
    assert api().get("/api/v1/users/", {"ordering": "-joined_at"}).json()["results"][0]["username"] == newer.username
    assert api().get("/api/v1/users/", {"ordering": "email"}).status_code == 400
    detail = api().get(f"/api/v1/users/{older.username}/").json()
    assert detail["expertise"] == ["imaging", "statistics"]
    for ordering in ("username", "-joined_at"):
        items, _pages = collect(api(), "/api/v1/users/", {"page_size": 1, "ordering": ordering})
        walked = [u["username"] for u in items]
        assert len(walked) == len(set(walked)) == 3
        assert walked == [u["username"] for u in api().get("/api/v1/users/", {"ordering": ordering}).json()["results"]]


def test_the_directory_leaves_out_people_whose_only_posts_are_private(member, requester, moderator,
                                                                       private_topic):
    """The requester's only topic waits in the Anonymization channel: only who reads it learns they exist."""
    assert requester.username not in {u["username"] for u in api().get("/api/v1/users/").json()["results"]}
    assert requester.username not in {u["username"] for u in api(member).get("/api/v1/users/").json()["results"]}
    assert requester.username in {u["username"] for u in api(moderator).get("/api/v1/users/").json()["results"]}


def test_user_detail_and_deleted_or_inactive_people(member, password):
    response = api().get(f"/api/v1/users/{member.username}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_KEYS and body["url"] == member.get_absolute_url()
    assert member.email not in response.content.decode()
    assert api().get("/api/v1/users/nobody-by-this-name/").status_code == 404

    leaving = UserFactory()
    old_username = leaving.username
    services.account_delete(actor=leaving, confirm_username=old_username)
    leaving.refresh_from_db()
    for username in (old_username, leaving.username):
        response = api(member).get(f"/api/v1/users/{username}/")
        assert response.status_code == 404 and error_code(response) == "not_found"
    listed = {u["username"] for u in api().get("/api/v1/users/", {"page_size": 100}).json()["results"]}
    assert old_username not in listed and leaving.username not in listed

    inactive = UserFactory()
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    assert api().get(f"/api/v1/users/{inactive.username}/").status_code == 404
    listed = {u["username"] for u in api().get("/api/v1/users/", {"page_size": 100}).json()["results"]}
    assert inactive.username not in listed


# --- Notifications --------------------------------------------------------------------

def _notify(user, number, **kwargs):
    return services.notify(user=user, kind="moderator_message", key=f"api-test:{number}",
                           url="/notifications/", title=f"Synthetic notice {number}", **kwargs)


def test_notifications_are_for_the_signed_in_only(member):
    for path in ("/api/v1/notifications/",):
        response = api().get(path)
        assert response.status_code == 401 and error_code(response) == "not_authenticated"
    assert api().post("/api/v1/notifications/read/").status_code == 401
    assert api().post("/api/v1/notifications/1/read/").status_code == 401


def test_notifications_list_own_newest_first(member, requester, public_topic):
    mine = [_notify(member, number) for number in range(3)]
    _notify(requester, 99)
    response = api(member).get("/api/v1/notifications/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [n["id"] for n in results] == [n.pk for n in reversed(mine)]
    for notification in results:
        assert set(notification) == NOTIFICATION_KEYS
        assert notification["read"] is False and notification["text"] and notification["kind_label"]
    assert ids_of(api(member).get("/api/v1/notifications/", {"ordering": "-created_at"})) == [
        n.pk for n in reversed(mine)]
    assert api(member).get("/api/v1/notifications/", {"ordering": "created_at"}).status_code == 400
    items, pages = collect(api(member), "/api/v1/notifications/", {"page_size": 2})
    assert [n["id"] for n in items] == [n.pk for n in reversed(mine)] and pages == 2


def test_notifications_about_topics_gone_private_are_left_out(member, requester, moderator, public_category,
                                                              private_category, public_topic):
    about_topic = services.notify(user=member, kind="replied", key="api-test:moved", url="/t/",
                                  topic=public_topic, title=public_topic.title)
    assert [n["id"] for n in api(member).get("/api/v1/notifications/").json()["results"]] == [about_topic.pk]
    services.topic_move(actor=moderator, topic_id=public_topic.pk, category=private_category)
    assert api(member).get("/api/v1/notifications/").json()["results"] == []
    assert api(member).post(f"/api/v1/notifications/{about_topic.pk}/read/").status_code == 404


def test_mark_one_notification_read(member, requester):
    notification = _notify(member, 1)
    other = _notify(requester, 2)
    response = api(member).post(f"/api/v1/notifications/{notification.pk}/read/")
    assert response.status_code == 200, response.content
    assert set(response.json()) == NOTIFICATION_KEYS and response.json()["read"] is True
    notification.refresh_from_db()
    assert notification.read_at is not None
    # Again: still read, same answer.
    assert api(member).post(f"/api/v1/notifications/{notification.pk}/read/").json()["read"] is True
    # Someone else's notification does not exist for them.
    response = api(member).post(f"/api/v1/notifications/{other.pk}/read/")
    assert response.status_code == 404 and error_code(response) == "not_found"
    other.refresh_from_db()
    assert other.read_at is None
    assert api(member).post("/api/v1/notifications/999999/read/").status_code == 404
    response = api(member, scope="read").post(f"/api/v1/notifications/{notification.pk}/read/")
    assert response.status_code == 403 and error_code(response) == "token_read_only"


def test_mark_all_notifications_read(member, requester):
    for number in range(3):
        _notify(member, number)
    _notify(requester, 9)
    client = api(member)
    client.post(f"/api/v1/notifications/{Notification.objects.filter(user=member).first().pk}/read/")
    response = client.post("/api/v1/notifications/read/")
    assert response.status_code == 200 and response.json() == {"marked_read": 2}
    assert all(n["read"] for n in client.get("/api/v1/notifications/").json()["results"])
    assert client.post("/api/v1/notifications/read/").json() == {"marked_read": 0}
    assert Notification.objects.get(user=requester).read_at is None


# --- Search ---------------------------------------------------------------------------

SEARCH_KEYS = {"total", "more", "partial", "searched", "page", "page_count", "results"}
HIT_KEYS = {"post", "number", "topic", "topic_title_html", "category", "author", "created_at", "snippet_html", "url"}


def test_search_needs_words(member):
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = api().get("/api/v1/search/", params)
        assert response.status_code == 400 and set(error_fields(response)) == {"q"}, params


def test_search_finds_what_the_caller_may_read(requester, member, moderator, public_category, private_category):
    public = services.topic_create(actor=member, category=public_category, title="Synthetic incubation periods",
                                   raw="Estimating incubation periods from synthetic case reports.")
    private = services.topic_create(actor=requester, category=private_category, title="Private incubation data",
                                    raw="Incubation records that may identify Jane Testpatient.")
    response = api().get("/api/v1/search/", {"q": "incubation"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == SEARCH_KEYS
    assert body["total"] == 1 and body["page"] == 1 and body["page_count"] == 1 and body["more"] is False
    assert body["partial"] is False
    hit = body["results"][0]
    assert set(hit) == HIT_KEYS
    assert hit["topic"] == public.pk and hit["number"] == 1 and hit["category"] == "data-requests"
    assert hit["author"]["username"] == member.username and "<mark>" in hit["snippet_html"]
    assert {h["topic"] for h in api(moderator).get("/api/v1/search/", {"q": "incubation"}).json()["results"]} == {
        public.pk, private.pk}
    assert {h["topic"] for h in api(requester).get("/api/v1/search/", {"q": "incubation"}).json()["results"]} == {
        public.pk, private.pk}


def test_search_filters(member, requester, moderator, public_category):
    other = CategoryFactory(slug="other-area", name="Other area")
    tagged = services.topic_create(actor=member, category=public_category, title="Synthetic cohort one",
                                   raw="A synthetic cohort question.", tags=["statistics"])
    elsewhere = services.topic_create(actor=requester, category=other, title="Synthetic cohort two",
                                      raw="Another synthetic cohort question.")
    services.topic_set_closed(actor=moderator, topic_id=elsewhere.pk, closed=True)
    client = api()

    def topics(**params):
        response = client.get("/api/v1/search/", {"q": "cohort", **params})
        assert response.status_code == 200, response.content
        return {hit["topic"] for hit in response.json()["results"]}

    assert topics() == {tagged.pk, elsewhere.pk}
    assert topics(category="data-requests") == {tagged.pk}
    assert topics(tag="statistics") == {tagged.pk}
    assert topics(author=requester.username) == {elsewhere.pk}
    assert topics(status="closed") == {elsewhere.pk}
    assert topics(status="open") == {tagged.pk}
    today = timezone.localdate()
    assert topics(**{"from": today.isoformat(), "to": today.isoformat()}) == {tagged.pk, elsewhere.pk}
    assert topics(**{"from": (today + datetime.timedelta(days=1)).isoformat()}) == set()
    for params, field in (({"category": "no-such-area"}, "category"), ({"tag": "no-such-tag"}, "tag"),
                          ({"status": "sleeping"}, "status"), ({"from": "yesterday"}, "from"),
                          ({"page": "two"}, "page")):
        response = client.get("/api/v1/search/", {"q": "cohort", **params})
        assert response.status_code == 400 and field in error_fields(response), params


def test_search_pages_by_number(member, public_category):
    topic = TopicFactory(category=public_category, author=member, title="Synthetic pagination",
                         raw="A synthetic zebrafish note.")
    for number in range(24):
        reply(member, topic, f"Synthetic zebrafish reply number {number}.")
    client = api()
    first = client.get("/api/v1/search/", {"q": "zebrafish"}).json()
    second = client.get("/api/v1/search/", {"q": "zebrafish", "page": 2}).json()
    assert first["total"] == 25 and first["page_count"] == 2
    assert len(first["results"]) == 20 and len(second["results"]) == 5 and second["page"] == 2
    seen = [hit["post"] for hit in first["results"] + second["results"]]
    assert len(set(seen)) == 25
    assert client.get("/api/v1/search/", {"q": "zebrafish", "page": 0}).json()["page"] == 1
