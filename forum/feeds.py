"""Atom and RSS feeds of new topics: site-wide, per category and per tag.

Feeds are read by anonymous clients and cached publicly, so they always show
what an anonymous visitor sees, whoever asks: a private category's feed is a 404.
"""
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _

from . import hooks, selectors
from .models import Post
from .pagecache import cache_anonymous_page

FEED_ITEMS = 30


def _public_topics(**filters) -> list:
    """The newest public topics, each with `first_post` attached (one query for all first posts)."""
    topics = list(
        selectors.topic_list(user=AnonymousUser(), **filters).order_by("-created_at", "-pk")[:FEED_ITEMS]
    )
    first_posts = {
        post.topic_id: post
        for post in Post.objects.filter(topic__in=[t.pk for t in topics], number=1).only("topic_id", "html")
    }
    licenses = hooks.topic_licenses(topic_ids=[topic.pk for topic in topics])
    for topic in topics:
        topic.first_post = first_posts.get(topic.pk)
        topic.licenses = licenses.get(topic.pk, [])
    return topics


class LicensedAtomFeed(Atom1Feed):
    """Atom with a `<link rel="license">` (RFC 4946) per license that applies to an entry."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for url in item.get("license_urls", ()):
            handler.addQuickElement("link", "", {"rel": "license", "href": url})


class TopicFeed(Feed):
    """What every topic feed shares: an item is a topic, described by its first post's stored HTML."""

    feed_type = LicensedAtomFeed

    def item_copyright(self, topic):
        if topic.licenses:
            return _("Licensed %(licenses)s") % {"licenses": "; ".join(expr for expr, _urls in topic.licenses)}
        return None

    def item_extra_kwargs(self, topic):
        if not issubclass(self.feed_type, LicensedAtomFeed):
            return {}
        return {"license_urls": list(dict.fromkeys(url for _expr, urls in topic.licenses for url in urls))}

    def item_title(self, topic):
        return topic.title

    def item_link(self, topic):
        return topic.get_absolute_url()

    def item_description(self, topic):
        # Post.html is sanitized when the post is saved.
        return topic.first_post.html if topic.first_post else ""

    def item_pubdate(self, topic):
        return topic.created_at

    def item_updateddate(self, topic):
        return topic.last_posted_at

    def item_author_name(self, topic):
        return topic.author.name

    def item_categories(self, topic):
        return [tag.name for tag in topic.tags.all()]  # prefetched by the selector


class LatestTopicsFeed(TopicFeed):
    def title(self):
        return _("%(site)s: latest topics") % {"site": settings.SITE_NAME}

    def subtitle(self):
        return _("New topics in every public category.")

    description = subtitle

    def link(self):
        return reverse("forum:latest")

    def items(self):
        return _public_topics()


class CategoryTopicsFeed(TopicFeed):
    def get_object(self, request, slug):
        category = selectors.category_get(user=AnonymousUser(), slug=slug)  # 404 when private
        category.subcategories = selectors.subcategory_list(user=AnonymousUser(), category=category)
        return category

    def title(self, category):
        return _("%(site)s: %(category)s") % {"site": settings.SITE_NAME, "category": category.name}

    def subtitle(self, category):
        return category.description or _("New topics in %(category)s.") % {"category": category.name}

    description = subtitle

    def link(self, category):
        return category.get_absolute_url()

    def items(self, category):
        return _public_topics(category=category, subcategories=category.subcategories)


class TagTopicsFeed(TopicFeed):
    def get_object(self, request, slug):
        return selectors.tag_get(user=AnonymousUser(), slug=slug)

    def title(self, tag):
        return _("%(site)s: topics tagged %(tag)s") % {"site": settings.SITE_NAME, "tag": tag.name}

    def subtitle(self, tag):
        return _("New public topics tagged %(tag)s.") % {"tag": tag.name}

    description = subtitle

    def link(self, tag):
        return reverse("forum:tag-detail", kwargs={"slug": tag.slug})

    def items(self, tag):
        return _public_topics(tag=tag)


class LatestTopicsRss(LatestTopicsFeed):
    feed_type = Rss201rev2Feed


class CategoryTopicsRss(CategoryTopicsFeed):
    feed_type = Rss201rev2Feed


class TagTopicsRss(TagTopicsFeed):
    feed_type = Rss201rev2Feed


# The views: each feed in both formats, stored by the anonymous page cache.
latest_atom = cache_anonymous_page(LatestTopicsFeed())
latest_rss = cache_anonymous_page(LatestTopicsRss())
category_atom = cache_anonymous_page(CategoryTopicsFeed())
category_rss = cache_anonymous_page(CategoryTopicsRss())
tag_atom = cache_anonymous_page(TagTopicsFeed())
tag_rss = cache_anonymous_page(TagTopicsRss())
