"""Site pages: home, profiles, terms, static pages."""
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import hooks, selectors, services
from ..forms import ProfileForm, TermsAcceptForm
from ..pagecache import cache_anonymous_page
from ..permissions import Role, can_edit_profile, can_restrict_user, can_send_moderator_message, user_roles

HOME_LATEST_TOPICS = 10
PROFILE_ITEMS_PER_PAGE = 20


@require_GET
@never_cache
def healthz(request):
    """Liveness and database check for the load balancer and docker-compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@cache_anonymous_page
def home(request):
    context = {
        "categories": selectors.category_list(user=request.user),
        "latest_topics": selectors.topic_list_page(
            user=request.user, number=1, per_page=HOME_LATEST_TOPICS, counted_pages=False,
        ).object_list,
    }
    return render(request, "forum/home.html", context)


PROFILE_TABS = ("topics", "replies", "likes")


@cache_anonymous_page
def profile_detail(request, username):
    profile_user = selectors.profile_get(username=username)
    tab = request.GET.get("tab", "topics")
    if tab not in PROFILE_TABS:
        tab = "topics"
    activity = selectors.profile_activity(user=request.user, profile_user=profile_user)
    # The tab's list is exactly what its figure counts (kept in the cache): no second count.
    count = activity[{"replies": "replies", "likes": "likes_given"}.get(tab, "topics")]
    page = selectors.profile_page(user=request.user, profile_user=profile_user, tab=tab,
                                  number=request.GET.get("page"), per_page=PROFILE_ITEMS_PER_PAGE, count=count)
    context = {
        "profile_user": profile_user,
        "roles": [role for role in Role if role in user_roles(profile_user)],
        "can_edit": can_edit_profile(request.user, profile_user),
        "can_message": can_send_moderator_message(request.user, profile_user),
        "can_moderate_person": can_restrict_user(request.user, profile_user),
        "activity": activity,
        "extra_figures": hooks.profile_figures(user=request.user, profile_user=profile_user),
        "tab": tab,
        "page": page,
    }
    return render(request, "forum/profile_detail.html", context)


@login_required
def profile_edit(request):
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST, actor=user, user=user)
        if form.is_valid() and form.save() is not None:
            messages.success(request, _("Your profile has been saved."))
            return redirect(user)
    else:
        form = ProfileForm(
            actor=user, user=user,
            initial={
                "display_name": user.display_name,
                "affiliation": user.affiliation,
                "orcid": user.orcid,
                "bio": user.bio,
                "expertise": ", ".join(sorted(tag.name for tag in user.expertise.all())),
                "roles": [role.value for role in user_roles(user)],
            },
        )
    return render(request, "forum/profile_edit.html", {"form": form})


@login_required
def terms_accept(request):
    terms = selectors.terms_current()
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    if terms is None or request.user.accepted_terms_version == terms.version:
        return HttpResponseRedirect(next_url or "/")
    form = TermsAcceptForm(request.POST or None, initial={"version": terms.version})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["version"] != terms.version:
            messages.warning(request, _("The terms changed while you were reading them. Please read the new version."))
            return redirect(reverse("forum:terms-accept") + "?" + urlencode({"next": next_url}))
        services.terms_accept(user=request.user, terms_version=terms)
        messages.success(request, _("Thank you. You accepted the terms of %(version)s.") % {"version": terms.version})
        return HttpResponseRedirect(next_url or "/")
    is_update = bool(request.user.accepted_terms_version)
    return render(
        request, "forum/terms_accept.html",
        {"form": form, "terms": terms, "next": next_url, "is_update": is_update},
    )
