"""The anonymous page cache: what it serves, what it never stores, and how writes make pages stale."""
import pytest
from django.core.cache import cache
from django.db import transaction

from forum.models import Category
from forum.pagecache import GENERATION_KEY, cache_anonymous_page, invalidate, invalidate_on_commit
from tests.forum import pagecache_urls
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.forum.pagecache_urls")]

COUNTER = "/pagecache/counter/"


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 300
    pagecache_urls.calls["count"] = 0


def calls():
    return pagecache_urls.calls["count"]


def is_hit(response):
    return response.get("X-Cache") == "hit"


def test_second_anonymous_get_is_served_from_cache(client):
    first = client.get(COUNTER)
    second = client.get(COUNTER)
    assert not is_hit(first)
    assert is_hit(second)
    assert second.content == first.content == b"call 1 anonymous "
    assert second["Content-Type"] == first["Content-Type"]
    assert calls() == 1


def test_invalidate_makes_next_request_a_miss(client):
    client.get(COUNTER)
    invalidate()
    response = client.get(COUNTER)
    assert not is_hit(response)
    assert calls() == 2
    assert is_hit(client.get(COUNTER))


def test_write_shows_once_its_transaction_commits(client, public_category, django_capture_on_commit_callbacks):
    assert client.get("/pagecache/categories/").content == b"Data requests"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            Category.objects.filter(pk=public_category.pk).update(name="Renamed")
            invalidate_on_commit()
    assert callbacks == [invalidate]
    assert client.get("/pagecache/categories/").content == b"Renamed"


def test_page_cached_before_commit_is_stale_after_commit(client, public_category,
                                                         django_capture_on_commit_callbacks):
    client.get("/pagecache/categories/")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            invalidate_on_commit()
        # Another request renders and caches the page before the write commits.
        client.get("/pagecache/categories/")
        assert is_hit(client.get("/pagecache/categories/"))
    assert not is_hit(client.get("/pagecache/categories/"))
    assert calls() == 3


def test_write_during_rendering_leaves_no_page_for_the_new_generation(client):
    client.get("/pagecache/written-during-render/")
    response = client.get("/pagecache/written-during-render/")
    assert not is_hit(response)
    assert calls() == 2


def test_lost_generation_never_revives_stored_pages(client):
    client.get(COUNTER)
    cache.delete(GENERATION_KEY)
    assert not is_hit(client.get(COUNTER))
    assert is_hit(client.get(COUNTER))
    before = cache.get(GENERATION_KEY)
    cache.delete(GENERATION_KEY)
    invalidate()
    assert cache.get(GENERATION_KEY) > before


def test_signed_in_people_neither_get_nor_fill_the_cache(client, member):
    client.get(COUNTER)
    sign_in(client, member)
    response = client.get(COUNTER)
    assert not is_hit(response)
    assert b"signed-in" in response.content

    cache.clear()
    client.get(COUNTER)
    client.logout()
    response = client.get(COUNTER)
    assert not is_hit(response)
    assert b"anonymous" in response.content
    assert calls() == 4


@pytest.mark.parametrize("cookie", ["sessionid", "messages"])
def test_request_with_session_or_messages_cookie_bypasses_the_cache(client, cookie):
    client.get(COUNTER)
    client.cookies[cookie] = "anything"
    assert not is_hit(client.get(COUNTER))
    assert not is_hit(client.get(COUNTER))
    assert calls() == 3


def test_other_cookies_still_get_hits(client):
    client.get(COUNTER)
    client.cookies["csrftoken"] = "x" * 32
    assert is_hit(client.get(COUNTER))


def test_response_setting_a_cookie_is_not_stored(client):
    client.get("/pagecache/sets-cookie/")
    response = client.get("/pagecache/sets-cookie/")
    assert not is_hit(response)
    assert calls() == 2


def test_page_with_csrf_token_is_not_stored(client):
    first = client.get("/pagecache/csrf/")
    assert "csrftoken" in first.cookies
    assert not is_hit(client.get("/pagecache/csrf/"))
    assert calls() == 2


def test_post_is_never_served_or_stored(client):
    client.get("/pagecache/post/")
    assert client.post("/pagecache/post/").content == b"call 2 anonymous POST"
    client.post("/pagecache/post/")
    assert calls() == 3
    assert is_hit(client.get("/pagecache/post/"))


def test_query_string_is_part_of_the_key(client):
    client.get(COUNTER, {"page": 1})
    assert not is_hit(client.get(COUNTER, {"page": 2}))
    assert is_hit(client.get(COUNTER, {"page": 1}))
    assert calls() == 2


def test_host_is_part_of_the_key(client):
    client.get(COUNTER)
    assert not is_hit(client.get(COUNTER, headers={"host": "localhost"}))
    assert calls() == 2


def test_language_is_part_of_the_key(client, settings):
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    client.get(COUNTER, headers={"accept-language": "en"})
    assert not is_hit(client.get(COUNTER, headers={"accept-language": "de"}))
    assert is_hit(client.get(COUNTER, headers={"accept-language": "de-AT,de;q=0.9"}))
    assert calls() == 2


def test_views_that_did_not_opt_in_are_not_cached(client):
    client.get("/pagecache/not-opted-in/")
    assert not is_hit(client.get("/pagecache/not-opted-in/"))
    assert calls() == 2


def test_head_is_served_from_a_cached_get_but_never_fills(client):
    client.head(COUNTER)
    assert not is_hit(client.head(COUNTER))
    client.get(COUNTER)
    assert is_hit(client.head(COUNTER))
    assert calls() == 3


@pytest.mark.parametrize("url", [
    "/pagecache/not-found/", "/pagecache/private/", "/pagecache/varies/", "/pagecache/streams/",
])
def test_errors_private_varying_and_streaming_responses_are_not_stored(client, url):
    client.get(url)
    assert not is_hit(client.get(url))
    assert calls() == 2


def test_security_headers_are_present_on_a_hit(client):
    miss = client.get(COUNTER)
    hit = client.get(COUNTER)
    assert is_hit(hit)
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"):
        assert hit[header] == miss[header]


def test_real_page_hit_runs_no_queries(client, public_category, requester, django_assert_num_queries):
    for n in range(3):
        TopicFactory(category=CategoryFactory(), author=UserFactory(), title=f"Synthetic request {n}")
    first = client.get("/pagecache/home/")
    assert first.status_code == 200
    assert not first.cookies
    with django_assert_num_queries(0):
        hit = client.get("/pagecache/home/")
    assert is_hit(hit)
    assert hit.content == first.content


def test_zero_seconds_turns_the_cache_off(client, settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    client.get(COUNTER)
    assert not is_hit(client.get(COUNTER))
    assert calls() == 2


def test_decorator_keeps_the_view_name():
    @cache_anonymous_page
    def some_view(request):
        """Docstring."""

    assert some_view.__name__ == "some_view"
    assert some_view.__doc__ == "Docstring."
