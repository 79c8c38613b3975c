"""The board, the request form, and every step of a request's life, each a plain HTML form.

Views parse input, call one selector or service, and render. Refusals from the
services come back as form errors, or as a message on the request's page.
"""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from forum.identifiers import EDIT_HELD_MESSAGE, HELD_MESSAGE
from forum.pagecache import cache_anonymous_page
from forum.pagination import bounded_page
from forum.ratelimit import client_ip, rate_limited

from . import selectors, services
from .forms import (
    AttachForm,
    BoardFilterForm,
    ClaimForm,
    ReasonForm,
    RequestForm,
    ResultForm,
    ResultLicenseForm,
    UpdateForm,
)
from .models import DataRequest
from .permissions import (
    can_claim,
    check_can_attach_file,
    check_can_claim,
    check_can_close,
    check_can_edit_request,
    check_can_edit_result_license,
    check_can_post_request,
    check_can_withdraw,
    check_is_active_claimant,
    request_actions,
)

REQUESTS_PER_PAGE = 25
COMMON_EXPERTISE = (
    "statistics", "epidemiology", "modelling", "imaging", "segmentation", "genomics", "sequencing",
    "machine-learning", "natural-language-processing", "visualization", "data-cleaning", "software",
)


def _page(request, items):
    # Counted only a few pages ahead: matching every open request with a volunteer's popular tags
    # cost 70 ms a page at a million posts.
    return bounded_page(items, REQUESTS_PER_PAGE, request.GET.get("page"))


def _refused(request, error) -> None:
    """Show why a step was refused on the request's page."""
    if isinstance(error, ValidationError):
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(error) or _("You cannot do this."))


def _refusal(request, data_request, action: str, **known) -> str:
    """Why `action` cannot be taken on `data_request` now, in the words its service would use ("" when
    it can): its form page says so instead of offering a form that would be refused."""
    step = request_actions(request.user, data_request, claims=selectors.claim_list(data_request=data_request),
                           **known)[action]
    return "" if step.allowed else step.reason


# --- Lists ------------------------------------------------------------------------

@cache_anonymous_page
def board(request):
    """Every request the visitor may see, filtered, most urgent first, with counts per state."""
    form = BoardFilterForm(request.GET or None, categories=selectors.board_categories(user=request.user))
    filters = selectors.BoardFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.BoardFilters(
            state=data["state"] or "active", category=data["category"], tag=data["tag"], modality=data["modality"],
            result_type=data["result_type"], has_deadline=data["has_deadline"], unclaimed=data["unclaimed"],
        )
    result, page = selectors.board_page(
        user=request.user, filters=filters, number=request.GET.get("page"), per_page=REQUESTS_PER_PAGE,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form, "filters": filters, "page": page,
        "state_counts": [
            (value, label, result.state_counts.get(value, 0))
            for value, label in DataRequest.State.choices if value != DataRequest.State.DRAFT
        ],
        "extra_query": query.urlencode(),
    }
    return render(request, "requests_board/board.html", context)


@login_required
def my_requests(request):
    return render(request, "requests_board/my_requests.html", {
        "page": _page(request, selectors.my_requests(user=request.user)),
    })


@login_required
def my_claims(request):
    return render(request, "requests_board/my_claims.html", {
        "claims": selectors.my_claims(user=request.user),
        "ended": selectors.my_ended_claims(user=request.user),
    })


@login_required
def matches(request):
    """Open requests tagged with the volunteer's expertise."""
    tags = selectors.expertise_tags(user=request.user)
    page = selectors.matches_page(user=request.user, tag_ids=[tag.pk for tag in tags],
                                  number=request.GET.get("page"), per_page=REQUESTS_PER_PAGE)
    return render(request, "requests_board/matches.html", {
        "slugs": [tag.slug for tag in tags], "page": page,
        "is_volunteer": can_claim(request.user),
    })


