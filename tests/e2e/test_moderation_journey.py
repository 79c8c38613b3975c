"""Moderation and trust, one browser context per person. Real Chromium.

A new member's reply with three links is refused with the reason and nothing is saved.
A member flags a reply that describes a (synthetic) patient well enough to recognise them, in words
the identifier check cannot know, as containing personal data:
the reply disappears at once for anonymous visitors, cached pages notwithstanding. A
moderator, signed in with a second factor, finds it in the review queue, edits the
identifier out and approves it; visitors see the edited text and a history without the
identifier, and the flagger's bell tells them a moderator kept the post. The flag form
also works with the keyboard alone.
"""
import re

import pytest
from playwright.sync_api import expect

from forum import services
from forum.models import Flag, Notification, Post, ReviewItem
from forum.permissions import Role
from tests.e2e.test_forum_journey import open_page, sign_in  # noqa: F401 (open_page is a fixture)
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Comparing synthetic tapir ward occupancy across two sites"
# What a reader recognises and the identifier check cannot (no name, number or date): the text is
# published, and a person's flag is what hides it.
IDENTIFIER = "bed 7 of the synthetic east ward"
PATIENT = "the night porter of ward 9"
REPLY = f"The outlier is {PATIENT}, in {IDENTIFIER}, admitted twice in one week."
REDACTED = "The outlier is one patient admitted twice in one week."
PERSONAL_DATA = "Contains personal data that may identify a patient"
HIDDEN_NOTE = "This post is hidden until a moderator reviews it."


def bell_of(page):
    return page.locator("header a.bell")


def reply_of(page, number=2):
    return page.locator(f"article#post-{number}")


def public_topic_with_reply(raw=REPLY):
    """A public topic by Olga with a reply by Omar; nobody in it is the flagger."""
    category = CategoryFactory(slug="ward-statistics", name="Ward statistics")
    olga = UserFactory(username="olga_opener", display_name="Olga Opener")
    omar = UserFactory(username="omar_outlier", display_name="Omar Outlier")
    topic = TopicFactory(category=category, author=olga, title=TITLE, raw="Occupancy of two synthetic tapir wards.")
    reply = services.post_create(actor=omar, topic_id=topic.pk, raw=raw)
    return topic, reply


# --- 1. New members' links ---------------------------------------------------------

def test_a_new_members_reply_with_three_links_is_refused_with_the_reason(open_page):  # noqa: F811 (the fixture)
    open_, problems = open_page
    category = CategoryFactory(slug="link-limits", name="Link limits")
    olga = UserFactory(username="olga_opener", display_name="Olga Opener")
    topic = TopicFactory(category=category, author=olga, title=TITLE, raw="Where are the synthetic protocols?")
    newcomer = UserFactory(username="nina_newcomer", display_name="Nina Newcomer", trust_level=0)
    links = [
        "[the protocol](https://example.org/protocol)",
        "[the codebook](https://example.org/codebook)",
        "[the registry](https://example.org/registry)",
    ]
    three = "See " + ", ".join(links) + " for the synthetic design."

    page = open_("newcomer")
    sign_in(page, newcomer)
    page.goto(topic.get_absolute_url())
    page.get_by_role("textbox", name="Your reply").fill(three)
    page.get_by_role("button", name="Post reply").click()

    reason = "New members can put at most 2 links in a post, and this one has 3."
    alert = page.locator(".field-errors[role=alert]", has_text=reason)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("take part a little first")
    # What they wrote is kept for them to fix, and nothing was saved.
    expect(page.get_by_role("textbox", name="Your reply")).to_have_value(three)
    assert list(Post.objects.filter(topic=topic).values_list("number", flat=True)) == [1]
    page.goto(topic.get_absolute_url())
    expect(page.locator("article.post")).to_have_count(1)
    expect(page.get_by_text("the registry")).to_have_count(0)

    # Two links are within the limit.
    two = "See " + ", ".join(links[:2]) + " for the synthetic design."
    page.get_by_role("textbox", name="Your reply").fill(two)
    page.get_by_role("button", name="Post reply").click()
    expect(reply_of(page).locator(".post-body a", has_text="the codebook")).to_be_visible()
    assert Post.objects.filter(topic=topic).count() == 2

    assert problems == []


# --- 2-4. A personal-data flag, review and the flagger told --------------------------

