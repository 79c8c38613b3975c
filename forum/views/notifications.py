"""Notifications, email settings, one-click unsubscribe and the newsletter."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .. import selectors, services
from ..forms import ModeratorMessageForm, NewsletterForm, NotificationSettingsForm
from ..models import Notification
from ..notifications import DIGEST, kind_get
from ..permissions import can_send_moderator_message
from ..ratelimit import client_ip, over_limit

NOTIFICATIONS_PER_PAGE = 30


@login_required
@require_GET
def notification_list(request):
    page = Paginator(selectors.notification_list(user=request.user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page"))
    selectors.describe_notifications(page.object_list)
    return render(request, "forum/notification_list.html", {"page": page})


@login_required
@require_GET
def notification_open(request, pk):
    """Follow a notification: mark it read and go where it points."""
    try:
        notification = services.notification_open(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    if not url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect("forum:notification-list")
    return HttpResponseRedirect(notification.url)


@login_required
@require_POST
def notifications_read(request):
    count = services.notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("All notifications marked read."))
    return redirect("forum:notification-list")


@never_cache
@require_GET
def notification_count(request):
    """The unread count for the bell (refreshed by static/js/bell.js); 0 for visitors."""
    count = selectors.unread_notification_count(user=request.user)
    label = ngettext("%(count)d unread", "%(count)d unread", count) % {"count": count}
    return JsonResponse({"unread": count, "label": label})


@login_required
def notification_settings(request):
    current = selectors.notification_settings_for(user=request.user)
    form = NotificationSettingsForm(request.POST or None, user=request.user, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            form.save()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("forum:notification-settings")
    return render(request, "forum/notification_settings.html", {"form": form})


# Mail clients post here without a session or a CSRF token (RFC 8058): the signed token is the proof.
@csrf_exempt
@never_cache
def email_unsubscribe(request, token):
    """GET shows what the link stops and a button; POST (the button, or a mail client's one-click) stops it."""
    try:
        payload = services.unsubscribe_read(token)
    except signing.BadSignature:
        return render(request, "forum/unsubscribe.html", {"invalid": True}, status=400)
    kind = payload["k"]
    label = _("digests") if kind == DIGEST else kind_get(kind).label
    if request.method == "POST":
        try:
            services.unsubscribe_apply(token=token)
        except signing.BadSignature:
            return render(request, "forum/unsubscribe.html", {"invalid": True}, status=400)
        return render(request, "forum/unsubscribe.html", {"done": True, "label": label})
    return render(request, "forum/unsubscribe.html", {"label": label})


# The form sits on the cached home page, where a CSRF token cannot be (it would be shared);
# a forged post can only send a confirmation email, which double opt-in makes harmless.
@csrf_exempt
def newsletter_subscribe(request):
    form = NewsletterForm(request.POST or None)
    if request.method == "POST":
        ip = client_ip(request) or "unknown"
        if over_limit("subscribe", f"ip:{ip}"):
            return render(request, "429.html", {"message": _(
                "Too many subscriptions from your network. Please wait an hour and try again.")}, status=429)
        if form.is_valid():
            try:
                services.newsletter_subscribe(email=form.cleaned_data["email"])
            except ValidationError as error:
                form.add_error("email", error.message_dict.get("email", error.messages))
            else:
                return render(request, "forum/newsletter.html", {"sent": True})
        return render(request, "forum/newsletter.html", {"form": form}, status=400)
    return render(request, "forum/newsletter.html", {"form": form})


@never_cache
def newsletter_confirm(request, token):
    """GET shows a button (link scanners must not confirm); POST confirms."""
    try:
        subscription = services.newsletter_token_read(token)
    except services.TokenError as error:
        return render(request, "forum/newsletter_confirm.html", {"error": str(error)}, status=400)
    if request.method == "POST":
        services.newsletter_confirm(token=token)
        return render(request, "forum/newsletter_confirm.html", {"done": True, "subscription": subscription})
    return render(request, "forum/newsletter_confirm.html", {"subscription": subscription})


@login_required
@require_POST
def moderator_message(request, username):
    recipient = selectors.profile_get(username=username)
    if not can_send_moderator_message(request.user, recipient):
        raise Http404
    form = ModeratorMessageForm(request.POST)
    if form.is_valid():
        try:
            services.moderator_message_send(actor=request.user, recipient=recipient, text=form.cleaned_data["text"])
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("Your message was sent."))
    else:
        messages.error(request, _("Please write a message of at most 200 characters."))
    return redirect(recipient)
