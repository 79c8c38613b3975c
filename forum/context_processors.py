"""Values every template may use."""
from django.conf import settings

from .permissions import can_moderate, can_triage_personal_data


def site(request):
    return {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL}


def notifications(request):
    """The bell's unread count, counted only when a page shows the bell (signed-in people)."""
    from django.utils.functional import SimpleLazyObject

    from .selectors import unread_notification_count

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if hasattr(request, "unread_notification_count"):  # counted by the view already (a topic page)
        return {"unread_notification_count": request.unread_notification_count}
    return {"unread_notification_count": SimpleLazyObject(lambda: unread_notification_count(user=user))}


def moderation(request):
    """Whether to show the review queue in the navigation: from permissions already loaded for the
    page (category moderators find it on their categories' pages, templates/forum/category_detail.html)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"can_review_posts": can_moderate(user) or can_triage_personal_data(user)}
