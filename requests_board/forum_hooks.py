"""What the requests board adds to forum pages (see forum/hooks.py).

A request's topic page shows the request panel (details, state, claims, the
accepted result, actions, history); its posts carry "Progress update" and
"Result" marks; a profile counts delivered and accepted results. These hooks only
adapt: the panel is built in panel.py, JSON-LD and feed licenses in linked_data.py,
reads in selectors.py and writes in services.
"""
from django.utils.translation import gettext as _

from . import linked_data, selectors
from .panel import request_panel, request_post_marks


def topic_panel(*, request, topic) -> str:
    return request_panel(request, topic)


def post_marks(*, request, topic, posts) -> dict:
    return request_post_marks(request, topic, posts)


def profile_figures(*, user, profile_user) -> list:
    figures = selectors.volunteer_figures(profile_user=profile_user)
    if not figures["delivered"]:
        return []
    return [(_("Results delivered"), figures["delivered"]), (_("Results accepted"), figures["accepted"])]


def topic_move_refusal(*, topic, destination) -> str | None:
    """A request waiting for the anonymization team leaves the channel only by their clearance."""
    data_request = selectors.request_for_topic(topic=topic)
    if data_request is None or not destination.is_public:
        return None
    if data_request.needs_anonymization and data_request.cleared_at is None:
        return _("This request waits for the anonymization team: clear it from its panel (or approve one of its "
                 "files) instead of moving it.")
    return None


def topic_head(*, request, topic) -> str:
    return linked_data.request_json_ld(request, topic)


def topic_licenses(*, topic_ids) -> dict:
    return linked_data.feed_licenses(topic_ids=topic_ids)


def notification_kinds() -> list:
    from .notifications import NOTIFICATION_KINDS

    return NOTIFICATION_KINDS


def post_notification_kind(*, post) -> str | None:
    """Watchers of a request hear "a progress update" or "a result", not just "a new post"."""
    from .notifications import NoticeKind

    kind = selectors.post_kind(post_id=post.pk)
    return {"result": NoticeKind.RESULT_DELIVERED, "update": NoticeKind.REQUEST_UPDATE}.get(kind)


def digest_sections(*, user, since, now) -> list:
    from forum.selectors.digests import DigestItem, DigestSection, absolute

    news = selectors.digest_news(user=user, since=since, now=now)

    def request_item(data_request, detail=""):
        return DigestItem(data_request.topic.title, absolute(data_request.get_absolute_url()), detail)

    def result_item(result):
        return DigestItem(result.data_request.topic.title, absolute(result.post.get_absolute_url()),
                          _("by %(name)s, %(license)s") % {"name": result.author.name, "license": result.license})

    sections = [
        DigestSection(_("New requests that match your expertise"),
                      [request_item(r, r.category.name) for r in news.get("matching", [])]),
        DigestSection(_("New requests"), [request_item(r, r.category.name) for r in news.get("new", [])]),
        DigestSection(_("Due within a week and nobody has claimed them yet"), [
            request_item(r, _("due %(date)s") % {"date": r.deadline.isoformat()}) for r in news["due_soon"]]),
        DigestSection(_("New results"), [result_item(r) for r in news["results"]]),
        DigestSection(_("Accepted results"), [result_item(r) for r in news["accepted"]]),
    ]
    return sections


def personal_data(*, user) -> dict:
    """A person's requests, claims and results for their data export (their own words only)."""
    return selectors.personal_data(user=user)


def personal_data_erase(*, user) -> None:
    from .services import person_work_end

    person_work_end(user=user)
