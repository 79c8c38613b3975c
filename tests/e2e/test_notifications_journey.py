"""The bell, one browser context per person. Real Chromium.

Ada, signed in, sees a quiet bell; Ben mentions @ada in a reply; Ada reloads (no
waiting for the bell's polling) and the bell shows one; she reaches it with the
keyboard, sees the mention unread, follows it to the post, and the bell goes quiet
and the notification reads as read.
"""
import re

import pytest
from playwright.sync_api import expect

from forum.models import Notification
from tests.e2e.test_forum_journey import open_page, sign_in  # noqa: F401 (open_page is a fixture)
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Choosing controls for a synthetic okapi cohort"


def bell_of(page):
    return page.locator("header a.bell")


def expect_quiet_bell(page):
    bell = bell_of(page)
    expect(bell).to_be_visible()
    expect(bell).not_to_have_class(re.compile(r"\bbell-unread\b"))
    expect(bell.locator("[data-bell-count]")).to_be_hidden()
    expect(bell.locator("[data-bell-label]")).to_have_text("0 unread")


def test_a_mention_lights_the_bell_until_it_is_read(open_page):  # noqa: F811 (the fixture)
    open_, problems = open_page
    category = CategoryFactory(slug="study-design", name="Study design")
    ada = UserFactory(username="ada_analyst", display_name="Ada Analyst")
    ben = UserFactory(username="ben_biologist", display_name="Ben Biologist")
    topic = TopicFactory(category=category, author=ben, title=TITLE, raw="Synthetic cohort of 40 okapis.")

    ada_page = open_("ada")
    sign_in(ada_page, ada)
    expect_quiet_bell(ada_page)

    ben_page = open_("ben")
    sign_in(ben_page, ben)
    ben_page.goto(topic.get_absolute_url())
    ben_page.get_by_role("textbox", name="Your reply").fill(f"@{ada.username} could you check the matched controls?")
    ben_page.get_by_role("button", name="Post reply").click()
    expect(ben_page.locator("article#post-2 .post-body a.mention", has_text=f"@{ada.username}")).to_be_visible()

    # A reload shows the count: the page is rendered with it, bell.js's polling plays no part.
    response = ada_page.reload()
    assert re.search(r"data-bell-count>1</span>", response.text())
    bell = bell_of(ada_page)
    expect(bell).to_have_class(re.compile(r"\bbell-unread\b"))
    expect(bell.locator("[data-bell-count]")).to_be_visible()
    expect(bell.locator("[data-bell-count]")).to_have_text("1")
    expect(bell.locator("[data-bell-label]")).to_have_text("1 unread")

    # The keyboard, once: from the search button, Tab reaches the bell and Enter follows it.
    ada_page.locator("form.search-form").get_by_role("button", name="Search").focus()
    ada_page.keyboard.press("Tab")
    expect(bell).to_be_focused()
    ada_page.keyboard.press("Enter")
    expect(ada_page).to_have_url(re.compile(r"/my/notifications/$"))
    expect(ada_page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()

    items = ada_page.locator("ul.notification-list > li")
    expect(items).to_have_count(1)
    item = items.first
    sentence = f"Ben Biologist mentioned you in “{TITLE}”"
    expect(item).to_have_class(re.compile(r"\bunread\b"))
    link = item.get_by_role("link")
    expect(link).to_have_text(f"Unread: {sentence}")

    link.click()
    post = Notification.objects.get(user=ada).post
    assert post.number == 2
    expect(ada_page).to_have_url(re.compile(rf"{re.escape(topic.get_absolute_url())}#post-2$"))
    expect(ada_page.locator("article#post-2")).to_contain_text("could you check the matched controls?")
    expect_quiet_bell(ada_page)
    assert ada_page.request.get("/my/notifications/count.json").json()["unread"] == 0

    ada_page.goto("/my/notifications/")
    expect(items).to_have_count(1)
    expect(items.first).to_have_class(re.compile(r"\bread\b"))
    expect(items.first).not_to_have_class(re.compile(r"\bunread\b"))
    expect(items.first.get_by_role("link")).to_have_text(sentence)
    assert Notification.objects.get(user=ada).read_at is not None

    assert problems == []
