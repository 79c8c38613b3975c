"""Pages of the anonymization app: the triage queue, an upload's review page, downloads."""
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forum import selectors as forum_selectors
from forum.ratelimit import client_ip, rate_limited

from . import selectors, services
from .forms import AttachForm, DecisionForm, MessageForm
from .permissions import (
    can_add_version,
    can_approve,
    can_decide,
    can_read_audit,
    can_triage,
    can_write_message,
)
from .storage import published_storage, quarantine_storage


@never_cache
@require_GET
def queue(request):
    if not can_triage(request.user):
        raise Http404
    context = selectors.triage_queue()
    # Texts held because they may identify a patient wait in the review queue, beside these files.
    context["held_texts"] = forum_selectors.personal_data_review_count(user=request.user)
    return render(request, "anonymization/queue.html", context)


def _detail_context(request, upload, **forms) -> dict:
    user = request.user
    versions = selectors.version_list(upload=upload)
    max_age = settings.ANONYMIZATION_DOWNLOAD_LINK_SECONDS
    for version in versions:
        version.token = None if version.file_deleted_at else selectors.download_token(user=user, version=version)
    return {
        "upload": upload,
        "versions": versions,
        "thread": selectors.message_list(upload=upload),
        "audit": selectors.audit_list(upload=upload) if can_read_audit(user) else None,
        "can_decide": can_decide(user, upload),
        "can_approve": can_approve(user, upload),
        "can_add_version": can_add_version(user, upload),
        "can_write": can_write_message(user, upload),
        "link_minutes": max_age // 60,
        "message_form": forms.get("message_form") or MessageForm(),
        "decision_form": forms.get("decision_form") or DecisionForm(initial={"version": upload.current_version_id}),
        "version_form": forms.get("version_form") or AttachForm(),
    }


@never_cache
@require_GET
def upload_detail(request, pk):
    upload = selectors.upload_get(user=request.user, upload_id=pk)
    services.audit_report_viewed(actor=request.user, upload=upload, ip=client_ip(request))
    return render(request, "anonymization/upload_detail.html", _detail_context(request, upload))


def _post_or_page(request, pk, form_class, form_key, action):
    upload = selectors.upload_get(user=request.user, upload_id=pk)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            action(upload, form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, field_errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, field_errors)
            else:
                form.add_error(None, error.messages)
        except PermissionDenied as error:
            # Shown at the top of the page: the form itself may be hidden now (a colleague decided meanwhile).
            messages.error(request, str(error) or _("You cannot do this."))
        else:
            return redirect(upload.get_absolute_url())
    services.audit_report_viewed(actor=request.user, upload=upload, ip=client_ip(request))
    response = render(request, "anonymization/upload_detail.html",
                      _detail_context(request, upload, **{form_key: form}))
    response.status_code = 400
    return response


@require_POST
@rate_limited("post")
def message_create(request, pk):
    def post(upload, data):
        services.message_post(actor=request.user, upload_id=upload.pk, raw=data["raw"], ip=client_ip(request))
        messages.success(request, _("Message sent."))
    return _post_or_page(request, pk, MessageForm, "message_form", post)


@require_POST
def upload_decide(request, pk):
    def decide(upload, data):
        services.upload_decide(actor=request.user, upload_id=upload.pk, decision=data["decision"],
                               reason=data["reason"], version_id=data["version"], ip=client_ip(request))
        messages.success(request, _("Decision recorded."))
    return _post_or_page(request, pk, DecisionForm, "decision_form", decide)


@require_POST
@rate_limited("upload")
def version_create(request, pk):
    def add(upload, data):
        services.upload_add_version(actor=request.user, upload_id=upload.pk, file=data["file"],
                                    ip=client_ip(request))
        messages.success(request, _("New version received. It is being checked, then the team reviews it."))
    return _post_or_page(request, pk, AttachForm, "version_form", add)


def _attachment(file, *, name: str, content_type: str) -> FileResponse:
    response = FileResponse(file, as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@never_cache
@require_GET
def version_download(request, token):
    """A quarantined file, for a signed, unexpired link made for this very person; checked each time."""
    version = selectors.version_for_token(
        user=request.user, token=token, max_age=settings.ANONYMIZATION_DOWNLOAD_LINK_SECONDS
    )
    file = quarantine_storage().open(version.storage_name, "rb")
    services.audit_downloaded(actor=request.user, version=version, ip=client_ip(request))
    response = _attachment(file, name=version.original_name, content_type=version.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def published_download(request, pk, name):
    """An approved file's public copy, for whoever can read the request it belongs to."""
    upload = selectors.published_get(user=request.user, upload_id=pk)
    version = upload.published_version
    if name != version.public_name:
        return redirect("anonymization:published-download", pk=upload.pk, name=version.public_name)
    file = published_storage().open(upload.published_name, "rb")
    response = _attachment(file, name=version.public_name, content_type=version.content_type)
    response["Cache-Control"] = "private, max-age=300"
    return response
