import re
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError

from forum.markdown import ALLOWED_TAGS, find_references, render_markdown, render_post


def test_markdown_renders_common_blocks():
    html = render_markdown(
        "# Title\n\n**bold** and *it*\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1\n```\n\n> quoted"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<table>" in html
    assert '<div class="highlight">' in html
    assert "<blockquote>" in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '<img src=x onerror="alert(1)">',
        '<a href="#" onclick="alert(1)">x</a>',
        "<iframe src=https://example.org></iframe>",
        '<p style="background:url(javascript:alert(1))">x</p>',
    ],
)
def test_markdown_output_has_nothing_executable(text):
    html = render_markdown(text).lower()
    for needle in ("<script", "javascript:", "data:text", "onerror", "onclick", "<iframe", "style="):
        assert needle not in html


def test_links_get_nofollow_ugc_noopener():
    html = render_markdown("[data](https://zenodo.org/records/1) and https://example.org")
    assert html.count('rel="nofollow ugc noopener"') == 2


def test_images_are_not_embedded_from_other_hosts():
    assert "<img" not in render_markdown("![scan](https://example.org/x.png)")


def test_too_long_markdown_is_refused(settings):
    settings.MARKDOWN_MAX_LENGTH = 100
    with pytest.raises(ValidationError) as error:
        render_markdown("x" * 101)
    assert error.value.code == "markdown_too_long"


def test_deeply_nested_markdown_is_refused_quickly():
    with pytest.raises(ValidationError) as error:
        render_markdown(">" * 5000 + " deep")
    assert error.value.code == "markdown_too_deep"
    with pytest.raises(ValidationError):
        render_markdown("\n".join("    " * depth + "- item" for depth in range(200)))


@pytest.mark.parametrize(
    "text",
    [
        "- " * 3000,
        "> " * 3000,
        "1. " * 3000,
        "\t" * 16000 + "x",
        "[" * 4000,
        "[a](" * 4000,
        "<a " * 5000,
        "![" * 2000,
    ],
)
def test_pathological_markdown_is_refused_with_a_message(text):
    with pytest.raises(ValidationError) as error:
        render_markdown(text)
    assert error.value.code in {"markdown_too_deep", "markdown_too_complex"}
    assert error.value.messages[0]


def test_bare_links_obey_the_protocol_allowlist():
    html = render_markdown("ftp://example.org/x irc://example.org ssh://example.org https://example.org/ok")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://example.org/ok" in hrefs
    assert all(href.startswith(("http://", "https://")) for href in hrefs), hrefs


def test_code_is_escaped_once():
    assert "a &lt; b &amp;&amp; c" in render_markdown("`a < b && c`")


def test_only_highlighting_classes_survive():
    html = render_markdown('<div class="message message-success">Fake notice</div>\n\n```python\nx = 1\n```')
    assert "message" not in html
    assert 'class="highlight"' in html


def test_markdown_that_renders_too_slowly_is_refused(settings):
    settings.MARKDOWN_RENDER_SECONDS = 0.2
    slow = ("[a](" * 1000).ljust(32000, "x")
    with pytest.raises(ValidationError) as error:
        render_markdown(slow)
    assert error.value.code == "markdown_too_slow"
    assert render_markdown("still **works** afterwards") == "<p>still <strong>works</strong> afterwards</p>"


# --- Rendering, parsed rather than grepped ------------------------------------------

