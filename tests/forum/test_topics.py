"""Topics and posts through the services: numbering, replies, edits, deletes, moderation, tags."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from forum import selectors, services
from forum.models import Post, PostRevision, Topic, TopicEvent
from tests.forum.factories import CategoryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(public_category, volunteer):
    return services.topic_create(
        actor=volunteer, category=public_category, title="  Help   with imaging data ", raw="First post.",
        tags=["Imaging", "statistics", "imaging"],
    )


def test_topic_create_keeps_counters_revision_and_read_state(topic, volunteer):
    topic.refresh_from_db()
    assert topic.title == "Help with imaging data"
    assert topic.slug == "help-with-imaging-data"
    assert (topic.post_count, topic.last_post_number, topic.last_poster, topic.view_count) == (1, 1, volunteer, 1)
    assert sorted(tag.name for tag in topic.tags.all()) == ["imaging", "statistics"]
    post = topic.posts.get()
    assert post.html == "<p>First post.</p>"
    assert PostRevision.objects.get(post=post).raw == "First post."
    assert selectors.topic_read_number(user=volunteer, topic=topic) == 1


def test_topic_create_explains_every_invalid_field(public_category, volunteer):
    with pytest.raises(ValidationError) as error:
        services.topic_create(actor=volunteer, category=public_category, title=" ", raw="  ", tags=[])
    assert set(error.value.message_dict) == {"title", "raw"}
    assert Topic.objects.count() == 0


@override_settings(FORUM_MAX_TAGS_PER_TOPIC=2)
def test_tag_limit_is_configurable(public_category, volunteer):
    with pytest.raises(ValidationError) as error:
        services.topic_create(actor=volunteer, category=public_category, title="T", raw="x", tags=["a", "b", "c"])
    assert "at most 2 tags" in str(error.value.message_dict["tags"])


def test_replies_are_numbered_and_can_answer_a_post(topic, requester, volunteer):
    first = services.post_create(actor=requester, topic_id=topic.pk, raw="Reply one")
    second = services.post_create(actor=volunteer, topic_id=topic.pk, raw="Reply two", reply_to_number=2)
    assert (first.number, second.number) == (2, 3)
    assert second.reply_to == first
    topic.refresh_from_db()
    assert (topic.post_count, topic.last_post_number, topic.last_poster) == (3, 3, volunteer)


def test_mentions_and_category_links_resolve(topic, requester, volunteer, private_category, public_category):
    post = services.post_create(
        actor=requester, topic_id=topic.pk,
        raw=f"Thanks @{volunteer.username.upper()}, see #{public_category.slug} and #{private_category.slug}. "
            "@nobody_here",
    )
    assert f'href="/u/{volunteer.username}/"' in post.html
    assert post.mentions == {volunteer.username}
    assert f'href="/c/{public_category.slug}/"' in post.html
    assert f'/c/{private_category.slug}/' not in post.html  # never reveal a private category
    assert "@nobody_here" in post.html


def test_edit_keeps_revisions_and_renames_topic(topic, volunteer):
    post = topic.posts.get()
    services.post_edit(actor=volunteer, post_id=post.pk, raw="First post, **edited**.", title="Imaging help",
                       reason="typo")
    post.refresh_from_db()
    topic.refresh_from_db()
    assert post.revision_count == 2 and post.edited_at is not None
    assert "<strong>edited</strong>" in post.html
    assert (topic.title, topic.slug) == ("Imaging help", "imaging-help")
    revisions = selectors.post_revision_list(user=volunteer, post=post)
    assert [r.revision.number for r in revisions] == [1, 2]
    assert revisions[1].title_changed and revisions[1].revision.reason == "typo"
    assert ("removed", "First post.") in revisions[1].lines
    assert ("added", "First post, **edited**.") in revisions[1].lines


def test_saving_unchanged_text_records_nothing(topic, volunteer):
    post = topic.posts.get()
    services.post_edit(actor=volunteer, post_id=post.pk, raw=post.raw)
    assert PostRevision.objects.filter(post=post).count() == 1


def test_only_author_or_moderator_edits(topic, requester, moderator):
    post = topic.posts.get()
    with pytest.raises(PermissionDenied):
        services.post_edit(actor=requester, post_id=post.pk, raw="Hijacked")
    services.post_edit(actor=moderator, post_id=post.pk, raw="Cleaned up by a moderator")
    assert PostRevision.objects.filter(post=post).latest("number").editor == moderator


def test_author_delete_shows_placeholder_and_moderator_restores(topic, requester, moderator, client):
    reply = services.post_create(actor=requester, topic_id=topic.pk, raw="Oops, wrong topic")
    services.post_delete(actor=requester, post_id=reply.pk)
    topic.refresh_from_db()
    assert topic.post_count == 1
    content = client.get(topic.get_absolute_url()).content.decode()
    assert "(post deleted by author)" in content
    assert "Oops, wrong topic" not in content
    with pytest.raises(PermissionDenied):
        services.post_restore(actor=requester, post_id=reply.pk)
    services.post_restore(actor=moderator, post_id=reply.pk)
    topic.refresh_from_db()
    assert topic.post_count == 2
    assert list(TopicEvent.objects.filter(topic=topic).values_list("kind", flat=True)) == ["post_restored"]


def test_moderator_delete_is_labelled_and_moderators_still_read_it(topic, requester, moderator, client):
    reply = services.post_create(actor=requester, topic_id=topic.pk, raw="Something rude")
    services.post_delete(actor=moderator, post_id=reply.pk)
    assert "(post deleted by a moderator)" in client.get(topic.get_absolute_url()).content.decode()
    page = selectors.topic_page(user=moderator, topic=topic, page=1)
    assert not page.posts[1].content_hidden
    page = selectors.topic_page(user=requester, topic=topic, page=1)
    assert page.posts[1].content_hidden


def test_deleting_first_post_deletes_topic_for_everyone_but_moderators(topic, volunteer, moderator, client):
    services.post_delete(actor=volunteer, post_id=topic.posts.get().pk)
    assert client.get(topic.get_absolute_url()).status_code == 404
    assert topic.title not in client.get("/latest/").content.decode()
    assert selectors.topic_get(user=moderator, pk=topic.pk).deleted_at is not None
    services.post_restore(actor=moderator, post_id=topic.posts.get().pk)
    assert client.get(topic.get_absolute_url()).status_code == 200


def test_pin_close_archive_and_move_leave_an_audit_trail(topic, moderator, requester):
    other = CategoryFactory()
    services.topic_set_pinned(actor=moderator, topic_id=topic.pk, pinned=True, globally=True)
    services.topic_set_closed(actor=moderator, topic_id=topic.pk, closed=True)
    services.topic_set_archived(actor=moderator, topic_id=topic.pk, archived=True)
    services.topic_move(actor=moderator, topic_id=topic.pk, category=other)
    topic.refresh_from_db()
    assert topic.pinned_globally and topic.closed and topic.archived and topic.category == other
    kinds = list(TopicEvent.objects.filter(topic=topic).values_list("kind", "detail"))
    assert [kind for kind, _detail in kinds] == ["pinned_globally", "closed", "archived", "moved"]
    assert "to " + other.name in kinds[-1][1]
    for action in (
        lambda: services.topic_set_pinned(actor=requester, topic_id=topic.pk, pinned=False),
        lambda: services.topic_set_closed(actor=requester, topic_id=topic.pk, closed=False),
        lambda: services.topic_move(actor=requester, topic_id=topic.pk, category=CategoryFactory()),
    ):
        with pytest.raises(PermissionDenied):
            action()


def test_closed_topic_refuses_replies_except_from_moderators(topic, moderator, requester):
    services.topic_set_closed(actor=moderator, topic_id=topic.pk, closed=True)
    with pytest.raises(PermissionDenied, match="closed"):
        services.post_create(actor=requester, topic_id=topic.pk, raw="Late reply")
    services.post_create(actor=moderator, topic_id=topic.pk, raw="Moderator note")


def test_archived_topic_is_frozen(topic, moderator, requester, volunteer):
    reply = services.post_create(actor=requester, topic_id=topic.pk, raw="Reply")
    services.topic_set_archived(actor=moderator, topic_id=topic.pk, archived=True)
    with pytest.raises(PermissionDenied):
        services.post_create(actor=moderator, topic_id=topic.pk, raw="x")
    with pytest.raises(PermissionDenied):
        services.post_edit(actor=requester, post_id=reply.pk, raw="changed")
    with pytest.raises(PermissionDenied):
        services.post_like(actor=volunteer, post_id=reply.pk)


def test_category_moderator_moderates_only_their_categories(topic, public_category):
    category_moderator = UserFactory(totp=True)
    public_category.moderators.add(category_moderator)
    services.topic_set_closed(actor=category_moderator, topic_id=topic.pk, closed=True)
    with pytest.raises(PermissionDenied):
        services.topic_set_pinned(actor=category_moderator, topic_id=topic.pk, pinned=True, globally=True)
    elsewhere = services.topic_create(actor=category_moderator, category=CategoryFactory(), title="T", raw="x")
    other_author = UserFactory()
    reply = services.post_create(actor=other_author, topic_id=elsewhere.pk, raw="reply")
    with pytest.raises(PermissionDenied):
        services.post_delete(actor=category_moderator, post_id=reply.pk)


def test_category_moderators_of_a_private_category_read_it(private_topic, private_category):
    category_moderator = UserFactory(totp=True)
    private_category.moderators.add(category_moderator)
    assert selectors.topic_get(user=category_moderator, pk=private_topic.pk) == private_topic


def test_permalink_page_numbers_follow_dense_numbering():
    assert [selectors.post_page_number(n) for n in (1, 20, 21, 40, 41)] == [1, 1, 2, 2, 3]


def test_post_cannot_be_created_in_a_topic_that_does_not_exist(volunteer):
    with pytest.raises(Topic.DoesNotExist):
        services.post_create(actor=volunteer, topic_id=999_999, raw="x")
    assert Post.objects.count() == 0
