"""Full-text search: ranking, safe highlights, filters, permissions, reindexing and the search page.

Runs on both backends: SQLite's FTS5 table by default, PostgreSQL's tsvector with DATABASE_URL.
"""
import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from forum import services
from forum.models import Post
from forum.search import MARK_START, MARK_STOP, _marked_html, search_posts
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()


def found(user, query, **filters):
    return [result.post for result in search_posts(user=user, query=query, **filters).results]


def found_topics(user, query, **filters):
    return {post.topic_id for post in found(user, query, **filters)}


# --- Matching and ranking -----------------------------------------------------------

def test_title_match_ranks_above_body_only_match(public_category, requester, volunteer):
    body_only = TopicFactory(category=public_category, author=volunteer, title="Question about sequencing",
                             raw="We keep zebrafish embryos in a synthetic incubator.")
    in_title = TopicFactory(category=public_category, author=requester, title="Zebrafish growth curves",
                            raw="Synthetic measurements, nothing else.")

    results = search_posts(user=ANONYMOUS, query="zebrafish").results

    assert [r.post.topic_id for r in results] == [in_title.pk, body_only.pk]
    assert results[0].rank > results[1].rank


def test_replies_are_found_with_their_topic_loaded(public_topic, volunteer, django_assert_num_queries):
    reply = services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="Try a mixed effects model.")

    [result] = search_posts(user=ANONYMOUS, query="mixed effects").results

    assert result.post == reply
    with django_assert_num_queries(0):
        assert (result.post.topic.title, result.post.topic.category.name, result.post.author.name) == (
            public_topic.title, public_topic.category.name, volunteer.name,
        )


def test_every_word_must_match(public_category, requester):
    TopicFactory(category=public_category, author=requester, title="Cohort one", raw="zebrafish and medaka")
    TopicFactory(category=public_category, author=requester, title="Cohort two", raw="zebrafish only")

    assert len(found(ANONYMOUS, "zebrafish medaka")) == 1


def test_word_forms_match_by_stem(public_category, requester):
    topic = TopicFactory(category=public_category, author=requester, title="Cohort", raw="Normalizing the counts")

    assert found_topics(ANONYMOUS, "normalized count") == {topic.pk}


# --- Highlighted snippets -----------------------------------------------------------

def test_snippet_marks_matches_and_escapes_html(public_category, requester):
    TopicFactory(category=public_category, author=requester, title="Pasted <b>markup</b> zebrafish",
                 raw="Beware <script>alert('x')</script> & <img src=x onerror=alert(1)> in the zebrafish data.")

    [result] = search_posts(user=ANONYMOUS, query="zebrafish").results

    assert "<mark>zebrafish</mark>" in result.snippet
    assert "<script" not in result.snippet and "<img" not in result.snippet
    assert "&lt;img src=x" in result.snippet and "&amp;" in result.snippet  # PostgreSQL drops the <script> tag
    assert result.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "<b>" not in result.title_html
    assert "&lt;b&gt;markup&lt;/b&gt; <mark>zebrafish</mark>" in result.title_html


def test_reply_title_is_escaped_without_highlight(public_category, requester, volunteer):
    topic = TopicFactory(category=public_category, author=requester, title="<i>Zebrafish</i> cohort", raw="Hello.")
    services.post_create(actor=volunteer, topic_id=topic.pk, raw="The zebrafish cohort is synthetic.")

    [result] = [r for r in search_posts(user=ANONYMOUS, query="zebrafish").results if r.post.number == 2]

    assert result.title_html == "&lt;i&gt;Zebrafish&lt;/i&gt; cohort"


def test_marks_from_user_text_stay_balanced():
    html = _marked_html(f"a{MARK_STOP}b{MARK_START}c{MARK_START}d<e")

    assert html == "ab<mark>cd&lt;e</mark>"


# --- Filters ------------------------------------------------------------------------

