"""Moderation pages: flagging, the review queue, the log, restricting people; a person's own data;
the site's editable pages."""
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import hooks, selectors, services
from ..forms import (
    AccountDeleteForm,
    FlagForm,
    RestrictionForm,
    ReviewEditForm,
    SpammerForm,
    TrustLevelForm,
    errors_onto_form,
)
from ..identifiers import finding_rows
from ..models import Flag, ModerationLogEntry, Post, ReviewItem, SitePage, Topic
from ..pagecache import cache_anonymous_page
from ..permissions import (
    can_read_moderation_log,
    check_can_flag_post,
    check_can_read_moderation_log,
    check_can_restrict_user,
    check_can_use_review_queue,
    posts_visible_to,
    restrictable_user_ids,
    topics_visible_to,
)
from ..ratelimit import rate_limited

REVIEW_ITEMS_PER_PAGE = 20
LOG_ENTRIES_PER_PAGE = 50


# --- Flags ------------------------------------------------------------------------

@login_required
@rate_limited("flag")
def post_flag(request, pk):
    post = selectors.post_get(user=request.user, pk=pk)
    check_can_flag_post(request.user, post)
    form = FlagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.post_flag(actor=request.user, post_id=post.pk, **form.cleaned_data)
        except ValidationError as error:
            errors_onto_form(form, error)
        else:
            if form.cleaned_data["reason"] == Flag.Reason.PERSONAL_DATA:
                messages.success(request, _(
                    "Thank you. The post is hidden until the anonymization team and moderators have reviewed it; "
                    "you will be told what they decide."
                ))
            else:
                messages.success(request, _(
                    "Thank you. Moderators will look at it; you will be told what they decide."
                ))
            # The topic itself may now be hidden from the flagger (a flagged first post).
            if topics_visible_to(request.user, Topic.objects.filter(pk=post.topic_id)).exists():
                return redirect(post.get_absolute_url())
            return redirect("forum:home")
    return render(request, "forum/flag_form.html", {"post": post, "form": form},
                  status=400 if form.errors else 200)


# --- The review queue -------------------------------------------------------------

