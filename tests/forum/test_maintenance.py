"""The re-render command: stored HTML follows the renderer, dry run by default."""
import pytest
from django.core.management import call_command

from forum import services
from forum.models import Post

pytestmark = pytest.mark.django_db


def test_rerender_is_a_dry_run_unless_applied(public_topic, capsys):
    post = public_topic.posts.get()
    Post.objects.filter(pk=post.pk).update(html="<p>rendered by an old renderer</p>")
    call_command("rerender_posts")
    post.refresh_from_db()
    assert post.html == "<p>rendered by an old renderer</p>"
    assert "would change 1" in capsys.readouterr().out
    call_command("rerender_posts", "--apply", "--reindex")
    post.refresh_from_db()
    assert post.html == "<p>Synthetic data only.</p>"
    assert "changed 1" in capsys.readouterr().out


def test_rerender_keeps_html_the_renderer_now_refuses(public_topic, settings):
    post = public_topic.posts.get()
    settings.MARKDOWN_MAX_LENGTH = 5
    counts = services.posts_rerender(apply=True)
    post.refresh_from_db()
    assert counts["failed"] == 1 and post.html == "<p>Synthetic data only.</p>"