def visitor_sees_the_identifier_served_from_the_cache(page, topic, reply):
    """The visitor's pages are cached: the second load of each is a hit."""
    for url in (topic.get_absolute_url(), f"/p/{reply.pk}/revisions/"):
        page.goto(url)
        response = page.reload()
        assert response.ok and response.headers.get("x-cache") == "hit", url
        expect(page.locator("main")).to_contain_text(IDENTIFIER)


def flagger_flags_for_personal_data(page, topic):
    page.goto(topic.get_absolute_url())
    expect(reply_of(page).locator(".post-body")).to_contain_text(IDENTIFIER)
    reply_of(page).get_by_role("link", name="Flag", exact=True).click()
    expect(page.get_by_role("heading", name="Flag this post for the moderators", level=1)).to_be_visible()
    page.get_by_role("radio", name=PERSONAL_DATA).check()
    page.get_by_role("button", name="Flag post").click()

    expect(page.locator(".messages")).to_contain_text(
        "Thank you. The post is hidden until the anonymization team and moderators have reviewed it"
    )
    expect(page).to_have_url(re.compile(rf"{re.escape(topic.get_absolute_url())}#post-2$"))
    expect(reply_of(page).locator(".hidden-note")).to_have_text(HIDDEN_NOTE)
    expect(page.locator("main")).not_to_contain_text(IDENTIFIER)


def visitor_no_longer_sees_the_identifier(page, topic, reply):
    response = page.goto(topic.get_absolute_url())
    assert response.ok and response.headers.get("x-cache") != "hit"
    assert IDENTIFIER not in response.text() and PATIENT not in response.text()
    expect(reply_of(page).locator(".hidden-note")).to_have_text(HIDDEN_NOTE)
    expect(reply_of(page).locator(".post-body")).to_have_count(0)
    expect(page.locator("article#post-1 .post-body")).to_contain_text("Occupancy of two synthetic tapir wards.")
    # Nor its history, which was cached too. (Asked with the visitor's cookie-less request
    # context: a 404 navigation would log a console error, which the fixture counts as a problem.)
    response = page.request.get(f"/p/{reply.pk}/revisions/")
    assert response.status == 404
    assert IDENTIFIER not in response.text()


def moderator_redacts_and_approves(page, topic, flagger):
    page.goto("/")
    page.locator("header").get_by_role("link", name="Review", exact=True).click()
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.get_by_role("heading", name="Review queue", level=1)).to_be_visible()

    items = page.locator("section.review-item")
    expect(items).to_have_count(1)
    item = items.first
    expect(item.get_by_role("heading", level=3)).to_contain_text(f"{TITLE} #2")
    expect(item.locator(".badge-personal")).to_have_text("Personal data")
    expect(item.locator("ul.flags li")).to_have_text(f"{PERSONAL_DATA} — {flagger.display_name}")
    expect(item.locator(".post-body")).to_contain_text(IDENTIFIER)

    item.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", name=f"Edit “{TITLE}” #2", level=1)).to_be_visible()
    text = page.get_by_role("textbox", name="Post text")
    expect(text).to_have_value(REPLY)
    text.fill(REDACTED)
    page.get_by_label("Reason for the edit").fill("Removed what identifies the patient")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".messages")).to_contain_text("Saved. The post is still waiting for your decision.")
    expect(page).to_have_url(re.compile(r"/review/#review-\d+$"))
    item = page.locator("section.review-item")
    expect(item).to_have_count(1)
    expect(item.locator(".post-body")).to_have_text(REDACTED)
    expect(item.locator(".badge-personal")).to_be_visible()

    item.get_by_role("button", name="Approve: the post is fine").click()
    expect(page.locator(".messages")).to_contain_text(
        "Approved: the post is shown. Its author and the flaggers are told."
    )
    expect(page.locator("section.review-item")).to_have_count(0)
    expect(page.get_by_text("Nothing waits for review. Thank you!")).to_be_visible()


