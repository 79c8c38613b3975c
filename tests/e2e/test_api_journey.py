"""The API from a person's side, one browser context per person. Real Chromium.

A volunteer reaches Settings > API tokens with the keyboard, makes a read token for
their "weekly dashboard" and a write token, sees each key once in its labelled
read-only field and never again; a script (urllib, from this process) reads their
notifications with the read key and is refused a write in JSON; the page then shows
when the token was last used, the volunteer revokes it with its button and the very
next call with that key is refused. The interactive docs (Swagger UI) load from our
own static files only, under the site's content security policy, without console
errors, and "Try it out" works with the browser's session. The tokens page's
fields and buttons have accessible names.
"""
import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from forum import services
from forum.models import ApiToken
from forum.permissions import Role
from forum.services.tokens import token_hash
from tests.e2e.test_forum_journey import open_page, sign_in  # noqa: F401 (open_page is a fixture)
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOKENS_URL = "/settings/api-tokens/"
DOCS_URL = "/api/v1/docs/"
DASHBOARD = "weekly dashboard"
NIGHTLY = "nightly claims"
TITLE = "Normalising synthetic narwhal qPCR plates"

# Records what the content security policy refused, before any of the page's own scripts run.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "(inline)"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


# --- Helpers ---------------------------------------------------------------------------