@never_cache
@login_required
def review_queue(request):
    check_can_use_review_queue(request.user)
    status = request.GET.get("status", ReviewItem.Status.PENDING)
    if status not in ReviewItem.Status.values:
        status = ReviewItem.Status.PENDING
    page = Paginator(selectors.review_item_list(user=request.user, status=status), REVIEW_ITEMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    restrictable = restrictable_user_ids(request.user, {item.post.author_id for item in page.object_list})
    for item in page.object_list:
        item.can_restrict_author = item.post.author_id in restrictable
        item.finding_list = finding_rows(item.findings)
    return render(request, "forum/review_queue.html", {
        "page": page,
        "status": status,
        "statuses": ReviewItem.Status.choices,
        "other_queues": hooks.review_queue_links(user=request.user),
        "can_read_log": can_read_moderation_log(request.user),
    })


@login_required
@require_POST
def review_action(request, pk):
    check_can_use_review_queue(request.user)
    item = selectors.review_item_decided_or_pending_get(user=request.user, pk=pk)
    action = request.POST.get("action", "")
    try:
        services.review_resolve(actor=request.user, item_id=item.pk, action=action, note=request.POST.get("note", ""))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        done = {
            "approve": _("Approved: the post is shown."),
            "hide": _("The post stays hidden."),
            "delete": _("The post is deleted."),
            "reject": _("The held post is rejected."),
        }
        messages.success(request, done[action] + " " + _("Its author and the flaggers are told."))
    return redirect("forum:review-queue")


@never_cache
@login_required
@rate_limited("edit")
def review_edit(request, pk):
    check_can_use_review_queue(request.user)
    item = selectors.review_item_get(user=request.user, pk=pk)
    post = item.post
    if item.has_proposal:
        initial = {"raw": item.proposed_raw, "title": item.proposed_title or post.topic.title}
    else:
        initial = {"raw": post.raw, "title": post.topic.title}
    form = ReviewEditForm(request.POST or None, initial=initial, first_post=post.number == 1)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_edit(actor=request.user, item_id=item.pk, **form.cleaned_data)
        except ValidationError as error:
            errors_onto_form(form, error)
        else:
            messages.success(request, _("Saved. The post is still waiting for your decision."))
            return redirect(reverse("forum:review-queue") + f"#review-{item.pk}")
    return render(request, "forum/review_edit.html", {"item": item, "form": form},
                  status=400 if form.errors else 200)


# --- The moderation log -----------------------------------------------------------

@never_cache
@login_required
def moderation_log(request):
    check_can_read_moderation_log(request.user)
    action = request.GET.get("action", "")
    if action not in ModerationLogEntry.Action.values:
        action = ""
    page = Paginator(selectors.moderation_log_list(action=action), LOG_ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "forum/moderation_log.html", {
        "page": page, "action": action, "actions": ModerationLogEntry.Action.choices,
    })


@login_required
@require_POST
def spammer_restore(request, pk):
    check_can_read_moderation_log(request.user)
    try:
        services.spammer_restore(actor=request.user, log_entry_id=pk)
    except ModerationLogEntry.DoesNotExist:
        raise Http404 from None
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The person is active again and their posts are back."))
    return redirect("forum:moderation-log")


# --- Restricting a person ---------------------------------------------------------

PERSON_ACTIONS = ("silence", "suspend", "lift-silence", "lift-suspension", "trust", "spammer")


@never_cache
@login_required
def person_moderate(request, username):
    person = selectors.moderation_person_get(username=username)
    check_can_restrict_user(request.user, person)
    forms = {
        "silence": RestrictionForm(prefix="silence"),
        "suspend": RestrictionForm(prefix="suspend"),
        "trust": TrustLevelForm(prefix="trust", initial={
            "level": person.trust_level, "locked": person.trust_level_locked,
        }),
        "spammer": SpammerForm(prefix="spammer"),
    }
    if request.method == "POST":
        do = request.POST.get("do", "")
        if do not in PERSON_ACTIONS:
            raise Http404
        if do in ("lift-silence", "lift-suspension"):
            services.user_restriction_lift(
                actor=request.user, user_id=person.pk, restriction=do.removeprefix("lift-"),
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("Lifted."))
            return redirect("forum:person-moderate", username=person.username)
        form_class = {"silence": RestrictionForm, "suspend": RestrictionForm, "trust": TrustLevelForm}.get(
            do, SpammerForm)
        form = form_class(request.POST, prefix=do)
        forms[do] = form
        if form.is_valid():
            try:
                if do == "silence":
                    services.user_silence(actor=request.user, user_id=person.pk, **form.cleaned_data)
                    messages.success(request, _("Silenced. They are told why and until when."))
                elif do == "suspend":
                    services.user_suspend(actor=request.user, user_id=person.pk, **form.cleaned_data)
                    messages.success(request, _("Suspended. They are told why and until when."))
                elif do == "trust":
                    services.trust_level_set(actor=request.user, user_id=person.pk, **form.cleaned_data)
                    messages.success(request, _("Trust level saved."))
                else:
                    services.spammer_delete(actor=request.user, user_id=person.pk, **form.cleaned_data)
                    messages.success(request, _(
                        "Deleted as a spammer: the account is deactivated and their posts are deleted. "
                        "You can undo this from the moderation log."
                    ))
                    return redirect("forum:moderation-log")
            except ValidationError as error:
                errors_onto_form(form, error)
            else:
                return redirect("forum:person-moderate", username=person.username)
    now = timezone.now()
    return render(request, "forum/person_moderate.html", {
        "person": person,
        "forms": forms,
        "silenced": person.is_silenced(now),
        "suspended": person.is_suspended(now),
        "log": selectors.moderation_log_list(target=person)[:20],
        "posts": posts_visible_to(request.user, Post.objects.filter(author=person)).count(),
    }, status=400 if any(form.errors for form in forms.values()) else 200)


# --- A person's own data ----------------------------------------------------------

@never_cache
@login_required
def account_settings(request):
    return render(request, "forum/account_settings.html", {"delete_form": AccountDeleteForm()})


@login_required
@require_POST
@rate_limited("export")
def account_export(request):
    data = services.personal_data_export(actor=request.user)
    response = HttpResponse(data, content_type="application/zip")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def account_delete(request):
    form = AccountDeleteForm(request.POST)
    if form.is_valid():
        try:
            services.account_delete(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_onto_form(form, error)
        else:
            logout(request)
            messages.success(request, _("Your account is deleted. Your posts stay, shown as by “deleted user”."))
            return redirect("forum:home")
    return render(request, "forum/account_settings.html", {"delete_form": form}, status=400)


# --- The site's pages ---------------------------------------------------------------

@cache_anonymous_page
def site_page(request, slug):
    if slug not in SitePage.Slug.values:
        raise Http404
    return render(request, f"forum/pages/{slug}.html", {
        "page": selectors.site_page_get(slug=slug), "terms": selectors.terms_current(),
    })


@cache_anonymous_page
def terms_page(request, version=None):
    current = selectors.terms_current()
    terms = selectors.terms_version_get(version=version) if version else current
    return render(request, "forum/pages/terms.html", {
        "terms": terms,
        "is_current": terms is None or current is None or terms.pk == current.pk,
        "versions": selectors.terms_version_list(),
    })