def visitor_sees_the_redacted_post_and_history(page, topic, reply):
    response = page.goto(topic.get_absolute_url())
    assert response.ok
    assert IDENTIFIER not in response.text() and PATIENT not in response.text()
    expect(reply_of(page).locator(".post-body")).to_have_text(REDACTED)
    expect(reply_of(page).locator(".hidden-note")).to_have_count(0)

    reply_of(page).get_by_role("link", name="edited once").click()
    expect(page).to_have_url(re.compile(rf"/p/{reply.pk}/revisions/$"))
    expect(page.get_by_role("heading", name="Revision history of post #2", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(REDACTED)
    expect(page.locator("main")).not_to_contain_text(IDENTIFIER)
    expect(page.locator("main")).not_to_contain_text(PATIENT)
    # The original stays stored for moderators only.
    expect(page.locator("section.revision")).to_have_count(1)
    response = page.reload()
    assert IDENTIFIER not in response.text() and PATIENT not in response.text()


def flagger_hears_the_post_was_kept(page, topic):
    page.goto("/latest/")
    bell = bell_of(page)
    expect(bell).to_have_class(re.compile(r"\bbell-unread\b"))
    expect(bell.locator("[data-bell-count]")).to_be_visible()
    expect(bell.locator("[data-bell-count]")).to_have_text("1")
    expect(bell.locator("[data-bell-label]")).to_have_text("1 unread")

    bell.click()
    expect(page).to_have_url(re.compile(r"/my/notifications/$"))
    items = page.locator("ul.notification-list > li")
    expect(items).to_have_count(1)
    sentence = f"A moderator reviewed the post you flagged in “{TITLE}” and kept it"
    expect(items.first).to_have_class(re.compile(r"\bunread\b"))
    expect(items.first.get_by_role("link")).to_have_text(f"Unread: {sentence}")

    items.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(topic.get_absolute_url())}#post-2$"))
    expect(reply_of(page).locator(".post-body")).to_have_text(REDACTED)
    expect(bell.locator("[data-bell-count]")).to_be_hidden()


def test_a_personal_data_flag_hides_the_post_until_a_moderator_redacts_and_approves_it(open_page):  # noqa: F811
    open_, problems = open_page
    topic, reply = public_topic_with_reply()
    flagger = UserFactory(username="fiona_flagger", display_name="Fiona Flagger")
    moderator = UserFactory(display_name="Mo Moderator", roles=[Role.MODERATOR], totp=True)

    visitor = open_("visitor")
    visitor_sees_the_identifier_served_from_the_cache(visitor, topic, reply)

    flagger_page = open_("flagger")
    sign_in(flagger_page, flagger)
    flagger_flags_for_personal_data(flagger_page, topic)
    assert Flag.objects.get(post=reply).reason == Flag.Reason.PERSONAL_DATA

    visitor_no_longer_sees_the_identifier(visitor, topic, reply)

    moderator_page = open_("moderator")
    sign_in(moderator_page, moderator)
    moderator_redacts_and_approves(moderator_page, topic, flagger)

    visitor_sees_the_redacted_post_and_history(visitor, topic, reply)
    assert visitor.context.cookies() == []  # a visitor throughout

    flagger_hears_the_post_was_kept(flagger_page, topic)
    notification = Notification.objects.get(user=flagger)
    assert notification.kind == "flag_disagreed" and notification.read_at is not None
    item = ReviewItem.objects.get(post=reply)
    assert item.status == ReviewItem.Status.APPROVED and item.resolved_by == moderator

    assert problems == []


# --- The flag form with the keyboard alone ---------------------------------------------

def test_the_flag_form_can_be_completed_with_the_keyboard(open_page):  # noqa: F811 (the fixture)
    open_, problems = open_page
    topic, reply = public_topic_with_reply(raw="Buy cheap synthetic tapir feed at a discount, today only.")
    flagger = UserFactory(username="fiona_flagger", display_name="Fiona Flagger")

    page = open_("flagger")
    sign_in(page, flagger)
    page.goto(topic.get_absolute_url())
    reply_of(page).get_by_role("link", name="Flag", exact=True).click()
    expect(page.get_by_role("heading", name="Flag this post for the moderators", level=1)).to_be_visible()

    # From the breadcrumb, Tab enters the group of reasons at its first; arrow keys choose.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("radio", name="Off-topic")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    spam = page.get_by_role("radio", name="Spam or advertising")
    expect(spam).to_be_focused()
    expect(spam).to_be_checked()
    page.keyboard.press("Enter")

    expect(page.locator(".messages")).to_contain_text("Thank you. Moderators will look at it")
    expect(page).to_have_url(re.compile(rf"{re.escape(topic.get_absolute_url())}#post-2$"))
    flag = Flag.objects.get(post=reply)
    assert (flag.flagger, flag.reason) == (flagger, Flag.Reason.SPAM)
    # One flag by a member does not hide a post for other reasons.
    expect(reply_of(page).locator(".post-body")).to_contain_text("synthetic tapir feed")

    assert problems == []