def api(live_server, path, *, key=None, method="GET", body=None):
    """A script's call: (status, headers, JSON body), with `Authorization: Token <key>`."""
    headers = {"Accept": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Token {key}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(live_server.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, json.loads(error.read() or b"null")


def tab_to(page, target, *, limit=60):
    """Press Tab until `target` has the focus, as a keyboard user would; fails if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def token_row(page, name):
    return page.locator("table.data-table tbody tr").filter(has=page.get_by_role("cell", name=name, exact=True))


def last_used_cell(row):
    return row.get_by_role("cell").nth(4)


def new_key_field(page):
    return page.get_by_role("textbox", name="Token", exact=True)


def make_token_with_the_keyboard(page, name, *, write=False):
    """From wherever the focus is: Tab to the name, type it, choose the access, Tab to the button, Enter."""
    tab_to(page, page.get_by_role("textbox", name="Name", exact=True))
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    read = page.get_by_role("radio", name=re.compile(r"^Read: "))
    expect(read).to_be_focused()  # the group is entered at its checked radio: read, the default
    expect(read).to_be_checked()
    if write:
        page.keyboard.press("ArrowDown")
        write_radio = page.get_by_role("radio", name=re.compile(r"^Read and write: "))
        expect(write_radio).to_be_focused()
        expect(write_radio).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Make token")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator(".messages")).to_contain_text(f"Token “{name}” is made. Copy it now: it is not shown again.")
    field = new_key_field(page)
    expect(field).to_be_visible()
    expect(field).not_to_be_editable()  # read-only: to copy, not to change
    expect(field).to_have_value(re.compile(r"^hdk_[A-Za-z0-9_-]{40}$"))
    return field.input_value()


# --- 1. Tokens: made, used, revoked ---------------------------------------------------------

def test_a_volunteer_makes_uses_and_revokes_an_api_token(open_page, live_server):  # noqa: F811 (the fixture)
    open_, problems = open_page
    category = CategoryFactory(slug="lab-methods", name="Lab methods")
    vera = UserFactory(username="vera_volunteer", display_name="Vera Volunteer", roles=[Role.VOLUNTEER])
    rob = UserFactory(username="rob_requester", display_name="Rob Requester", roles=[Role.REQUESTER])
    topic = TopicFactory(category=category, author=rob, title=TITLE, raw="Synthetic plates from two runs.")
    services.post_create(actor=rob, topic_id=topic.pk, raw=f"@{vera.username} could you look at plate two?")

    page = open_("vera")
    sign_in(page, vera)

    # Settings, then API tokens, with the keyboard.
    tab_to(page, page.get_by_role("navigation", name="Account").get_by_role("link", name="Settings"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/settings/"))
    tab_to(page, page.get_by_role("navigation", name="Settings").get_by_role("link", name="API tokens"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{re.escape(TOKENS_URL)}$"))
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
    expect(page.get_by_text("You have no tokens.")).to_be_visible()

    read_key = make_token_with_the_keyboard(page, DASHBOARD)
    write_key = make_token_with_the_keyboard(page, NIGHTLY, write=True)
    assert read_key != write_key
    read_token = ApiToken.objects.get(user=vera, name=DASHBOARD)
    assert read_token.scope == ApiToken.Scope.READ and read_token.key_hash == token_hash(read_key)
    assert ApiToken.objects.get(user=vera, name=NIGHTLY).scope == ApiToken.Scope.WRITE
    expect(token_row(page, DASHBOARD).get_by_role("cell").nth(1)).to_have_text("Read")
    expect(token_row(page, NIGHTLY).get_by_role("cell").nth(1)).to_have_text("Read and write")

    # Coming back to the page, the key is gone for good: only its first characters are listed.
    response = page.goto(TOKENS_URL)
    assert response.status == 200
    assert read_key not in response.text() and write_key not in response.text()
    expect(new_key_field(page)).to_have_count(0)
    assert ApiToken.objects.filter(user=vera).count() == 2
    expect(token_row(page, DASHBOARD).locator("code")).to_have_text(f"{read_key[:12]}…")
    expect(last_used_cell(token_row(page, DASHBOARD))).to_have_text("Never")

    # A script reads with the read key...
    status, _, body = api(live_server, "/api/v1/notifications/", key=read_key)
    assert status == 200, body
    assert [item["kind"] for item in body["results"]] == ["mentioned"]
    assert body["results"][0]["read"] is False
    # ...and is refused a write, in the one JSON error shape.
    status, _, body = api(live_server, "/api/v1/notifications/read/", key=read_key, method="POST")
    assert status == 403, body
    assert body["error"]["code"] == "token_read_only"
    assert "can only read" in body["error"]["message"]
    # The write key may write.
    status, _, body = api(live_server, "/api/v1/notifications/read/", key=write_key, method="POST")
    assert (status, body) == (200, {"marked_read": 1})

    # The page now says when the token was last used.
    page.goto(TOKENS_URL)
    used = last_used_cell(token_row(page, DASHBOARD)).locator("time")
    expect(used).to_be_visible()
    expect(used).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))

    # Revoked with its button: the next call with the key is refused.
    token_row(page, DASHBOARD).get_by_role("button", name=f"Revoke token {DASHBOARD}").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Token “{DASHBOARD}” is revoked: scripts using it are refused from now on."
    )
    expect(page).to_have_url(re.compile(rf"{re.escape(TOKENS_URL)}$"))
    expect(token_row(page, DASHBOARD)).to_have_count(0)
    expect(token_row(page, NIGHTLY)).to_have_count(1)

    status, headers, body = api(live_server, "/api/v1/notifications/", key=read_key)
    assert status == 401, body
    assert body["error"]["code"] == "authentication_failed"
    assert headers["WWW-Authenticate"] == 'Token realm="api"'
    status, _, _ = api(live_server, "/api/v1/notifications/", key=write_key)
    assert status == 200  # the other token is untouched

    assert problems == []


def test_reloading_the_page_after_making_a_token_shows_no_key_and_makes_no_other(open_page):  # noqa: F811
    open_, problems = open_page
    vera = UserFactory(username="vera_volunteer", display_name="Vera Volunteer", roles=[Role.VOLUNTEER])
    page = open_("vera")
    sign_in(page, vera)
    page.goto(TOKENS_URL)
    page.get_by_role("textbox", name="Name", exact=True).fill(DASHBOARD)
    page.get_by_role("button", name="Make token").click()
    key = new_key_field(page).input_value()

    response = page.reload()
    assert key not in response.text()
    assert ApiToken.objects.filter(user=vera).count() == 1, "the reload made another token"
    expect(new_key_field(page)).to_have_count(0)
    assert problems == []


# --- 2. The interactive docs ---------------------------------------------------------------

def test_the_api_docs_load_from_our_own_files_and_try_it_out_works(open_page, live_server):  # noqa: F811
    open_, problems = open_page
    CategoryFactory(slug="statistics", name="Statistics")
    vera = UserFactory(username="vera_volunteer", display_name="Vera Volunteer", roles=[Role.VOLUNTEER])

    page = open_("vera")
    page.context.add_init_script(CSP_RECORDER)
    server = urlsplit(live_server.url).netloc
    requested, failed = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("response", lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"))
    sign_in(page, vera)

    # From the footer link, as a reader finds it.
    page.get_by_role("navigation", name="Footer").get_by_role("link", name="API", exact=True).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(DOCS_URL)}$"))
    expect(page.get_by_role("heading", name=re.compile(r"^Data help desk API"))).to_be_visible()
    response = page.reload()
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy

    for tag in ("forum", "notifications", "requests"):
        expect(page.locator(f"#operations-tag-{tag}")).to_be_visible()
    categories = page.locator("#operations-forum-categories_list")
    expect(categories).to_be_visible()
    expect(page.locator("#operations-requests-requests_list")).to_be_visible()
    expect(page.get_by_role("link", name="Your API tokens")).to_be_visible()

    # Try it out, with the browser's session.
    categories.locator(".opblock-summary-control").click()
    categories.get_by_role("button", name="Try it out").click()
    categories.get_by_role("button", name="Execute").click()
    live = categories.locator(".live-responses-table")
    expect(live.locator("tbody .response-col_status")).to_have_text("200")
    expect(live.locator("tbody .response-col_description")).to_contain_text('"name": "Statistics"')

    # Everything came from the live server: the UI's scripts, styles, fonts and the schema.
    assert requested, "no requests recorded"
    foreign = [url for url in requested if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != server]
    assert foreign == []
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in url for url in requested)
    assert any("/api/v1/schema/" in url for url in requested)
    assert failed == []
    assert page.evaluate("window.__cspViolations") == []
    assert problems == []


# --- 3. Accessibility basics of the tokens page ----------------------------------------------

def test_the_tokens_page_labels_its_fields_and_names_each_revoke_button(open_page):  # noqa: F811 (the fixture)
    open_, problems = open_page
    vera = UserFactory(username="vera_volunteer", display_name="Vera Volunteer", roles=[Role.VOLUNTEER])
    services.api_token_create(actor=vera, name=NIGHTLY, scope=ApiToken.Scope.WRITE)

    page = open_("vera")
    sign_in(page, vera)
    page.goto(TOKENS_URL)
    # A name left empty: the error is announced and the field marked invalid.
    page.get_by_role("button", name="Make token").click()
    name = page.get_by_role("textbox", name="Name", exact=True)
    expect(page.locator(".field-errors[role=alert]")).to_contain_text("This field is required.")
    expect(name).to_have_attribute("aria-invalid", "true")
    # That answer is a 400 on purpose (the form is not valid), which Chromium logs as a console error.
    assert problems == [
        "vera console: Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    problems.clear()

    name.fill(DASHBOARD)
    page.get_by_role("button", name="Make token").click()
    expect(new_key_field(page)).to_be_visible()

    # Every field a person can reach has an accessible name (the key's field included).
    fields = page.locator("input:not([type=hidden]), select, textarea")
    assert fields.count() >= 4  # search, key, name, two radios
    for index in range(fields.count()):
        expect(fields.nth(index)).to_have_accessible_name(re.compile(r"\w"))
    expect(name).to_have_accessible_description(re.compile(r"What the token is for"))
    expect(page.get_by_role("group", name="Access")).to_be_visible()
    expect(new_key_field(page)).to_have_attribute("readonly", "")

    # Each revoke button says which token it revokes, and starts with the word it shows.
    for token_name in (DASHBOARD, NIGHTLY):
        button = token_row(page, token_name).get_by_role("button")
        expect(button).to_have_text("Revoke")
        expect(button).to_have_accessible_name(f"Revoke token {token_name}")
    buttons = page.get_by_role("button", name=re.compile(r"^Revoke token "))
    expect(buttons).to_have_count(2)
    # The headers name every column, the actions one for screen readers only.
    expect(page.get_by_role("columnheader")).to_have_count(6)
    expect(page.get_by_role("columnheader", name="Actions")).to_have_count(1)

    assert problems == []
