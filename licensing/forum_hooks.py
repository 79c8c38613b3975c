"""What licensing enforces on forum pages (see forum/hooks.py): an item held for its license is
read only by who may read held content (licensing/permissions.py), on its page, in search, in
quotes, likes, flags and bookmarks, in emails, digests and notifications. These hooks only adapt:
the rule is in permissions.py, the queries in selectors.py."""
from django.urls import reverse
from django.utils.translation import gettext as _

from . import selectors
from .permissions import can_read_license_report


def withheld_posts(*, request, topic, posts) -> set:
    return selectors.withheld_post_ids(request=request, topic_id=topic.pk)


def withheld_posts_query(*, user):
    return selectors.withheld_result_posts(user=user)


def held_posts_query():
    return selectors.held_post_ids()


def review_queue_links(*, user) -> list:
    """Items held for their license, beside the review queue (moderators)."""
    if not can_read_license_report(user):
        return []
    return [(_("Held for their license"), selectors.held_count(), reverse("licensing:license-report"))]
