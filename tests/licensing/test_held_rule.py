"""One rule for who reads held content, and licensing enforcing it on its own.

A result held for its license is read by its author and the people who moderate its topic
(global and category moderators), and by nobody else: not on its page, nor in a quote, a like,
a flag, a bookmark, a notification, a search or a digest. Licensing enforces this through its
own hooks, so the requests board's forum hook module being unplugged changes nothing.
"""
import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from forum import services as forum_services
from forum.hooks import FORUM
from forum.models import Bookmark, EmailPreference, Flag, Notification, NotificationLevel, Post, PostLike
from forum.notifications import POSTED, REPLIED, Delivery
from forum.permissions import Role, post_texts_readable_by
from forum.search import search_posts
from forum.selectors.digests import digest_sections
from licensing import selectors as licensing_selectors
from licensing.models import LicensedItem
from licensing.permissions import can_see_held, held_readable_q, items_visible_to
from requests_board import services
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_claimed

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "member", "requester", "author", "other_volunteer", "category_moderator", "moderator",
         "anonymizer"]
# The one rule (licensing/permissions.py): the item's author and who moderates its topic.
READS_HELD = {"author", "category_moderator", "moderator"}
HELD_SUMMARY = "Synthetic held summary: the median incubation is 4.2 days."


@pytest.fixture
def people(member, requester, volunteer, moderator, anonymizer, public_category):
    category_moderator = UserFactory(totp=True)  # moderators sign in with a second factor
    public_category.moderators.add(category_moderator)
    return {
        "anonymous": None, "member": member, "requester": requester, "author": volunteer,
        "other_volunteer": UserFactory(roles=[Role.VOLUNTEER]), "category_moderator": category_moderator,
        "moderator": moderator, "anonymizer": anonymizer,
    }