class _Collector(HTMLParser):
    """Every start tag of `html` as (tag, {attribute: value}), values unescaped as a browser would."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html, tag=None):
    return [(t, a) for t, a in _Collector(html).elements if tag is None or t == tag]


def url_scheme(url):
    """The scheme a browser would see: it drops ASCII whitespace and controls first."""
    cleaned = re.sub(r"[\x00-\x20]", "", url or "").lower()
    match = re.match(r"([a-z][a-z0-9+.-]*):", cleaned)
    return match.group(1) if match else ""


USERS = {"jane_doe": ("Jane_Doe", "/u/Jane_Doe/"), "sam": ("sam", "/u/sam/")}
CATEGORIES = {"covid-data": ("COVID-19 data", "/c/covid-data/"), "imaging": ("Imaging", "/c/imaging/")}


def render(text):
    return render_post(text, users=USERS, categories=CATEGORIES)


def test_fenced_code_is_highlighted_with_pygments_classes():
    html = render_markdown("```python\ndef answer():\n    return 42\n```")
    assert '<div class="highlight">' in html
    spans = {attrs.get("class") for _tag, attrs in elements(html, "span")}
    assert {"k", "nf", "mi"} <= spans  # keyword, function name, number


def test_tables_lists_and_blockquotes_render():
    html = render_markdown(
        "| site | n |\n|:---|---:|\n| Basel | 12 |\n\n- one\n- two\n\n1. first\n2. second\n\n> a quote\n> on two lines"
    )
    tags = [tag for tag, _attrs in elements(html)]
    for tag in ("table", "thead", "tbody", "th", "td", "ul", "ol", "li", "blockquote"):
        assert tag in tags, tag
    assert tags.count("li") == 4
    assert ("td", {"align": "right"}) in elements(html, "td")


def test_render_markdown_is_render_post_without_references():
    text = "Hello @jane_doe in #covid-data"
    assert render_markdown(text) == render_post(text).html == "<p>Hello @jane_doe in #covid-data</p>"
    assert render_post(text).mentions == frozenset()


def test_images_become_outbound_links_to_the_image():
    html = render_markdown('![chest scan](https://example.org/scan.png "Synthetic") and ![](https://example.org/b.png)')
    assert "<img" not in html
    links = elements(html, "a")
    assert links == [
        ("a", {"class": "image-link", "href": "https://example.org/scan.png", "title": "Synthetic",
               "rel": "nofollow ugc noopener"}),
        ("a", {"class": "image-link", "href": "https://example.org/b.png", "rel": "nofollow ugc noopener"}),
    ]
    assert ">Image: chest scan</a>" in html
    assert ">Image: https://example.org/b.png</a>" in html


def test_reference_images_become_links_too():
    html = render_markdown("![scan][s]\n\n[s]: https://example.org/scan.png")
    assert elements(html, "a")[0][1]["href"] == "https://example.org/scan.png"
    assert "<img" not in html


@pytest.mark.parametrize(
    "text",
    [
        "![pic](javascript:alert(1))",
        "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "![pic](vbscript:msgbox(1))",
        "![pic](//example.org/protocol-relative.png)",
        "![pic](/media/local.png)",
    ],
)
def test_images_with_other_urls_keep_only_their_alt_text(text):
    html = render_markdown(text)
    assert elements(html, "a") == []
    assert "<img" not in html
    assert "pic" in html


def test_an_image_inside_a_link_is_not_a_link_inside_a_link():
    html = render_markdown("[![badge](https://example.org/badge.png)](https://example.org/page)")
    assert [attrs["href"] for _tag, attrs in elements(html, "a")] == ["https://example.org/page"]
    assert "badge" in html


# --- Mentions and category links ----------------------------------------------------

def test_known_mentions_become_internal_links_without_nofollow():
    rendered = render("Thanks @JANE_DOE and @sam, and @nobody.")
    assert elements(rendered.html, "a") == [
        ("a", {"class": "mention", "href": "/u/Jane_Doe/"}),
        ("a", {"class": "mention", "href": "/u/sam/"}),
    ]
    assert '<a class="mention" href="/u/Jane_Doe/">@Jane_Doe</a>' in rendered.html
    assert "@nobody" in rendered.html
    assert rendered.mentions == frozenset({"Jane_Doe", "sam"})


def test_mentions_in_code_and_links_are_not_linked():
    rendered = render(
        "`@sam` inline\n\n```\n@sam fenced #covid-data\n```\n\n    @sam indented\n\n"
        "[ask @sam](https://example.org) <https://example.org/@sam> https://example.org/?by=@sam \\@sam"
    )
    assert not [attrs for _tag, attrs in elements(rendered.html, "a") if attrs.get("class")]
    assert rendered.mentions == frozenset()


def test_email_addresses_and_url_paths_are_not_mentions():
    text = "Write to sam@example.org or see example.org/@sam or sam@sam"
    assert find_references(text) == (set(), set())
    assert render(text).mentions == frozenset()


def test_known_categories_become_links_showing_the_slug():
    html = render("Try #covid-data or #imaging, not #nowhere or #Imaging.").html
    assert elements(html, "a") == [
        ("a", {"class": "category-link", "href": "/c/covid-data/", "title": "COVID-19 data"}),
        ("a", {"class": "category-link", "href": "/c/imaging/", "title": "Imaging"}),
    ]
    assert ">#covid-data</a>" in html
    assert "#nowhere" in html
    assert "#Imaging" in html


def test_hash_at_line_start_still_makes_headings():
    html = render("# Results for #imaging\n\n## Method\n\nSee `#imaging` and &#35;imaging").html
    assert html.startswith('<h1>Results for <a class="category-link" href="/c/imaging/"')
    assert "<h2>Method</h2>" in html
    assert html.count("category-link") == 1


def test_find_references_collects_candidates_from_raw_text():
    users, categories = find_references(
        "@Jane_Doe @sam, (@Nobody) `@in_code` x@mail.org #covid-data #x1 a#b &#35; /#frag #Upper"
    )
    assert users == {"jane_doe", "sam", "nobody", "in_code"}
    assert categories == {"covid-data", "x1"}


def test_forged_link_classes_in_raw_html_are_removed():
    html = render(
        '<a class="mention" href="/u/admin/">@admin</a> <a class="image-link" href="https://x.org">x</a> '
        '<a class="category-link" href="/c/x/">#x</a> <span class="mention">y</span>'
    ).html
    assert all("class" not in attrs for _tag, attrs in elements(html)), html


def test_only_the_new_link_classes_are_allowed_on_links():
    html = render("@sam #imaging ![i](https://example.org/i.png) [x](https://example.org)").html
    classes = {attrs.get("class") for _tag, attrs in elements(html, "a")}
    assert classes == {"mention", "category-link", "image-link", None}
    assert not re.search(r"[0-9a-f]{32}", html)  # the per-render secret never reaches the page


def test_render_post_is_bounded_like_render_markdown(settings):
    settings.MARKDOWN_MAX_LENGTH = 50
    with pytest.raises(ValidationError) as error:
        render("@sam " * 20)
    assert error.value.code == "markdown_too_long"
    settings.MARKDOWN_MAX_LENGTH = 32000
    with pytest.raises(ValidationError) as error:
        render(">" * 5000 + " @sam")
    assert error.value.code == "markdown_too_deep"


# --- Cross-site scripting -----------------------------------------------------------

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://example.org/x.js></SCRIPT>",
    "<<script>script>alert(1)<</script>/script>",
    '<img src=x onerror="alert(1)">',
    '<a href="https://example.org" onclick="alert(1)" onmouseover="alert(1)">x</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "<details open ontoggle=alert(1)>x</details>",
    "<input autofocus onfocus=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>',
    "<iframe src=javascript:alert(1)></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
    "[x](java%73cript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    '[x](https://example.org "a" onclick="alert(1)")',
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    "[evil]\n\n[evil]: JAVASCRIPT:alert(1)",
    "<javascript:alert(1)>",
    "<data:text/html,alert(1)>",
    "![x](javascript:alert(1))",
    '<img src="javascript:alert(1)">',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="jav&#00;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="javascript:alert(1)" class="mention">@sam</a>',
    "@sam<script>alert(1)</script> #imaging\" onmouseover=\"alert(1)",
]


@pytest.mark.parametrize("text", XSS_VECTORS)
def test_stored_html_has_nothing_executable(text):
    html = render(text).html
    assert "<script" not in html.lower()
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, html)
            assert name != "style", html
            if name in {"href", "src", "action", "formaction", "xlink:href", "data"}:
                assert url_scheme(value) in {"", "http", "https", "mailto"}, (value, html)