def test_category_filter_includes_subcategories(public_category, requester):
    child = CategoryFactory(slug="child-requests", parent=public_category)
    other = CategoryFactory(slug="other-requests")
    in_parent = TopicFactory(category=public_category, author=requester, title="Parent", raw="zebrafish")
    in_child = TopicFactory(category=child, author=requester, title="Child", raw="zebrafish")
    TopicFactory(category=other, author=requester, title="Other", raw="zebrafish")

    assert found_topics(ANONYMOUS, "zebrafish", category=public_category) == {in_parent.pk, in_child.pk}
    assert found_topics(ANONYMOUS, "zebrafish", category=child) == {in_child.pk}


def test_tag_filter(public_category, requester):
    from taggit.models import Tag

    tagged = services.topic_create(actor=requester, category=public_category, title="Tagged",
                                   raw="zebrafish", tags=["genomics"])
    services.topic_create(actor=requester, category=public_category, title="Other tag", raw="zebrafish",
                          tags=["imaging"])
    TopicFactory(category=public_category, author=requester, title="Untagged", raw="zebrafish")

    assert found_topics(ANONYMOUS, "zebrafish", tag=Tag.objects.get(slug="genomics")) == {tagged.pk}


def test_author_filter(public_topic, requester, volunteer):
    services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="zebrafish reply")
    services.post_create(actor=requester, topic_id=public_topic.pk, raw="zebrafish answer")

    posts = found(ANONYMOUS, "zebrafish", author=volunteer.username)

    assert [post.author for post in posts] == [volunteer]
    assert found(ANONYMOUS, "zebrafish", author="nobody-has-this-name") == []


def test_date_range_filter_is_inclusive(public_topic, volunteer):
    def post_on(day):
        post = services.post_create(actor=volunteer, topic_id=public_topic.pk, raw=f"zebrafish on {day}")
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        Post.objects.filter(pk=post.pk).update(created_at=moment)
        return post.pk

    may1, may2, may3 = (datetime.date(2026, 5, d) for d in (1, 2, 3))
    ids = {day: post_on(day) for day in (may1, may2, may3)}

    def ids_found(**filters):
        return {post.pk for post in found(ANONYMOUS, "zebrafish", **filters)}

    assert ids_found(date_from=may2) == {ids[may2], ids[may3]}
    assert ids_found(date_to=may2) == {ids[may1], ids[may2]}
    assert ids_found(date_from=may2, date_to=may2) == {ids[may2]}


@pytest.mark.parametrize("status, expected", [("open", "open"), ("closed", "closed"), ("archived", "archived")])
def test_status_filter(public_category, requester, moderator, status, expected):
    topics = {name: TopicFactory(category=public_category, author=requester, title=name, raw="zebrafish")
              for name in ("open", "closed", "archived")}
    services.topic_set_closed(actor=moderator, topic_id=topics["closed"].pk, closed=True)
    services.topic_set_archived(actor=moderator, topic_id=topics["archived"].pk, archived=True)

    assert found_topics(ANONYMOUS, "zebrafish", status=status) == {topics[expected].pk}


def test_unknown_status_is_refused(public_topic):
    with pytest.raises(ValueError):
        search_posts(user=ANONYMOUS, query="synthetic", status="pinned")


# --- Permissions --------------------------------------------------------------------

@pytest.fixture
def secret_topic(private_category, requester):
    return TopicFactory(category=private_category, author=requester, title="Quarantined upload",
                        raw="The okapi cohort file still holds identifiers.")


@pytest.mark.parametrize("person, sees", [
    ("anonymous", False), ("member", False), ("volunteer", False),
    ("requester", True), ("moderator", True), ("anonymizer", True),
])
def test_private_posts_only_found_by_those_who_may_read_them(request, secret_topic, public_category, person, sees):
    TopicFactory(category=public_category, author=UserFactory(), title="Public", raw="An okapi in public.")
    user = ANONYMOUS if person == "anonymous" else request.getfixturevalue(person)

    page = search_posts(user=user, query="okapi")

    assert (secret_topic.pk in {r.post.topic_id for r in page.results}) is sees
    assert page.total == (2 if sees else 1)  # the count never includes what the reader cannot see


