"""Topic pages and forms as people use them: plain HTML forms, permalinks, preview, revisions."""
import re

import pytest
from django.test import override_settings

from forum import services
from forum.models import Post, Topic
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(public_category, volunteer):
    return services.topic_create(actor=volunteer, category=public_category, title="Synthetic topic", raw="First")


def test_create_topic_through_the_form(client, volunteer, public_category):
    sign_in(client, volunteer)
    form = client.get(f"/t/new/?category={public_category.slug}").content.decode()
    assert 'for="id_title"' in form and 'for="id_raw"' in form and 'for="id_tags"' in form
    assert f'<option value="{public_category.pk}" selected>' in form
    response = client.post("/t/new/", {
        "title": "Cohort table", "category": public_category.pk, "tags": "tabular, statistics",
        "raw": "| a | b |\n|---|---|\n| 1 | 2 |",
    })
    topic = Topic.objects.get(title="Cohort table")
    assert response["Location"] == topic.get_absolute_url()
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "<table>" in page and 'href="/tag/statistics/"' in page


def test_create_topic_form_explains_errors_and_keeps_text(client, volunteer, public_category):
    sign_in(client, volunteer)
    response = client.post("/t/new/", {"title": "", "category": public_category.pk, "raw": "Kept text",
                                       "tags": "a, b, c, d, e, f"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in content and "at most 5 tags" in content
    assert "Kept text" in content


def test_cannot_create_topic_in_a_read_only_category(client, member):
    from tests.forum.factories import CategoryFactory

    announcements = CategoryFactory(security="read_only")
    sign_in(client, member)
    response = client.post("/t/new/", {"title": "x", "category": announcements.pk, "raw": "x"})
    assert response.status_code == 403
    assert not Topic.objects.filter(title="x").exists()


def test_reply_quote_and_reply_to(client, topic, requester):
    sign_in(client, requester)
    quoted = client.get(f"/t/{topic.pk}/reply/?to=1&quote=1").content.decode()
    assert f"@{topic.author.username} wrote:\n&gt; First" in quoted
    assert 'name="reply_to" value="1"' in quoted
    response = client.post(f"/t/{topic.pk}/reply/", {"raw": "> First\n\nAgreed.", "reply_to": "1"})
    post = Post.objects.get(topic=topic, number=2)
    assert response["Location"] == f"{topic.get_absolute_url()}#post-2"
    assert post.reply_to.number == 1 and "<blockquote>" in post.html
    assert "in reply to #1" in client.get(topic.get_absolute_url()).content.decode()


def test_empty_reply_is_refused_with_a_message(client, topic, requester):
    sign_in(client, requester)
    response = client.post(f"/t/{topic.pk}/reply/", {"raw": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert topic.posts.count() == 1


def test_permalinks_work_across_pagination(client, topic, requester):
    for n in range(25):
        services.post_create(actor=requester, topic_id=topic.pk, raw=f"Reply {n}")
    post = Post.objects.get(topic=topic, number=23)
    response = client.get(post.get_absolute_url())
    assert response["Location"] == f"{topic.get_absolute_url()}?page=2#post-23"
    page = client.get(f"{topic.get_absolute_url()}?page=2").content.decode()
    assert 'id="post-23"' in page and 'id="post-20"' not in page
    assert client.get(f"{topic.get_absolute_url()}?page=3").status_code == 404
    assert client.get(f"{topic.get_absolute_url()}?page=x").status_code == 404


def test_preview_renders_like_saving_and_explains_errors(client, topic, volunteer, settings):
    assert client.post("/preview/", {"raw": "x"}).status_code == 302  # sign in first
    sign_in(client, volunteer)
    response = client.post("/preview/", {"raw": "**bold** <script>alert(1)</script>"})
    assert response.json()["html"].startswith("<p><strong>bold</strong>")
    assert "<script" not in response.json()["html"]
    settings.MARKDOWN_MAX_LENGTH = 10
    response = client.post("/preview/", {"raw": "x" * 11})
    assert response.status_code == 400 and "limit is 10" in response.json()["errors"][0]
    assert Post.objects.count() == 1


def test_preview_needs_csrf(topic, volunteer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    sign_in(client, volunteer)
    assert client.post("/preview/", {"raw": "x"}).status_code == 403


def test_edit_form_and_revision_page(client, topic, volunteer, requester):
    sign_in(client, volunteer)
    post = topic.posts.get()
    form = client.get(f"/p/{post.pk}/edit/").content.decode()
    assert 'value="Synthetic topic"' in form
    client.post(f"/p/{post.pk}/edit/", {"title": "Renamed topic", "tags": "imaging", "raw": "Second version",
                                        "reason": "clearer"})
    topic.refresh_from_db()
    assert topic.title == "Renamed topic" and [t.name for t in topic.tags.all()] == ["imaging"]
    client.logout()
    history = client.get(f"/p/{post.pk}/revisions/").content.decode()
    assert "Revision 2" in history and "clearer" in history and "Renamed topic" in history
    assert re.search(r'class="diff-removed">- First', history)
    assert re.search(r'class="diff-added">\+ Second version', history)
    sign_in(client, requester)
    assert client.get(f"/p/{post.pk}/edit/").status_code == 403


def test_revisions_of_private_posts_are_404_for_outsiders(client, private_topic, member):
    post = private_topic.posts.get()
    assert client.get(f"/p/{post.pk}/revisions/").status_code == 404
    sign_in(client, member)
    assert client.get(f"/p/{post.pk}/revisions/").status_code == 404
    assert client.get(f"/p/{post.pk}/").status_code == 404


def test_like_bookmark_and_delete_buttons(client, topic, requester):
    post = topic.posts.get()
    sign_in(client, requester)
    page = client.get(topic.get_absolute_url()).content.decode()
    assert f'action="/p/{post.pk}/like/"' in page
    assert f'action="/p/{post.pk}/delete/"' not in page  # not theirs
    client.post(f"/p/{post.pk}/like/")
    assert "♥ 1" in client.get(topic.get_absolute_url()).content.decode()
    client.post(f"/p/{post.pk}/bookmark/", {"note": "Jane Testpatient's cohort"})
    assert "Jane Testpatient&#x27;s cohort" in client.get("/my/bookmarks/").content.decode()


def test_moderation_view_refuses_members_and_records_for_moderators(client, topic, requester, moderator):
    sign_in(client, requester)
    assert client.post(f"/t/{topic.pk}/moderate/", {"action": "close"}).status_code == 403
    assert "Moderate this topic" not in client.get(topic.get_absolute_url()).content.decode()
    client.logout()
    sign_in(client, moderator)
    assert "Moderate this topic" in client.get(topic.get_absolute_url()).content.decode()
    client.post(f"/t/{topic.pk}/moderate/", {"action": "pin"})
    client.post(f"/t/{topic.pk}/moderate/", {"action": "close"})
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "This topic is closed" not in page  # moderators may still reply
    assert "pinned the topic in its category" in page and "closed the topic" in page
    client.logout()
    sign_in(client, requester)
    assert "This topic is closed: no new replies." in client.get(topic.get_absolute_url()).content.decode()


def test_move_form(client, topic, moderator):
    from tests.forum.factories import CategoryFactory

    destination = CategoryFactory(name="Results", slug="results")
    sign_in(client, moderator)
    assert 'for="id_category"' in client.get(f"/t/{topic.pk}/move/").content.decode()
    client.post(f"/t/{topic.pk}/move/", {"category": destination.pk})
    topic.refresh_from_db()
    assert topic.category == destination


def test_notification_level_forms(client, topic, requester, public_category):
    sign_in(client, requester)
    response = client.post(f"/notifications/topic/{topic.pk}/", {"level": "3"})
    assert response["Location"] == topic.get_absolute_url()
    response = client.post(f"/notifications/category/{public_category.slug}/", {"level": "0"})
    assert response["Location"] == public_category.get_absolute_url()
    assert client.post(f"/notifications/topic/{topic.pk}/", {"level": "9"}).status_code == 302
    assert client.post("/notifications/category/not-a-category/", {"level": "1"}).status_code == 404


def test_tag_page_and_tag_filter(client, public_category, volunteer):
    services.topic_create(actor=volunteer, category=public_category, title="Tagged one", raw="x", tags=["imaging"])
    services.topic_create(actor=volunteer, category=public_category, title="Other one", raw="x", tags=["genomics"])
    page = client.get("/tag/imaging/").content.decode()
    assert "Tagged one" in page and "Other one" not in page
    top = client.get("/top/?tag=imaging").content.decode()
    assert "Tagged one" in top and "Other one" not in top
    assert client.get("/tag/unknown/").status_code == 404


def test_new_for_me_needs_sign_in(client, db):
    assert client.get("/new/")["Location"].startswith("/accounts/login/")


@override_settings(FORUM_RATE_LIMITS={"post": (2, 600)})
def test_posting_is_rate_limited(client, topic, requester):
    sign_in(client, requester)
    for n in range(2):
        assert client.post(f"/t/{topic.pk}/reply/", {"raw": f"Reply {n}"}).status_code == 302
    response = client.post(f"/t/{topic.pk}/reply/", {"raw": "One too many"})
    assert response.status_code == 429
    assert "2 times in a short time" in response.content.decode()
    assert "Please try again in" in response.content.decode()
    assert int(response["Retry-After"]) <= 600
    assert topic.posts.count() == 3


def test_anonymous_topic_page_is_cached_and_replies_invalidate_it(client, topic, requester):
    first = client.get(topic.get_absolute_url())
    assert "Reply from a synthetic volunteer" not in first.content.decode()
    services.post_create(actor=requester, topic_id=topic.pk, raw="Reply from a synthetic volunteer")
    assert "Reply from a synthetic volunteer" in client.get(topic.get_absolute_url()).content.decode()


def test_anonymous_pages_carry_no_csrf_token(client, topic):
    for url in ("/", "/latest/", topic.get_absolute_url(), topic.category.get_absolute_url()):
        response = client.get(url)
        assert "csrfmiddlewaretoken" not in response.content.decode(), url
        assert not response.cookies, url
