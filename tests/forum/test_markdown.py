import re

import pytest
from django.core.exceptions import ValidationError

from forum.markdown import render_markdown


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