def test_private_title_is_not_found_by_others(secret_topic, member):
    assert search_posts(user=member, query="quarantined").total == 0
    assert search_posts(user=ANONYMOUS, query="quarantined").total == 0


def test_private_category_filter_finds_nothing_for_outsiders(secret_topic, private_category, member):
    assert found(member, "okapi", category=private_category) == []


# --- Keeping the index current ------------------------------------------------------

def test_deleted_posts_are_not_found(public_topic, volunteer, moderator):
    reply = services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="An okapi reply.")
    services.post_delete(actor=volunteer, post_id=reply.pk)

    assert found(moderator, "okapi") == []


def test_posts_of_deleted_topics_are_not_found(public_category, requester, volunteer, moderator):
    topic = TopicFactory(category=public_category, author=requester, title="Okapi topic", raw="okapi first")
    services.post_create(actor=volunteer, topic_id=topic.pk, raw="okapi reply")
    services.post_delete(actor=requester, post_id=Post.objects.get(topic=topic, number=1).pk)

    assert found(moderator, "okapi") == []


def test_restored_posts_are_found_again(public_topic, volunteer, moderator):
    reply = services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="An okapi reply.")
    services.post_delete(actor=volunteer, post_id=reply.pk)
    services.post_restore(actor=moderator, post_id=reply.pk)

    assert found(ANONYMOUS, "okapi") == [reply]


def test_edits_are_reindexed(public_topic, volunteer):
    reply = services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="The okapi data.")
    services.post_edit(actor=volunteer, post_id=reply.pk, raw="The narwhal data.")

    assert found(ANONYMOUS, "okapi") == []
    assert found(ANONYMOUS, "narwhal") == [reply]


def test_title_edits_are_reindexed(public_category, requester):
    topic = TopicFactory(category=public_category, author=requester, title="Okapi survey", raw="Synthetic.")
    first = Post.objects.get(topic=topic, number=1)
    services.post_edit(actor=requester, post_id=first.pk, raw=first.raw, title="Narwhal survey")

    assert found(ANONYMOUS, "okapi") == []
    [result] = search_posts(user=ANONYMOUS, query="narwhal").results
    assert result.post == first
    assert "<mark>Narwhal</mark>" in result.title_html


# --- Odd queries --------------------------------------------------------------------

@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_blank_query_gives_an_empty_page(public_topic, query, django_assert_num_queries):
    with django_assert_num_queries(0):
        page = search_posts(user=ANONYMOUS, query=query)

    assert (page.results, page.total, page.page_count, page.has_next) == ([], 0, 1, False)


@pytest.mark.parametrize("query", [
    '"', '""', "*", "okapi*", "NEAR", "NEAR(okapi data)", "(", "okapi)", "-", "-okapi", ":", "body:okapi",
    "okapi AND OR NOT", "^okapi", "'", "okapi's", "{body}: okapi", "+", "%", "okapi & | ! <->", "\\",
])
def test_query_syntax_characters_never_error(public_category, requester, query):
    TopicFactory(category=public_category, author=requester, title="Okapi", raw="okapi data: (a) and \"b\"")

    page = search_posts(user=ANONYMOUS, query=query)

    assert page.total == len(page.results)


def test_quoted_words_still_match(public_category, requester):
    topic = TopicFactory(category=public_category, author=requester, title="Okapi", raw="okapi data")

    assert found_topics(ANONYMOUS, '"okapi"') == {topic.pk}
    assert found_topics(ANONYMOUS, "okapi:") == {topic.pk}


