"""The forum's acceptance journey, one browser context per person. Real Chromium.

A volunteer writes a topic with Markdown, a code block and a table and watches the
preview; a requester quotes it, mentions the volunteer and likes the post; the
volunteer sees the unread count and the like; a moderator pins and closes the
topic; a visitor finds it with search.
"""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from forum.models import Topic
from forum.permissions import Role
from tests.e2e.conftest import ARTIFACTS
from tests.forum.factories import PASSWORD, CategoryFactory, UserFactory, current_totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Sample sizes for synthetic zebrafinch lung scans"
WORD = "zebrafinch"  # appears nowhere else, so search finds exactly this topic
RAW = f"""## Scans per site

Each {WORD} cohort is synthetic. I computed the mean like this:

```python
def mean(values):
    return sum(values) / len(values)
```

| Site | Scans |
|------|-------|
| North | 12 |
| South | 7 |
"""


@pytest.fixture
def open_page(request, browser, live_server):
    """Open a page in a fresh browser context (one per person), watched for console errors
    and for requests leaving the live server; screenshots every page if the test fails."""
    server = urlsplit(live_server.url).netloc
    contexts, problems = {}, []

    def open_(name):
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda msg: msg.type == "error" and problems.append(f"{name} console: {msg.text}"))
        page.on("pageerror", lambda error: problems.append(f"{name} page error: {error}"))
        page.on("request", lambda req: _is_foreign(req.url, server) and problems.append(f"{name} request: {req.url}"))
        contexts[name] = (context, page)
        return page

    yield open_, problems
    failed = getattr(request.node, "rep_call", None)
    for name, (context, page) in contexts.items():
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"), full_page=True)
        context.close()


def _is_foreign(url, server):
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != server


