"""A topic page's posts are rendered once and kept; each reader still sees their own actions, marks,
and only the text they may read, and every form carries their own CSRF token."""
import re

import pytest
from django.template.loader import get_template
from django.test import Client
from django.test.signals import template_rendered

from forum import services
from forum.models import Post
from forum.templatetags import post_articles
from tests.forum.factories import UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def _rendered(client, url) -> tuple[str, list]:
    names = []

    def seen(sender, template, context, **kwargs):
        names.append(template.name)

    template_rendered.connect(seen)
    try:
        response = client.get(url)
    finally:
        template_rendered.disconnect(seen)
    assert response.status_code == 200
    return response.content.decode(), names


def _article(page, number) -> str:
    match = re.search(rf'<article class="post[^"]*" id="post-{number}".*?</article>', page, re.S)
    assert match, f"no post {number}"
    return match.group(0)


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="…"', html)


def test_posts_are_rendered_once_for_every_reader(client, public_topic, member):
    services.post_create(actor=member, topic_id=public_topic.pk, raw="Synthetic kept reply.")
    sign_in(client, member)
    url = public_topic.get_absolute_url()
    first, names = _rendered(client, url)
    assert names.count("forum/_post.html") == 2 and names.count("forum/_post_actions.html") == 2
    again, names = _rendered(client, url)
    assert "forum/_post.html" not in names and "forum/_post_actions.html" not in names
    assert "Synthetic kept reply." in _article(again, 2)
    assert _without_tokens(_article(again, 2)) == _without_tokens(_article(first, 2))


def test_each_reader_sees_their_own_actions_from_the_same_kept_post(client, public_topic, requester, member):
    url = public_topic.get_absolute_url()
    sign_in(client, requester)
    own = _article(client.get(url).content.decode(), 1)
    assert ">Edit<" in own and ">Delete topic<" in own
    sign_in(client, member)
    other = _article(client.get(url).content.decode(), 1)
    assert ">Edit<" not in other and ">Delete topic<" not in other and ">Flag<" in other
    visitor = _article(Client().get(url).content.decode(), 1)
    assert ">Flag<" not in visitor and ">Bookmark<" not in visitor and "csrfmiddlewaretoken" not in visitor
    for article in (own, other, visitor):
        assert "Synthetic data only." in article


def test_an_edit_and_a_like_show_at_once(client, public_topic, requester, member):
    url = public_topic.get_absolute_url()
    reply = services.post_create(actor=member, topic_id=public_topic.pk, raw="Synthetic first wording.")
    sign_in(client, requester)
    assert "Synthetic first wording." in client.get(url).content.decode()
    services.post_edit(actor=member, post_id=reply.pk, raw="Synthetic second wording.")
    services.post_like(actor=requester, post_id=reply.pk)
    article = _article(client.get(url).content.decode(), 2)
    assert "Synthetic second wording." in article and "Synthetic first wording." not in article
    assert "♥ 1" in article and 'aria-pressed="true">Unlike' in article
    assert "edited once" in article


def test_a_held_post_is_kept_apart_for_who_may_read_it(client, public_topic, requester, member):
    """The author's copy of a post hidden for review (text shown) and everybody else's (a note)
    are different entries: the one kept first is never served to the other."""
    url = public_topic.get_absolute_url()
    reply = services.post_create(actor=member, topic_id=public_topic.pk, raw="Synthetic reply held for review.")
    Post.objects.filter(pk=reply.pk).update(hidden=Post.Hidden.FLAGGED)
    sign_in(client, member)
    assert "Synthetic reply held for review." in _article(client.get(url).content.decode(), 2)
    for reader in (Client(), _signed_in(requester)):
        article = _article(reader.get(url).content.decode(), 2)
        assert "Synthetic reply held for review." not in article
        assert "hidden until a moderator reviews it" in article


def _signed_in(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_every_form_in_a_kept_post_carries_the_readers_own_token(public_topic, requester, member):
    url = public_topic.get_absolute_url()
    reply = services.post_create(actor=requester, topic_id=public_topic.pk, raw="Synthetic reply to like.")
    first = Client(enforce_csrf_checks=True)
    sign_in(first, member)
    first.get(url)  # keeps the post's actions
    second = Client(enforce_csrf_checks=True)
    sign_in(second, UserFactory())
    article = _article(second.get(url).content.decode(), 2)
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', article))
    assert len(tokens) == 1 and "placeholder" not in next(iter(tokens))
    response = second.post(f"/p/{reply.pk}/like/", {"csrfmiddlewaretoken": tokens.pop()})
    assert response.status_code == 302
    assert reply.likes.count() == 1


@pytest.mark.parametrize("template, shown", [(post_articles.ARTICLE, post_articles.ARTICLE_SHOWN),
                                             (post_articles.ACTIONS, post_articles.ACTIONS_SHOWN)])
def test_the_kept_templates_read_only_what_their_keys_are_made_of(template, shown):
    """A variable added to a kept template without its key would serve one reader's fragment to another."""
    source = open(get_template(template).origin.name).read()
    read = set(re.findall(r"\b(?:post|topic|user)(?:\.\w+)+|\breply_form\b", source))
    assert read <= shown, read - shown


@pytest.mark.parametrize("flag", post_articles.ACTION_FLAGS)
def test_every_action_flag_changes_the_actions_key(public_topic, flag):
    post = public_topic.posts.get(number=1)
    for name in post_articles.ACTION_FLAGS:
        setattr(post, name, False)
    before = post_articles._actions_key(post, public_topic.pk, True, True)
    setattr(post, flag, True)
    assert post_articles._actions_key(post, public_topic.pk, True, True) != before