@pytest.fixture
def claimed(people, public_category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        data_request, _claim = make_claimed(author=people["requester"], volunteer=people["author"],
                                            category=public_category, title="Synthetic incubation request")
    return data_request


def _deliver(data_request, volunteer, capture, license="GPL-3.0-only"):
    with capture(execute=True):
        return services.result_deliver(
            actor=volunteer, data_request_id=data_request.pk, summary=HELD_SUMMARY,
            repository_url=f"https://github.com/example/synthetic-{license.lower()}", license=license)


@pytest.fixture
def held_result(claimed, people, django_capture_on_commit_callbacks):
    result = _deliver(claimed, people["author"], django_capture_on_commit_callbacks)
    assert LicensedItem.objects.get(item_type="result", object_id=result.pk).is_held
    return result


@pytest.fixture
def without_board_hooks():
    """The requests board's forum hooks unplugged: licensing must hold its items by itself."""
    with FORUM.unplugged("requests_board.forum_hooks"):
        yield


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def _person(people, role):
    return people[role] or _anonymous()


# --- The one predicate, against the role table ------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_the_held_rule_is_one_rule_in_all_its_forms(people, held_result, role):
    """can_see_held, held_readable_q, items_visible_to, withheld_result_posts and the forum's readable
    texts all agree for every role."""
    person = _person(people, role)
    item = LicensedItem.objects.select_related("topic").get(item_type="result", object_id=held_result.pk)
    reads = role in READS_HELD
    assert can_see_held(person, item) == reads
    readable = held_readable_q(person)
    assert (readable is None or LicensedItem.objects.filter(readable, pk=item.pk).exists()) == reads
    assert items_visible_to(person, LicensedItem.objects.filter(pk=item.pk)).exists() == reads
    withheld = licensing_selectors.withheld_result_posts(user=person)
    assert (withheld is None or not withheld.filter(post_id=held_result.post_id).exists()) == reads
    assert post_texts_readable_by(person, Post.objects.filter(pk=held_result.post_id)).exists() == reads


def test_an_item_that_is_not_held_is_read_by_everybody_who_sees_its_topic(people, claimed):
    item = LicensedItem.objects.select_related("topic").get(item_type="dataset", object_id=claimed.pk)
    assert not item.is_held
    assert all(can_see_held(_person(people, role), item) for role in ROLES)


# --- No leak with the requests board's hooks unplugged ------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_a_held_result_is_not_quoted_by_who_may_not_read_it(client, people, held_result, without_board_hooks, role):
    if people[role] is not None:
        sign_in(client, people[role])
    post = held_result.post
    page = client.get(post.topic.get_absolute_url()).content.decode()
    assert (HELD_SUMMARY in page) == (role in READS_HELD)
    quote = client.get(f"/t/{post.topic_id}/reply/?quote=1&to={post.number}")
    if quote.status_code == 200:
        assert (HELD_SUMMARY in quote.content.decode()) == (role in READS_HELD)


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_a_held_result_is_liked_flagged_and_bookmarked_only_by_its_readers(
        people, held_result, without_board_hooks, role):
    person, post = people[role], held_result.post
    reads = role in READS_HELD
    attempts = {
        "like": lambda: forum_services.post_like(actor=person, post_id=post.pk),
        "flag": lambda: forum_services.post_flag(actor=person, post_id=post.pk, reason="spam"),
        "bookmark": lambda: forum_services.bookmark_set(actor=person, post_id=post.pk),
    }
    for attempt in attempts.values():
        try:
            attempt()
        except PermissionDenied:
            pass
    own = person.pk == post.author_id  # nobody likes or flags their own post
    assert PostLike.objects.filter(post=post, user=person).exists() == (reads and not own)
    assert Flag.objects.filter(post=post).exists() == (reads and not own)
    assert Bookmark.objects.filter(post=post, user=person).exists() == reads
    assert not post.__class__.objects.get(pk=post.pk).hidden


def test_three_flags_from_people_who_may_not_read_a_held_result_hide_nothing_and_tell_nobody(
        people, held_result, without_board_hooks):
    post = held_result.post
    for person in [people["member"], people["requester"], people["other_volunteer"], UserFactory()]:
        with pytest.raises(PermissionDenied):
            forum_services.post_flag(actor=person, post_id=post.pk, reason="spam")
    post.refresh_from_db()
    assert not post.hidden
    assert not Notification.objects.filter(user=people["author"], post=post).exclude(kind="license_held").exists()


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_watchers_hear_of_a_held_result_only_if_they_may_read_it_and_the_rest_on_its_release(
        people, claimed, without_board_hooks, django_capture_on_commit_callbacks, role):
    person = people[role]
    forum_services.notification_level_set(user=person, level=NotificationLevel.WATCHING, topic=claimed.topic)
    result = _deliver(claimed, people["author"], django_capture_on_commit_callbacks)
    told = Notification.objects.filter(user=person, post=result.post)
    own = person.pk == result.author_id
    assert told.exists() == (role in READS_HELD and not own)
    with django_capture_on_commit_callbacks(execute=True):
        services.result_license_edit(actor=people["author"], result_id=result.pk, license="BSD-3-Clause",
                                     repository_license="MIT")
    assert not LicensedItem.objects.get(item_type="result", object_id=result.pk).is_held
    assert told.count() == (0 if own else 1)  # told once, now that everybody may read it


def test_the_requester_hears_of_a_held_result_when_it_is_released(
        people, claimed, django_capture_on_commit_callbacks):
    result = _deliver(claimed, people["author"], django_capture_on_commit_callbacks)
    told = Notification.objects.filter(user=people["requester"], post=result.post)
    assert not told.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.result_license_edit(actor=people["author"], result_id=result.pk, license="BSD-3-Clause",
                                     repository_license="MIT")
    assert told.count() == 1


@pytest.mark.parametrize("role", ROLES)
def test_a_held_result_is_not_found_by_who_may_not_read_it(people, held_result, without_board_hooks, role):
    found = search_posts(user=_person(people, role), query="incubation")
    assert (held_result.post_id in {hit.post.pk for hit in found.results}) == (role in READS_HELD)


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_a_held_result_is_in_nobodys_digest(
        people, claimed, without_board_hooks, django_capture_on_commit_callbacks, role):
    """Even the people who may read it (and were told on the site) find it in no email."""
    person = people[role]
    for kind in (POSTED, REPLIED):  # the requester hears of replies to their topic
        EmailPreference.objects.create(user=person, kind=kind, delivery=Delivery.DIGEST)
    forum_services.notification_level_set(user=person, level=NotificationLevel.WATCHING, topic=claimed.topic)
    result = _deliver(claimed, people["author"], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        reply = forum_services.post_create(actor=UserFactory(), topic_id=claimed.topic_id,
                                           raw="A synthetic reply anybody may read about the incubation counts.")
    now = timezone.now()
    sections = digest_sections(user=person, since=now - datetime.timedelta(days=7),
                               now=now + datetime.timedelta(minutes=1))
    addresses = [item.url for section in sections for item in section.items]
    assert any(url.endswith(reply.get_absolute_url()) for url in addresses)
    assert not any(url.endswith(result.post.get_absolute_url()) for url in addresses)