def test_long_queries_are_truncated(public_category, requester):
    topic = TopicFactory(category=public_category, author=requester, title="Okapi", raw="okapi data")

    assert found_topics(ANONYMOUS, "okapi " + "data " * 37 + "unmatched") == set()  # 200 characters
    assert found_topics(ANONYMOUS, "okapi " + "data " * 39 + "unmatched") == {topic.pk}  # cut before it
    assert found_topics(ANONYMOUS, "okapi" * 1000) == set()  # one long word is cut, never an error


# --- Pages --------------------------------------------------------------------------

@pytest.fixture
def many_matches(public_category):
    """35 matching posts by several people in several topics, and one private one."""
    authors = [UserFactory() for _ in range(5)]
    topics = [TopicFactory(category=public_category, author=authors[n], title=f"Cohort {n}",
                           raw=f"Okapi cohort {n}.") for n in range(5)]
    for n in range(30):
        services.post_create(actor=authors[n % 5], topic_id=topics[n % 5].pk, raw=f"Okapi follow-up {n}.")
    return topics


def test_results_are_paginated(many_matches):
    first = search_posts(user=ANONYMOUS, query="okapi", per_page=20)
    second = search_posts(user=ANONYMOUS, query="okapi", page=2, per_page=20)
    beyond = search_posts(user=ANONYMOUS, query="okapi", page=99, per_page=20)

    assert (first.total, first.page_count, len(first.results), first.has_next, first.has_previous) == (
        35, 2, 20, True, False)
    assert (second.page, len(second.results), second.has_next, second.has_previous) == (2, 15, False, True)
    assert {r.post.pk for r in first.results}.isdisjoint(r.post.pk for r in second.results)
    assert beyond.page == 2


def test_a_common_word_is_ranked_among_its_newest_matches(public_category, requester, monkeypatch):
    monkeypatch.setattr("forum.search.MAX_CANDIDATES", 3)
    oldest = TopicFactory(category=public_category, author=requester, title="Okapi okapi", raw="okapi okapi")
    newer = [TopicFactory(category=public_category, author=requester, title=f"Cohort {n}", raw="An okapi.")
             for n in range(3)]

    page = search_posts(user=ANONYMOUS, query="okapi")

    assert (page.total, page.more, page.page_count) == (3, True, 1)
    assert {r.post.topic_id for r in page.results} == {topic.pk for topic in newer}
    assert oldest.pk not in {r.post.topic_id for r in page.results}
    assert search_posts(user=ANONYMOUS, query="okapi", category=public_category, author=requester.username).more


def test_search_runs_a_fixed_number_of_queries(many_matches, django_assert_max_num_queries, monkeypatch):
    # PostgreSQL within a transaction: the newest post's id, matches among the recent posts, the
    # older ranges (two here), then the page's posts (in autocommit each older range also sets and
    # puts back the time limit: nine at most)
    monkeypatch.setattr("forum.search.RECENT_POSTS", 10)
    monkeypatch.setattr("forum.search.OLDER_POSTS", 10)
    with django_assert_max_num_queries(5):
        page = search_posts(user=ANONYMOUS, query="okapi", per_page=30)

    with django_assert_max_num_queries(0):
        for result in page.results:
            str(result.snippet), result.post.topic.category.name, result.post.author.name
    assert len(page.results) == 30


# --- The search page ----------------------------------------------------------------

# Anonymous: category choices, then the search (count, page of ids, posts; PostgreSQL counts with the
# page). Signed in adds session, user, the user's and groups' permissions, and the categories they moderate.
PAGE_QUERIES = 4
SIGNED_IN_EXTRA = 6  # + the bell's unread count (forum.context_processors.notifications)


def test_search_page_runs_a_fixed_number_of_queries(client, many_matches, django_assert_max_num_queries):
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get("/search/", {"q": "okapi"})

    assert response.status_code == 200
    assert response.content.decode().count('class="search-result"') == 20


