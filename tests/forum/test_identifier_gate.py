"""The text gate: posts, topics, edits and bios that may identify a patient are held for the
anonymization team before anybody else sees them, and published only as the team clears them.

All identifiers are synthetic (Ofcom drama numbers, example.org, 1970-01-01)."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.test import Client

from forum import notifications as kinds
from forum import services
from forum.models import ModerationLogEntry, Notification, OutboundEmail, Post, PostRevision, ReviewItem, Topic
from forum.permissions import Role
from forum.search import search_posts
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

from .notification_factories import committed, told, watch

pytestmark = pytest.mark.django_db

IDENTIFYING = "Jane Fictionpatient (born 1970-01-01) asked about her results; call 07700 900123."
NAME_WORD = "Fictionpatient"
CLEAN = "A patient asked about her results."
ANONYMOUS = AnonymousUser()


def reply(author, topic, raw):
    return committed(services.post_create, actor=author, topic_id=topic.pk, raw=raw)


def resolve(actor, item, action, note=""):
    return committed(services.review_resolve, actor=actor, item_id=item.pk, action=action, note=note)


def fresh(obj):
    obj.refresh_from_db()
    return obj


def page_text(client, topic) -> str:
    response = client.get(topic.get_absolute_url())
    return response.content.decode() if response.status_code == 200 else ""


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def searched(user, word) -> list[int]:
    return [result.post.pk for result in search_posts(user=user, query=word).results]


@pytest.fixture
def held_reply(public_topic, requester, volunteer, anonymizer):
    watch(volunteer, topic=public_topic)
    return reply(requester, public_topic, IDENTIFYING)


# --- Holding new posts -----------------------------------------------------------------------------

def test_a_reply_naming_a_patient_with_a_birth_date_is_held(held_reply, requester, anonymizer, volunteer):
    post = fresh(held_reply)
    assert post.hidden == Post.Hidden.PERSONAL_DATA
    item = ReviewItem.objects.get(post=post)
    assert (item.kind, item.personal_data, item.status) == (ReviewItem.Kind.IDENTIFYING, True, "pending")
    assert {finding["kind"] for finding in item.findings} >= {"person_name", "date_of_birth", "phone"}
    assert ModerationLogEntry.objects.filter(post=post, action="post_held_identifying", actor=None).exists()
    assert [n.kind for n in told(anonymizer)] == [kinds.PERSONAL_DATA_HELD]
    assert told(anonymizer)[0].title == ""  # the team's notice never carries text
    assert [n.kind for n in told(requester)] == [kinds.POST_HELD_IDENTIFYING]
    assert not Notification.objects.filter(user=volunteer).exists()  # watchers hear only once it is cleared
    assert not OutboundEmail.objects.filter(to=volunteer.email).exists()
    emails = OutboundEmail.objects.all()
    assert not any(NAME_WORD in (email.subject + email.text_body + email.html_body) for email in emails)


def test_a_clean_reply_is_published_at_once(public_topic, requester):
    post = reply(requester, public_topic, CLEAN)
    assert fresh(post).hidden == "" and not ReviewItem.objects.filter(post=post).exists()


def test_a_name_alone_is_not_held(public_topic, requester):
    post = reply(requester, public_topic, "Thanks to Maria Garcia for the model.")
    assert fresh(post).hidden == ""


ROLES = {
    "visitor": None, "member": [], "volunteer": [Role.VOLUNTEER], "other requester": [Role.REQUESTER],
    "anonymization team": [Role.ANONYMIZATION], "moderator": [Role.MODERATOR],
}


@pytest.mark.parametrize("role", list(ROLES) + ["author", "category moderator"])
def test_who_reads_a_held_reply(role, held_reply, requester, public_topic):
    """Only its author and moderators (on the page, in search and the API) and the anonymization team
    (in the review queue) read held text; everybody else sees a placeholder at most."""
    if role == "author":
        user = requester
    elif role == "category moderator":
        user = UserFactory(totp=True)  # they read private data, so they sign in with a second factor
        public_topic.category.moderators.add(user)
    elif ROLES[role] is None:
        user = None
    else:
        user = UserFactory(roles=ROLES[role], totp=role in ("anonymization team", "moderator"))
    client = client_for(user)
    readers = ("author", "moderator", "category moderator")
    on_page = NAME_WORD in page_text(client, public_topic)
    assert on_page == (role in readers)
    api = client.get(f"/api/v1/topics/{public_topic.pk}/posts/")
    assert (NAME_WORD in api.content.decode()) == (role in readers)
    in_search = held_reply.pk in searched(user or ANONYMOUS, NAME_WORD)
    assert in_search == (role in readers)
    queue = client.get("/review/")
    assert (queue.status_code == 200 and NAME_WORD in queue.content.decode()) == (
        role in ("anonymization team", "moderator", "category moderator"))


def test_the_anonymous_page_cache_never_holds_held_text(held_reply, public_topic, requester):
    author = client_for(requester)
    assert NAME_WORD in page_text(author, public_topic)
    visitor = Client()
    first = visitor.get(public_topic.get_absolute_url())
    second = visitor.get(public_topic.get_absolute_url())
    assert second.get("X-Cache") == "hit"
    for response in (first, second):
        assert NAME_WORD not in response.content.decode()
    for feed in ("/latest.atom", "/latest.rss"):
        assert NAME_WORD not in visitor.get(feed).content.decode()


def test_a_topic_whose_title_identifies_is_held_whole(public_category, requester):
    topic = committed(services.topic_create, actor=requester, category=public_category,
                      title="Jane Fictionpatient, DOB 01/01/1970", raw="Results attached.")
    topic = fresh(topic)
    assert topic.hidden_at is not None
    assert Client().get(topic.get_absolute_url()).status_code == 404
    assert "Fictionpatient" not in Client().get("/latest/").content.decode()
    author_notice = told(requester)[0]
    assert author_notice.kind == kinds.POST_HELD_IDENTIFYING and author_notice.title == ""


# --- The team's decisions ---------------------------------------------------------------------------

def test_the_team_edits_the_identifier_out_and_clears_it(held_reply, anonymizer, requester, volunteer):
    item = ReviewItem.objects.get(post=held_reply)
    committed(services.review_edit, actor=anonymizer, item_id=item.pk, raw=CLEAN, reason="Removed identifiers")
    assert fresh(item).findings == []
    resolve(anonymizer, item, "approve")
    post = fresh(held_reply)
    assert post.hidden == "" and post.raw == CLEAN
    assert PostRevision.objects.get(post=post, number=1).hidden is True  # the identifying version stays private
    assert kinds.POST_CLEARED in [n.kind for n in told(requester)]
    assert [n.kind for n in told(volunteer)] == [kinds.POSTED]  # watchers hear now, of the clean text
    assert NAME_WORD not in page_text(Client(), post.topic)
    assert CLEAN in page_text(Client(), post.topic)


def test_the_team_rejects_a_held_post(held_reply, anonymizer, requester, volunteer):
    item = ReviewItem.objects.get(post=held_reply)
    resolve(anonymizer, item, "reject", note="Please share aggregate numbers only.")
    post = fresh(held_reply)
    assert post.deleted_at is not None
    assert kinds.POST_NOT_CLEARED in [n.kind for n in told(requester)]
    assert not Notification.objects.filter(user=volunteer).exists()


def test_a_false_positive_is_cleared_as_written(public_topic, requester, anonymizer):
    post = reply(requester, public_topic, "Our lab phone is +44 20 7946 0000 for the samples.")
    item = ReviewItem.objects.get(post=post)
    resolve(anonymizer, item, "approve")
    assert fresh(post).hidden == "" and "7946" in fresh(post).raw


def test_an_author_edit_of_a_held_post_keeps_it_held(held_reply, requester):
    committed(services.post_edit, actor=requester, post_id=held_reply.pk, raw=CLEAN)
    post = fresh(held_reply)
    assert post.hidden == Post.Hidden.PERSONAL_DATA and post.raw == CLEAN
    item = ReviewItem.objects.get(post=post, status="pending")
    assert item.findings == []  # the team sees the check now finds nothing


# --- Edits of published posts -----------------------------------------------------------------------

@pytest.fixture
def published(public_topic, requester, anonymizer):
    return reply(requester, public_topic, CLEAN)


def test_an_edit_adding_an_identifier_is_held_and_the_old_text_stays(published, requester, anonymizer):
    post = committed(services.post_edit, actor=requester, post_id=published.pk, raw=IDENTIFYING)
    assert post.edit_held
    post = fresh(published)
    assert post.raw == CLEAN and post.hidden == "" and post.revision_count == 1
    assert not PostRevision.objects.filter(raw=IDENTIFYING).exists()  # never stored as a version
    item = ReviewItem.objects.get(post=post, status="pending")
    assert item.has_proposal and item.proposed_raw == IDENTIFYING and item.proposed_by == requester
    page = page_text(Client(), post.topic)
    assert CLEAN in page and NAME_WORD not in page
    assert kinds.PERSONAL_DATA_HELD in [n.kind for n in told(anonymizer)]


def test_a_held_edit_cleaned_and_cleared_by_the_team_goes_public(published, requester, anonymizer):
    committed(services.post_edit, actor=requester, post_id=published.pk, raw=IDENTIFYING)
    item = ReviewItem.objects.get(post=published, status="pending")
    cleaned = "Our patient asked about her results; call the ward."
    committed(services.review_edit, actor=anonymizer, item_id=item.pk, raw=cleaned)
    assert fresh(published).raw == CLEAN  # still the old text while the team works
    resolve(anonymizer, item, "approve")
    post = fresh(published)
    assert post.raw == cleaned and post.hidden == ""
    assert not PostRevision.objects.filter(raw=IDENTIFYING).exists()
    assert cleaned in page_text(Client(), post.topic)
    assert kinds.POST_CLEARED in [n.kind for n in told(requester)]


def test_a_rejected_held_edit_leaves_the_post_as_it_was(published, requester, anonymizer):
    committed(services.post_edit, actor=requester, post_id=published.pk, raw=IDENTIFYING)
    item = ReviewItem.objects.get(post=published, status="pending")
    resolve(anonymizer, item, "reject")
    post = fresh(published)
    assert post.raw == CLEAN and post.hidden == "" and post.deleted_at is None
    item = fresh(item)
    assert item.status == "rejected" and item.proposed_raw == ""  # no copy of unpublished text is kept
    assert kinds.EDIT_NOT_CLEARED in [n.kind for n in told(requester)]


def test_a_clean_edit_withdraws_a_held_one(published, requester):
    committed(services.post_edit, actor=requester, post_id=published.pk, raw=IDENTIFYING)
    committed(services.post_edit, actor=requester, post_id=published.pk, raw="A patient asked again.")
    assert fresh(published).raw == "A patient asked again."
    item = ReviewItem.objects.get(post=published)
    assert item.status == ReviewItem.Status.WITHDRAWN and item.proposed_raw == ""


def test_a_title_edit_that_identifies_is_held(public_category, requester):
    topic = TopicFactory(category=public_category, author=requester, title="Fever curve")
    first = Post.objects.get(topic=topic, number=1)
    post = committed(services.post_edit, actor=requester, post_id=first.pk, raw=first.raw,
                     title="Fever curve of Mrs Fictionpatient")
    assert post.edit_held and fresh(topic).title == "Fever curve"


# --- Forms: the warning before posting --------------------------------------------------------------

def test_the_reply_form_warns_before_posting(public_topic, requester):
    client = client_for(requester)
    response = client.post(f"/t/{public_topic.pk}/reply/", {"raw": IDENTIFYING})
    assert response.status_code == 200
    body = response.content.decode()
    assert "may identify a patient" in body and "<mark" in body and 'name="send_for_review"' in body
    assert not Post.objects.filter(topic=public_topic, number__gt=1).exists()
    response = client.post(f"/t/{public_topic.pk}/reply/", {"raw": IDENTIFYING, "send_for_review": "on"})
    assert response.status_code == 302
    post = Post.objects.get(topic=public_topic, number=2)
    assert post.hidden == Post.Hidden.PERSONAL_DATA


def test_the_edit_form_warns_and_then_holds_the_edit(published, requester):
    client = client_for(requester)
    response = client.post(f"/p/{published.pk}/edit/", {"raw": IDENTIFYING})
    assert response.status_code == 200 and "may identify a patient" in response.content.decode()
    response = client.post(f"/p/{published.pk}/edit/", {"raw": IDENTIFYING, "send_for_review": "on"}, follow=True)
    assert "waits for the anonymization team" in response.content.decode()
    assert fresh(published).raw == CLEAN


def test_the_preview_lists_what_may_identify(requester):
    client = client_for(requester)
    result = client.post("/preview/", {"raw": IDENTIFYING}).json()
    assert result["held"] is True
    assert {"person_name", "date_of_birth", "phone"} <= {item["kind"] for item in result["identifiers"]}
    assert client.post("/preview/", {"raw": CLEAN}).json()["identifiers"] == []


def test_the_review_queue_shows_the_findings_and_a_held_edit(published, requester, anonymizer):
    committed(services.post_edit, actor=requester, post_id=published.pk, raw=IDENTIFYING)
    body = client_for(anonymizer).get("/review/").content.decode()
    assert "A held edit" in body and "07700 900123" in body and "Clear and publish the edit" in body


def test_the_team_edits_a_held_title_in_the_queue(public_category, requester, anonymizer):
    topic = committed(services.topic_create, actor=requester, category=public_category,
                      title="Results for Mrs Fictionpatient, DOB 01/01/1970", raw="Results attached.")
    item = ReviewItem.objects.get(post__topic=topic)
    client = client_for(anonymizer)
    response = client.post(f"/review/{item.pk}/edit/", {"title": "Results for a patient", "raw": "Results attached."})
    assert response.status_code == 302
    assert fresh(topic).title == "Results for a patient"
    client.post(f"/review/{item.pk}/", {"action": "approve"})
    assert fresh(topic).hidden_at is None


# --- Bios ---------------------------------------------------------------------------------------------

def test_a_bio_that_identifies_someone_is_refused(member):
    with pytest.raises(ValidationError) as error:
        services.profile_update(actor=member, user=member, display_name="Synthetic", affiliation="", orcid="",
                                bio="Reach me on 07700 900123 or at 221B Baker Street.", expertise=[], roles=[])
    assert "bio" in error.value.message_dict


def test_a_plain_bio_is_saved(member):
    services.profile_update(actor=member, user=member, display_name="Synthetic", affiliation="", orcid="",
                            bio="Epidemiologist working on incubation periods.", expertise=[], roles=[])
    assert fresh(member).bio.startswith("Epidemiologist")


def test_a_private_category_post_is_checked_too(requester):
    category = CategoryFactory(slug="team-room", private=True)
    topic = TopicFactory(category=category, author=requester)
    post = reply(requester, topic, IDENTIFYING)
    assert fresh(post).hidden == Post.Hidden.PERSONAL_DATA
    assert Topic.objects.filter(pk=topic.pk, hidden_at__isnull=True).exists()  # a reply leaves its topic shown


# --- The API ------------------------------------------------------------------------------------------

def test_a_reply_through_the_api_is_held_too(public_topic, requester, anonymizer):
    client = client_for(requester)
    response = client.post(f"/api/v1/topics/{public_topic.pk}/posts/", {"raw": IDENTIFYING},
                           content_type="application/json")
    assert response.status_code == 201
    assert response.json()["state"] == "hidden" and NAME_WORD in response.json()["raw"]  # the author reads it
    post = Post.objects.get(pk=response.json()["id"])
    assert post.hidden == Post.Hidden.PERSONAL_DATA
    listed = Client().get(f"/api/v1/topics/{public_topic.pk}/posts/").json()
    assert NAME_WORD not in str(listed)


def test_the_anonymization_queue_points_to_held_texts(held_reply, anonymizer):
    body = client_for(anonymizer).get("/anonymization/").content.decode()
    assert "1 post or edit that may identify a patient waits in the review queue" in body


def test_an_edit_through_the_api_that_identifies_answers_202_and_keeps_the_text(published, requester):
    client = client_for(requester)
    response = client.patch(f"/api/v1/posts/{published.pk}/", {"raw": IDENTIFYING}, content_type="application/json")
    assert response.status_code == 202 and response.json()["raw"] == CLEAN
    assert fresh(published).raw == CLEAN


# --- Review findings: the holes a reviewer found ------------------------------------------------------

def test_clearing_a_flag_shows_a_held_edit_as_an_edit_to_clear_or_reject(published, requester, anonymizer,
                                                                            member):
    from forum.models import Flag

    committed(services.post_flag, actor=member, post_id=published.pk, reason=Flag.Reason.OFF_TOPIC)
    committed(services.post_edit, actor=requester, post_id=published.pk, raw=IDENTIFYING)
    item = ReviewItem.objects.get(post=published, status="pending")
    assert item.has_proposal and item.personal_data
    body = client_for(anonymizer).get("/review/").content.decode()
    assert "Clear and publish the edit" in body and "Reject the edit" in body
    resolve(anonymizer, item, "reject")
    assert fresh(published).raw == CLEAN


def test_a_post_kept_hidden_stays_hidden_whatever_its_author_edits(public_topic, requester, anonymizer, member):
    from forum.models import Flag

    post = reply(requester, public_topic, "A synthetic reply about the bed next to the window.")
    committed(services.post_flag, actor=member, post_id=post.pk, reason=Flag.Reason.PERSONAL_DATA)
    resolve(anonymizer, ReviewItem.objects.get(post=post), "hide")
    committed(services.post_edit, actor=requester, post_id=post.pk, raw=IDENTIFYING)
    assert fresh(post).hidden == Post.Hidden.MODERATOR
    assert not ReviewItem.objects.filter(post=post, status="pending").exists()


def test_nobody_clears_their_own_held_post(public_topic, anonymizer):
    post = reply(anonymizer, public_topic, IDENTIFYING)
    item = ReviewItem.objects.get(post=post)
    with pytest.raises(ValidationError):
        resolve(anonymizer, item, "approve")
    assert fresh(post).hidden == Post.Hidden.PERSONAL_DATA


def test_saving_the_published_text_again_or_deleting_takes_a_held_edit_back(published, requester):
    committed(services.post_edit, actor=requester, post_id=published.pk, raw=IDENTIFYING)
    committed(services.post_edit, actor=requester, post_id=published.pk, raw=CLEAN)
    assert ReviewItem.objects.get(post=published).status == ReviewItem.Status.WITHDRAWN
    committed(services.post_edit, actor=requester, post_id=published.pk, raw=IDENTIFYING)
    committed(services.post_delete, actor=requester, post_id=published.pk)
    assert not ReviewItem.objects.filter(post=published, status="pending", has_proposal=True).exists()


def test_decided_items_keep_no_values(held_reply, anonymizer):
    item = ReviewItem.objects.get(post=held_reply)
    resolve(anonymizer, item, "reject")
    item = fresh(item)
    assert item.findings and all("value" not in finding for finding in item.findings)


def test_an_edit_reason_that_identifies_is_refused(published, requester):
    with pytest.raises(ValidationError) as error:
        services.post_edit(actor=requester, post_id=published.pk, raw="A patient asked again.",
                           reason="Jane Fictionpatient, born 1970-01-01, asked me to")
    assert "reason" in error.value.message_dict


def test_a_new_members_identifying_post_waits_for_approval_and_the_team(public_topic, settings, anonymizer):
    settings.FORUM_HOLD_FIRST_POSTS = 1
    newcomer = UserFactory(trust_level=0)
    post = reply(newcomer, public_topic, IDENTIFYING)
    item = ReviewItem.objects.get(post=post)
    assert fresh(post).hidden == Post.Hidden.AWAITING_APPROVAL
    assert item.kind == ReviewItem.Kind.HELD and item.personal_data and item.findings
