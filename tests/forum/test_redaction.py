"""Nothing a moderator redacted or made private leaks through history, events, tags or caches."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from forum import services
from forum.models import Category, PostRevision
from tests.forum.factories import CategoryFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def test_hidden_history_is_for_moderators_only(client, public_topic, moderator, requester):
    post = public_topic.posts.get()
    services.post_edit(actor=requester, post_id=post.pk, raw="Jane Testpatient, MRN 000-SYNTHETIC")
    services.post_edit(actor=moderator, post_id=post.pk, raw="[redacted by a moderator]")
    with pytest.raises(PermissionDenied):
        services.post_hide_history(actor=requester, post_id=post.pk)
    sign_in(client, moderator)
    client.post(f"/p/{post.pk}/revisions/")
    assert "MRN 000-SYNTHETIC" in client.get(f"/p/{post.pk}/revisions/").content.decode()
    client.logout()
    history = client.get(f"/p/{post.pk}/revisions/").content.decode()
    assert "MRN 000-SYNTHETIC" not in history and "[redacted by a moderator]" in history
    assert "hid the earlier versions" in client.get(public_topic.get_absolute_url()).content.decode()


def test_leaving_a_private_channel_hides_earlier_versions_and_the_channel_name(
    client, private_topic, moderator, public_category
):
    post = private_topic.posts.get()
    services.post_edit(actor=moderator, post_id=post.pk, raw="Cleared: synthetic cohort without identifiers")
    services.topic_move(actor=moderator, topic_id=private_topic.pk, category=public_category)
    assert list(PostRevision.objects.filter(post=post).values_list("number", "hidden")) == [(1, True), (2, False)]
    history = client.get(f"/p/{post.pk}/revisions/").content.decode()
    assert "Synthetic data only." not in history and "Cleared" in history
    page = client.get(private_topic.get_absolute_url()).content.decode()
    assert "from a private category to" in page
    assert private_topic.category.name not in page.split("Moderation history")[1]


def test_subcategories_of_private_categories_must_be_private(private_category):
    with pytest.raises(ValidationError):
        services.category_create(name="Leaky", slug="leaky", parent=private_category)
    child = services.category_create(
        name="Ward", slug="ward", parent=private_category, security=Category.Security.PRIVATE
    )
    assert child.parent == private_category


def test_tags_used_only_on_private_topics_do_not_exist_for_outsiders(client, private_category, requester, member):
    services.topic_create(actor=requester, category=private_category, title="x", raw="x", tags=["ward-7-cluster"])
    assert client.get("/tag/ward-7-cluster/").status_code == 404
    assert client.get("/tag/ward-7-cluster/feed.atom").status_code == 404
    sign_in(client, member)
    assert client.get("/tag/ward-7-cluster/").status_code == 404
    assert "There is no tag" in client.get("/search/", {"q": "x", "tag": "ward-7-cluster"}).content.decode()
    client.logout()
    sign_in(client, requester)
    assert client.get("/tag/ward-7-cluster/").status_code == 200


def test_malformed_ids_are_404_not_500(client, public_topic, member):
    sign_in(client, member)
    assert client.post("/notifications/topic/abc/", {"level": "1"}).status_code == 404
    response = client.post(f"/t/{public_topic.pk}/reply/", {"raw": "", "reply_to": "abc"})
    assert response.status_code == 200


def test_members_can_start_their_first_topic_in_the_anonymization_channel(client, private_category, member):
    sign_in(client, member)
    assert f'<option value="{private_category.pk}">' in client.get("/t/new/").content.decode()
    client.post("/t/new/", {"title": "Synthetic scans", "category": private_category.pk, "raw": "Please check."})
    topic = private_category.topics.get()
    assert topic.author == member
    assert client.get(topic.get_absolute_url()).status_code == 200
    client.logout()
    sign_in(client, UserFactory())
    assert client.get(topic.get_absolute_url()).status_code == 404


def test_profile_edits_refresh_cached_anonymous_pages(client, requester):
    assert "A synthetic bio" not in client.get(requester.get_absolute_url()).content.decode()
    services.profile_update(
        actor=requester, user=requester, display_name="Dr. Synthetic", affiliation="", orcid="",
        bio="A synthetic bio", expertise=[], roles=[],
    )
    assert "A synthetic bio" in client.get(requester.get_absolute_url()).content.decode()


def test_private_category_links_in_posts_are_never_made(public_topic, requester):
    CategoryFactory(private=True, slug="ward-secret", name="Ward secret")
    post = services.post_create(actor=requester, topic_id=public_topic.pk, raw="See #ward-secret")
    assert "Ward secret" not in post.html and "/c/ward-secret/" not in post.html