def test_search_page_runs_a_fixed_number_of_queries_signed_in(client, many_matches, requester,
                                                              django_assert_max_num_queries):
    sign_in(client, requester)
    client.get("/")  # warm the terms cache, as on a running site
    with django_assert_max_num_queries(PAGE_QUERIES + SIGNED_IN_EXTRA + 1):  # + the author lookup
        response = client.get("/search/", {"q": "okapi", "author": many_matches[0].author.username})

    assert response.status_code == 200


def test_search_page_labels_every_control(client):
    content = client.get("/search/").content.decode()

    for name in ("q", "category", "tag", "author", "from", "to", "status"):
        assert f'<label for="id_{name}">' in content
        assert f'id="id_{name}"' in content


def test_search_page_shows_highlighted_escaped_results(client, public_category, requester):
    topic = TopicFactory(category=public_category, author=requester, title="Okapi <em>study</em>",
                         raw="An <script>alert(1)</script> okapi, x < y & z.")

    content = client.get("/search/", {"q": "okapi"}).content.decode()

    assert "<mark>okapi</mark>" in content
    assert "<script>alert(1)" not in content
    assert "x &lt; y &amp; z" in content
    assert "<em>study</em>" not in content
    assert Post.objects.get(topic=topic, number=1).get_absolute_url() in content
    assert public_category.name in content and requester.name in content


def test_search_page_pagination_keeps_filters(client, many_matches, public_category):
    content = client.get("/search/", {"q": "okapi", "category": public_category.slug, "from": "2000-01-01"}
                         ).content.decode()

    assert f"?q=okapi&amp;category={public_category.slug}&amp;from=2000-01-01&amp;page=2" in content
    assert f'<option value="{public_category.slug}" selected>' in content
    assert 'value="2000-01-01"' in content


def test_search_page_says_when_more_posts_match(client, many_matches, monkeypatch):
    monkeypatch.setattr("forum.search.MAX_CANDIDATES", 30)

    content = client.get("/search/", {"q": "okapi"}).content.decode()

    assert "More than 30 results" in content
    assert "Page 1 of 2" in content


def test_search_page_never_shows_private_posts(client, secret_topic):
    content = client.get("/search/", {"q": "okapi"}).content.decode()

    assert "Quarantined" not in content
    assert "0 results" in content


@pytest.mark.parametrize("params, message", [
    ({"from": "yesterday"}, "Enter a date as YYYY-MM-DD."),
    ({"to": "2026-02-30"}, "Enter a date as YYYY-MM-DD."),
    ({"from": "2026-05-02", "to": "2026-05-01"}, "The end date must be on or after the start date."),
    ({"tag": "no-such-tag"}, "There is no tag “no-such-tag”."),
    ({"author": "nobody-here"}, "Nobody has the username “nobody-here”."),
    ({"category": "no-such-category"}, "There is no such category."),
    ({"status": "pinned"}, "Select a valid choice."),
])
def test_search_page_explains_bad_filters(client, public_topic, params, message):
    response = client.get("/search/", {"q": "synthetic", **params})

    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert 'class="search-result"' not in content


def test_private_category_is_refused_like_a_missing_one(client, secret_topic, private_category):
    content = client.get("/search/", {"q": "okapi", "category": private_category.slug}).content.decode()

    assert "There is no such category." in content
    assert f'value="{private_category.slug}"' not in content


def test_search_page_filters_by_author_case_insensitively(client, public_topic, requester, volunteer):
    services.post_create(actor=volunteer, topic_id=public_topic.pk, raw="Synthetic reply by a volunteer.")

    content = client.get("/search/", {"q": "synthetic", "author": volunteer.username.upper()}).content.decode()

    assert "1 result" in content


def test_search_page_without_query_shows_the_form_only(client, public_topic):
    response = client.get("/search/", {"q": "   "})

    assert response.status_code == 200
    assert 'class="search-results"' not in response.content.decode()
