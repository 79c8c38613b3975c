"""Values every template may use."""
from django.conf import settings


def site(request):
    return {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL}


def notifications(request):
    """The bell's unread count, counted only when a page shows the bell (signed-in people)."""
    from django.utils.functional import SimpleLazyObject

    from .selectors import unread_notification_count

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notification_count": SimpleLazyObject(lambda: unread_notification_count(user=user))}