@cache_anonymous_page
def dashboard(request):
    figures = selectors.dashboard()
    peak = max((count for _week, count in figures.weeks), default=0) or 1
    bar_width = 40
    bars = [
        {"week": week, "count": count, "x": index * bar_width + 30, "height": round(count * 150 / peak),
         "y": 170 - round(count * 150 / peak)}
        for index, (week, count) in enumerate(figures.weeks)
    ]
    return render(request, "requests_board/dashboard.html", {
        "figures": figures, "bars": bars, "peak": peak, "chart_width": len(bars) * bar_width + 40,
    })


# --- Asking -----------------------------------------------------------------------

@login_required
@rate_limited("post")
def request_create(request):
    check_can_post_request(request.user)
    categories = selectors.board_categories(user=request.user)
    initial = {"category": categories.filter(slug=request.GET.get("category", "data-requests")).first()}
    form = RequestForm(request.POST or None, actor=request.user, categories=categories, initial=initial)
    if request.method == "POST" and form.is_valid():
        publish = request.POST.get("action") == "publish"
        data_request = form.run(services.request_submit, actor=request.user, details=form.details(), publish=publish)
        if data_request is not None:
            return _after_submit(request, data_request, publish)
    return _render_form(request, form, None)


def _after_submit(request, data_request, publish):
    if not publish:
        messages.success(request, _("Your draft is saved. Only you can see it; publish it when it is ready."))
        return redirect("requests_board:request-edit", pk=data_request.pk)
    if data_request.topic.hidden_at is not None:
        messages.warning(request, _(
            "Your request may identify a patient, so it waits for the anonymization team: only you and the team "
            "can see it until they have checked it. You will be told what they decide."
        ))
    elif data_request.needs_anonymization:
        messages.success(request, _(
            "Your request is with the anonymization team. Only you and the team see it until they clear it; "
            "they may ask you questions in the discussion below."
        ))
    else:
        messages.success(request, _("Your request is published. Volunteers will see it on the board."))
    return redirect(data_request.get_absolute_url())


def _form_status(form) -> int:
    """400 for a refused form; 200 when it only asks about possible identifiers (nothing is wrong yet)."""
    return 400 if form.is_bound and form.errors and not getattr(form, "identifier_warning", None) else 200


def _render_form(request, form, data_request):
    return render(request, "requests_board/request_form.html", {
        "form": form, "data_request": data_request, "common_expertise": COMMON_EXPERTISE,
    }, status=_form_status(form))


@login_required
@rate_limited("edit")
def request_edit(request, pk):
    data_request = selectors.request_get(user=request.user, pk=pk)
    check_can_edit_request(request.user, data_request)
    published = data_request.state != DataRequest.State.DRAFT
    form = RequestForm(
        request.POST or None, actor=request.user, categories=selectors.board_categories(user=request.user),
        published=published,
        initial=RequestForm.initial_from(data_request, question=selectors.request_question(data_request=data_request)),
    )
    if request.method == "POST" and form.is_valid():
        if published:
            if saved := form.run(services.request_edit, actor=request.user, data_request_id=pk,
                                 details=form.details()):
                if saved.edit_held:
                    messages.warning(request, EDIT_HELD_MESSAGE)
                else:
                    messages.success(request, _("Your changes are saved."))
                return redirect(data_request.get_absolute_url())
        else:
            publish = request.POST.get("action") == "publish"
            saved = form.run(
                services.request_submit, actor=request.user, details=form.details(), publish=publish,
                data_request_id=pk,
            )
            if saved is not None:
                return _after_submit(request, saved, publish)
    return _render_form(request, form, data_request)


def request_detail(request, pk):
    """A request's address: its discussion once published, the draft form before."""
    data_request = selectors.request_get(user=request.user, pk=pk)
    return redirect(data_request.get_absolute_url())