def sign_in(page, user):
    """Through the real login form, and the second-factor form when the person has TOTP."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if user.totp_secret:
        expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
        page.get_by_placeholder("Code").fill(current_totp_code(user.totp_secret))
        page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.get_by_role("link", name=user.display_name)).to_be_visible()


def expect_rendered_markdown(container):
    """A table and a highlighted Python block, as the one Markdown renderer makes them."""
    expect(container.locator("h2", has_text="Scans per site")).to_be_visible()
    expect(container.locator("table td", has_text="North")).to_be_visible()
    expect(container.locator("table th", has_text="Scans")).to_be_visible()
    code = container.locator(".highlight pre code, .highlight pre").first
    expect(code).to_contain_text("def mean(values):")
    # Pygments wraps tokens in short classes: `k` for the keyword `def`, `nf` for the name.
    expect(container.locator(".highlight span.k", has_text="def")).to_be_visible()
    expect(container.locator(".highlight span.nf", has_text="mean")).to_be_visible()


def first_post(page):
    return page.locator("article#post-1")


def select_text_in(page, element, text):
    """Select `text` inside `element` as a reader dragging over it would."""
    element.evaluate(
        """(root, text) => {
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const start = node.data.indexOf(text);
            if (start === -1) continue;
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + text.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            return;
          }
          throw new Error("text not found: " + text);
        }""",
        text,
    )


def volunteer_posts_topic(page, category):
    page.goto("/latest/")
    page.get_by_role("navigation", name="Topic lists").get_by_role("link", name="New topic").click()
    expect(page).to_have_url(re.compile(r"/t/new/$"))
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Category").select_option(label=category.name)
    page.get_by_label("Tags").fill("imaging, statistics")
    # Typing (not filling) fires the input events the live preview listens to.
    page.get_by_label("Your post").press_sequentially(RAW)

    preview = page.locator("section.preview")
    expect(preview).to_be_visible()
    expect_rendered_markdown(preview.locator(".preview-body"))

    page.get_by_role("button", name="Post topic").click()
    expect(page.get_by_text("Your topic is posted.")).to_be_visible()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.locator(".topic-status .tag", has_text="imaging")).to_be_visible()
    expect(page.locator(".topic-status .tag", has_text="statistics")).to_be_visible()
    expect_rendered_markdown(first_post(page).locator(".post-body"))
    return Topic.objects.get(title=TITLE)


def requester_quotes_mentions_and_likes(page, topic, volunteer):
    page.goto(topic.get_absolute_url())
    select_text_in(page, first_post(page).locator(".post-body"), "cohort is synthetic")
    quote = page.locator("button.quote-selection")
    expect(quote).to_be_visible()
    quote.click()

    reply = page.get_by_role("textbox", name="Your reply")
    expect(reply).to_have_value(re.compile(rf"^@{volunteer.username}:\n> cohort is synthetic\n"))
    expect(page.locator(".replying-to")).to_have_text("Replying to #1")
    reply.press("Control+End")
    reply.press_sequentially(f"Thanks @{volunteer.username}, twelve scans seem enough for North.")
    page.get_by_role("button", name="Post reply").click()

    answer = page.locator("article#post-2")
    expect(answer.locator(".post-body blockquote")).to_contain_text("cohort is synthetic")
    mention = answer.locator(".post-body a.mention", has_text=f"@{volunteer.username}").last
    expect(mention).to_have_attribute("href", f"/u/{volunteer.username}/")
    expect(answer.locator(".reply-to")).to_contain_text("in reply to #1")

    first_post(page).get_by_role("button", name="Like").click()
    expect(first_post(page).locator(".like-count")).to_have_text("♥ 1")
    expect(first_post(page).get_by_role("button", name="Unlike")).to_be_visible()


def volunteer_sees_unread_reply_and_like(page):
    page.goto("/latest/")
    row = page.locator("tr.topic-row", has=page.get_by_role("link", name=TITLE))
    unread = row.locator(".badge-unread")
    expect(unread).to_have_text("1 new")
    unread.click()
    expect(page).to_have_url(re.compile(r"#post-2$"))
    expect(first_post(page).locator(".like-count")).to_have_text("♥ 1")
    # Reading the reply clears the badge.
    page.goto("/latest/")
    expect(row).to_be_visible()
    expect(row.locator(".badge-unread")).to_have_count(0)


def moderator_pins_and_closes(page, topic, moderator):
    page.goto(topic.get_absolute_url())
    panel = page.locator("details.moderation-panel")
    panel.locator("summary", has_text="Moderate this topic").click()
    panel.get_by_role("button", name="Pin in category").click()
    expect(page.get_by_text("Pinned in its category.")).to_be_visible()
    page.locator("details.moderation-panel summary").click()
    page.locator("details.moderation-panel").get_by_role("button", name="Close", exact=True).click()
    expect(page.get_by_text("Closed: no new replies.")).to_be_visible()

    status = page.locator(".topic-status")
    expect(status.locator(".badge", has_text="pinned")).to_be_visible()
    expect(status.locator(".badge", has_text="closed")).to_be_visible()
    history = page.locator("section.topic-events")
    expect(history.get_by_role("heading", name="Moderation history")).to_be_visible()
    expect(history.locator("li", has_text="pinned the topic in its category")).to_contain_text(moderator.display_name)
    expect(history.locator("li", has_text="closed the topic")).to_contain_text(moderator.display_name)


def member_finds_the_topic_closed(page, topic):
    page.goto(topic.get_absolute_url())
    expect(page.get_by_text("This topic is closed")).to_be_visible()
    expect(page.locator("form#reply")).to_have_count(0)
    expect(page.locator("a.quote-link")).to_have_count(0)


def visitor_searches(page, topic):
    page.goto("/")
    page.locator("input#site-search").fill(WORD)
    page.locator("form.search-form").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"/search/\?q={WORD}$"))
    result = page.locator("li.search-result", has=page.get_by_role("link", name=TITLE))
    expect(result).to_have_count(1)
    expect(result.locator("mark").first).to_have_text(re.compile(WORD, re.IGNORECASE))
    expect(result.locator(".badge", has_text="closed")).to_be_visible()
    result.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()


def test_topic_is_written_quoted_liked_moderated_and_found(open_page):
    open_, problems = open_page
    category = CategoryFactory(slug="imaging-help", name="Imaging help")
    volunteer = UserFactory(username="vera_volunteer", display_name="Vera Volunteer", roles=[Role.VOLUNTEER])
    requester = UserFactory(username="rob_requester", display_name="Rob Requester", roles=[Role.REQUESTER])
    moderator = UserFactory(display_name="Mo Moderator", roles=[Role.MODERATOR], totp=True)

    volunteer_page = open_("volunteer")
    sign_in(volunteer_page, volunteer)
    topic = volunteer_posts_topic(volunteer_page, category)

    requester_page = open_("requester")
    sign_in(requester_page, requester)
    requester_quotes_mentions_and_likes(requester_page, topic, volunteer)

    volunteer_sees_unread_reply_and_like(volunteer_page)

    moderator_page = open_("moderator")
    sign_in(moderator_page, moderator)
    moderator_pins_and_closes(moderator_page, topic, moderator)
    member_finds_the_topic_closed(requester_page, topic)

    visitor_searches(open_("visitor"), topic)

    assert problems == []
