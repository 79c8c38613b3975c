"""A post full of script-injection attempts runs nothing in a real Chromium, with or without our CSP."""
import re

import pytest
from playwright.sync_api import expect

from forum import services
from tests.forum.factories import CategoryFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Each vector reports to window.__xss (or alert) if it ever runs; blank lines keep raw HTML blocks apart.
VECTORS = [
    '<script>window.__xss.push("script")</script>',
    "<SCRIPT>window.__xss.push('upper-script')</SCRIPT>",
    "<img src=x onerror=\"window.__xss.push('img-onerror')\">",
    "<svg onload=\"window.__xss.push('svg-onload')\"></svg>",
    "<svg><script>window.__xss.push('svg-script')</script></svg>",
    "<div onmouseover=\"window.__xss.push('div-hover')\">hover vector</div>",
    "<details open ontoggle=\"window.__xss.push('details')\">toggle vector</details>",
    "<input autofocus onfocus=\"window.__xss.push('autofocus')\">",
    "<iframe srcdoc=\"<script>parent.__xss.push('iframe')</script>\"></iframe>",
    "<iframe src=\"javascript:parent.__xss.push('iframe-src')\"></iframe>",
    "<object data=\"javascript:window.__xss.push('object')\"></object>",
    "<embed src=\"javascript:window.__xss.push('embed')\">",
    "<style>body { background: url(\"javascript:window.__xss.push('style-tag')\") }</style>",
    "<p style=\"background:url(javascript:window.__xss.push('style-attr'))\">style vector</p>",
    "<form action=\"javascript:window.__xss.push('form')\"><button>form vector</button></form>",
    "<noscript><p title=\"</noscript><img src=x onerror=window.__xss.push('noscript')>\"></noscript>",
    "<a href=\"javascript:window.__xss.push('raw-link')\">raw link vector</a>",
    "<a href=\"JaVaScRiPt:window.__xss.push('mixed-case')\">mixed case vector</a>",
    "<a href=\"jav&#x09;ascript:window.__xss.push('tab')\">tab vector</a>",
    "<a href=\"&#106;avascript:window.__xss.push('entity')\">entity vector</a>",
    "<a href=\"data:text/html,<script>alert('data-link')</script>\">data link vector</a>",
    "<a href=\"vbscript:msgbox('vbscript')\">vbscript vector</a>",
    "<a href=\"https://example.org/\" onclick=\"window.__xss.push('onclick')\">onclick vector</a>",
    "[markdown link vector](javascript:window.__xss.push('md-link'))",
    "[markdown data vector](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[markdown percent vector](java%73cript:alert('percent'))",
    "[markdown entity vector](&#106;avascript:alert('md-entity'))",
    "[markdown reference vector][evil]\n\n[evil]: javascript:window.__xss.push('reference')",
    "<javascript:alert('autolink')>",
    "![image vector](javascript:alert('image'))",
    "![real image](https://example.org/scan.png)",
]

INIT_SCRIPT = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (message) => { window.__xss.push(name + ": " + message); };
}
"""

# Every element of the page: attributes named on*, and URL attributes with a script or data scheme.
UNSAFE_ATTRIBUTES_JS = """
() => {
  const found = [];
  const urlAttributes = ["href", "src", "action", "formaction", "data", "xlink:href", "srcdoc"];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
      if (name.startsWith("on") || name === "style" || name === "srcdoc") {
        found.push(element.tagName + " " + name);
      } else if (urlAttributes.includes(name) && /^(javascript|data|vbscript):/.test(value)) {
        found.push(element.tagName + " " + name + "=" + attribute.value);
      }
    }
  }
  return found;
}
"""


def open_guarded_page(browser, live_server, *, bypass_csp):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", bypass_csp=bypass_csp)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(INIT_SCRIPT)
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return context, page, dialogs


def assert_nothing_ran(page, dialogs):
    page.wait_for_timeout(200)  # let timers, loads and error events fire
    assert page.evaluate("window.__xss") == []
    assert dialogs == []


def test_the_vectors_run_when_served_unsanitized(browser, live_server):
    """The control: proves the guards below would notice a vector that runs."""
    context, page, dialogs = open_guarded_page(browser, live_server, bypass_csp=True)
    try:
        page.route("**/unsanitized/", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><body>" + "\n".join(VECTORS) + "</body>",
        ))
        page.goto("/unsanitized/")
        page.wait_for_timeout(300)
        ran = page.evaluate("window.__xss")
        assert {"script", "img-onerror", "svg-onload"} <= set(ran), ran
        page.get_by_text("raw link vector").click()
        page.wait_for_timeout(200)
        assert "raw-link" in page.evaluate("window.__xss")
    finally:
        context.close()


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "sanitizer-alone"])
def test_xss_vectors_in_a_post_run_nothing(browser, live_server, bypass_csp):
    author = UserFactory(username="xss_author")
    category = CategoryFactory(slug="open-data", name="Open data")
    raw = "\n\n".join([f"Thanks @{author.username}, see #{category.slug}.", *VECTORS])
    topic = services.topic_create(actor=author, category=category, title="Script injection attempts", raw=raw)
    url = topic.get_absolute_url()

    context, page, dialogs = open_guarded_page(browser, live_server, bypass_csp=bypass_csp)
    try:
        page.goto(url)
        body = page.locator(".post-body").first
        expect(body.get_by_text("hover vector")).to_be_visible()
        expect(body.locator("a.mention")).to_have_attribute("href", f"/u/{author.username}/")
        expect(body.locator("a.category-link")).to_have_attribute("href", f"/c/{category.slug}/")
        expect(body.locator("a.image-link")).to_have_attribute("href", "https://example.org/scan.png")
        assert body.locator("img, iframe, object, embed, script, style, svg, form, input").count() == 0
        assert page.evaluate(UNSAFE_ATTRIBUTES_JS) == []
        assert_nothing_ran(page, dialogs)

        for element in body.locator("*").all():
            if element.is_visible():
                element.hover()
        assert_nothing_ran(page, dialogs)

        # Every link that is neither outbound http(s) nor one of ours: click it and see what runs.
        count = body.locator("a").count()
        clicked = 0
        for index in range(count):
            link = page.locator(".post-body").first.locator("a").nth(index)
            href = link.get_attribute("href") or ""
            if re.match(r"https?://", href) or href.startswith(("/u/", "/c/")):
                continue
            link.click()
            clicked += 1
            assert_nothing_ran(page, dialogs)
            if page.url != live_server.url + url:
                page.goto(url)
        assert clicked >= 10  # the neutered vector links are still there, just inert
        assert_nothing_ran(page, dialogs)
    finally:
        context.close()