@login_required
def request_withdraw(request, pk):
    data_request = selectors.request_get(user=request.user, pk=pk)
    check_can_withdraw(request.user, data_request)
    form = ReasonForm(request.POST or None)
    form.fields["reason"].label = _("Why do you withdraw it? (optional)")
    if request.method == "POST" and form.is_valid():
        if form.run(services.request_withdraw, actor=request.user, data_request_id=pk,
                    reason=form.cleaned_data["reason"]):
            messages.success(request, _("Your request is withdrawn. Volunteers who had claimed it are told."))
            return redirect(data_request.get_absolute_url())
    return render(request, "requests_board/reason_form.html", {
        "form": form, "data_request": data_request, "heading": _("Withdraw this request"),
        "button": _("Withdraw request"), "refusal": _refusal(request, data_request, "withdraw"),
    }, status=400 if form.errors else 200)


@login_required
def request_close(request, pk):
    data_request = selectors.request_get(user=request.user, pk=pk)
    check_can_close(request.user, data_request)
    form = ReasonForm(request.POST or None)
    form.fields["reason"].help_text = _("Required. The requester and the volunteers read it.")
    if request.method == "POST" and form.is_valid():
        if form.run(services.request_close, actor=request.user, data_request_id=pk,
                    reason=form.cleaned_data["reason"]):
            messages.success(request, _("The request is closed."))
            return redirect(data_request.get_absolute_url())
    return render(request, "requests_board/reason_form.html", {
        "form": form, "data_request": data_request, "heading": _("Close this request"),
        "button": _("Close request"), "refusal": _refusal(request, data_request, "close"),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def request_clear(request, pk):
    selectors.request_get(user=request.user, pk=pk)  # 404 unless visible
    try:
        services.request_clear(actor=request.user, data_request_id=pk)
        messages.success(request, _("The request is cleared and now public."))
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return redirect(selectors.request_get(user=request.user, pk=pk).get_absolute_url())


@login_required
@rate_limited("upload")
def request_attach(request, pk):
    """The requester adds a data file; it goes to quarantine and its review page opens."""
    data_request = selectors.request_get(user=request.user, pk=pk)
    check_can_attach_file(request.user, data_request)
    form = AttachForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.run(services.request_attach, actor=request.user, data_request_id=pk,
                          file=form.cleaned_data["file"], ip=client_ip(request))
        if upload is not None:
            messages.success(request, _(
                "Your file is in quarantine: it is being checked for personal data, then the anonymization "
                "team reviews it. Nobody else can see it until they approve it."
            ))
            return redirect(upload.get_absolute_url())
    return render(request, "requests_board/attach_form.html", {"form": form, "data_request": data_request},
                  status=400 if form.errors else 200)


# --- Claiming and delivering ------------------------------------------------------

@login_required
@rate_limited("claim")
def request_claim(request, pk):
    data_request = selectors.request_get(user=request.user, pk=pk)
    check_can_claim(request.user, data_request)
    form = ClaimForm(request.POST or None, citizen_science=data_request.is_citizen_science)
    if request.method == "POST" and form.is_valid():
        claim = form.run(services.request_claim, actor=request.user, data_request_id=pk, **form.cleaned_data)
        if claim is not None:
            messages.success(request, _(
                "You claimed this request. Post an update when you have news: a claim with no update for "
                "a while is released so someone else can help."
            ))
            return redirect(data_request.get_absolute_url())
    refusal = _refusal(request, data_request, "claim",
                       active_claim_count=selectors.active_claim_count(user=request.user))
    return render(request, "requests_board/claim_form.html", {
        "form": form, "data_request": data_request, "remind_days": settings.REQUESTS_CLAIM_REMIND_AFTER_DAYS,
        "refusal": refusal,
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def claim_release(request, pk):
    claim = selectors.claim_get(user=request.user, pk=pk)
    try:
        services.claim_release(actor=request.user, claim_id=pk)
        messages.success(request, _("The claim is released."))
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return redirect(claim.data_request.get_absolute_url())


def _claimant_page(request, pk):
    data_request = selectors.request_get(user=request.user, pk=pk)
    check_is_active_claimant(request.user, selectors.claim_list(data_request=data_request))
    return data_request


@login_required
@rate_limited("post")
def request_update(request, pk):
    data_request = _claimant_page(request, pk)
    form = UpdateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        post = form.run(services.update_post, actor=request.user, data_request_id=pk, ip=client_ip(request),
                        **form.cleaned_data)
        if post is not None:
            if post.held_identifying:
                messages.warning(request, HELD_MESSAGE)
            else:
                messages.success(request, _("Your update is posted."))
            return redirect(post.get_absolute_url())
    return render(request, "requests_board/update_form.html", {"form": form, "data_request": data_request},
                  status=_form_status(form))


@login_required
@rate_limited("post")
def request_result(request, pk):
    data_request = _claimant_page(request, pk)
    form = ResultForm(request.POST or None, request.FILES or None,
                      result_kind=services.result_kind(data_request))
    if request.method == "POST" and form.is_valid():
        result = form.run(services.result_deliver, actor=request.user, data_request_id=pk, ip=client_ip(request),
                          **form.cleaned_data)
        if result is not None:
            if getattr(result.post, "held_identifying", False):
                messages.warning(request, HELD_MESSAGE)
            else:
                messages.success(request, _("Your result is delivered. The requester is told and can accept it."))
            return redirect(result.post.get_absolute_url())
    return render(request, "requests_board/result_form.html", {"form": form, "data_request": data_request},
                  status=_form_status(form))


@login_required
def result_license(request, pk):
    """The result's author (or a moderator) changes its licenses, e.g. to lift a hold."""
    result = selectors.result_get(user=request.user, pk=pk)
    data_request = result.data_request
    item = selectors.licensed_item(item_type="result", object_id=result.pk)
    check_can_edit_result_license(request.user, result, data_request, held=item is not None and item.is_held)
    current = {"license": result.license, "repository_license": result.repository_license}
    form = ResultLicenseForm(request.POST or None, result_kind=services.result_kind(data_request), current=current)
    if request.method == "POST" and form.is_valid():
        if form.run(services.result_license_edit, actor=request.user, result_id=pk, **form.cleaned_data):
            messages.success(request, _("The licenses are saved. They are checked again in a moment."))
            return redirect(result.post.get_absolute_url())
    return render(request, "requests_board/result_license_form.html", {
        "form": form, "data_request": data_request, "result": result, "item": item,
    }, status=400 if form.errors else 200)


def request_export(request, pk):
    """Ask for the bundle of a solved request: ready at once when small, else built by a worker."""
    data_request = selectors.request_get(user=request.user, pk=pk)
    try:
        bundle = services.export_request(actor=request.user, data_request=data_request)
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
        return redirect(data_request.get_absolute_url())
    return redirect("requests_board:export-detail", pk=bundle.pk)


def export_detail(request, pk):
    """How far a bundle is; the page refreshes itself until it is ready."""
    bundle, data_request = selectors.export_get(user=request.user, pk=pk)
    return render(request, "requests_board/export.html", {"bundle": bundle, "data_request": data_request})


def export_download(request, pk):
    bundle, data_request = selectors.export_get(user=request.user, pk=pk)
    if not services.export_is_current(bundle=bundle, data_request=data_request):
        # Edited, deleted or held since it was built: never serve the old content; build the current one.
        return redirect("requests_board:request-export", pk=data_request.pk)
    if bundle.state != bundle.State.READY:
        return redirect("requests_board:export-detail", pk=bundle.pk)
    response = FileResponse(services.export_open(bundle=bundle), as_attachment=True, filename=bundle.file_name,
                            content_type="application/zip")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def result_accept(request, pk):
    result = selectors.result_get(user=request.user, pk=pk)
    try:
        services.result_accept(actor=request.user, result_id=pk)
        messages.success(request, _("You accepted this result: the request is solved. Thank the volunteer!"))
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return redirect(result.data_request.get_absolute_url())

