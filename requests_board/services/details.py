"""Checking what a requester wrote: links, expertise, dates, licenses, repositories, the whole form."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _

from forum import services as forum_services
from forum.models import User
from forum.permissions import check_can_post_in_category
from licensing import registry as license_registry
from licensing.policy import Kind as LicenseKind
from licensing.policy import default_license

from ..models import DataRequest

# --- Details: validation ---------------------------------------------------------

DETAIL_FIELDS = (
    "title", "question", "category", "modality", "data_size", "data_links", "result_description",
    "result_type", "deadline", "expertise", "serves_covid", "patient_data", "data_license",
)
_https = URLValidator(schemes=["https"])


def clean_data_links(links) -> list[str]:
    """Links to where the data lives: https addresses, one per line, at most REQUESTS_MAX_DATA_LINKS."""
    if isinstance(links, str):
        links = links.splitlines()
    cleaned, errors = [], []
    for number, link in enumerate(links, start=1):
        link = link.strip()
        if not link:
            continue
        if len(link) > 500:
            errors.append(_("Link %(number)d is longer than 500 characters.") % {"number": number})
            continue
        try:
            _https(link)
        except ValidationError:
            errors.append(
                _("Link %(number)d (“%(link)s”) is not a web address starting with https://.")
                % {"number": number, "link": link[:80]}
            )
            continue
        if link not in cleaned:
            cleaned.append(link)
    if len(cleaned) > settings.REQUESTS_MAX_DATA_LINKS:
        errors.append(_("Give at most %(limit)d links.") % {"limit": settings.REQUESTS_MAX_DATA_LINKS})
    if errors:
        raise ValidationError({"data_links": errors})
    return cleaned


def clean_expertise(expertise) -> list[str]:
    if isinstance(expertise, str):
        expertise = expertise.split(",")
    try:
        return forum_services.clean_tags(expertise)
    except ValidationError as error:
        raise ValidationError({"expertise": error.message_dict["tags"]}) from None


def check_future_date(value, field: str) -> None:
    if value is not None and value < timezone.localdate():
        raise ValidationError({field: _("This date is in the past. Please choose today or a later date.")})


def clean_license(value: str, field: str = "license") -> str:
    """A valid SPDX license expression, normalized (e.g. "mit" → "MIT"); raises ValidationError on `field`
    if it does not parse. Whether the policy allows it is the license check's business (licensing)."""
    if not (value or "").strip():
        raise ValidationError({field: _("Choose a license so others may reuse it.")})
    parsed = license_registry.parse(value)
    if not parsed.valid:
        raise ValidationError({field: parsed.error})
    return parsed.expression


def clean_repository_url(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({"repository_url": _(
            "Give the address of an open repository or archive, so others can reproduce the result."
        )})
    try:
        _https(value)
    except ValidationError:
        raise ValidationError({"repository_url": _("Give a web address starting with https://.")}) from None
    if len(value) > 500:
        raise ValidationError({"repository_url": _("Please keep the address under 500 characters.")})
    return value


def _collect(errors: dict, function, *args):
    """Call a cleaning function; gather its field errors into `errors` instead of raising."""
    try:
        return function(*args)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
        return None


def _clean_details(details: dict, *, actor: User, publishing: bool) -> dict:
    """Check a request's details. Drafts need a title and a category; publishing needs everything."""
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"unknown request details: {sorted(unknown)}")
    cleaned = {field: details.get(field) for field in DETAIL_FIELDS}
    errors = {}

    def collect(function, *args):
        return _collect(errors, function, *args)

    title = " ".join(str(details.get("title") or "").split())
    if not title:
        errors["title"] = [_("Please give the request a short title.")]
    elif len(title) > 200:
        errors["title"] = [_("Please keep the title under 200 characters.")]
    cleaned["title"] = title
    cleaned["question"] = str(details.get("question") or "")
    category = details.get("category")
    if category is None:
        errors["category"] = [_("Choose the topic area of your request.")]
    elif not category.is_public:
        errors["category"] = [_(
            "Choose a public topic area. If the data may identify a patient, say so below: "
            "the request then goes to the anonymization team first."
        )]
    else:
        try:
            check_can_post_in_category(actor, category)
        except Exception:  # PermissionDenied: explained as a field error
            errors["category"] = [_("You cannot post in this topic area.")]
    cleaned["data_links"] = collect(clean_data_links, details.get("data_links") or []) or []
    cleaned["expertise"] = collect(clean_expertise, details.get("expertise") or []) or []
    collect(check_future_date, details.get("deadline"), "deadline")
    for field, choices in (
        ("modality", DataRequest.Modality), ("data_size", DataRequest.DataSize),
        ("result_type", DataRequest.ResultType), ("patient_data", DataRequest.PatientData),
    ):
        value = details.get(field) or ""
        if value and value not in choices.values:
            errors[field] = [_("Choose one of the options.")]
        cleaned[field] = value
    cleaned["serves_covid"] = bool(details.get("serves_covid"))
    # No silent default: the forms preselect one, so a person has seen and confirmed it; an API
    # client names it. A draft may leave it empty until it is published.
    data_license = str(details.get("data_license") or "").strip()
    if data_license:
        cleaned["data_license"] = collect(clean_license, data_license, "data_license") or ""
    else:
        cleaned["data_license"] = ""
        if publishing:
            errors["data_license"] = [
                _("Choose the license of your data; %(default)s is the default.")
                % {"default": default_license(LicenseKind.DATA)}
            ]
    cleaned["result_description"] = str(details.get("result_description") or "")
    if publishing:
        required = {
            "question": _("Please describe your question: what you have and what you need."),
            "modality": _("Choose the kind of data you have."),
            "data_size": _("Choose roughly how large the data is (“I don't know” is fine)."),
            "result_description": _("Please describe the result you need."),
            "result_type": _("Choose the form of the result."),
            "patient_data": _(
                "Please tell us whether the data may identify a patient. If you are not sure, choose "
                "“I am not sure”: the anonymization team will check it privately."
            ),
        }
        for field, message in required.items():
            if not str(details.get(field) or "").strip() and field not in errors:
                errors[field] = [message]
        if not cleaned["expertise"] and "expertise" not in errors:
            errors["expertise"] = [_("Name at least one kind of expertise, e.g. statistics or imaging.")]
        if not cleaned["serves_covid"]:
            errors["serves_covid"] = [_(
                "Please confirm that the work serves mitigating COVID-19: this help desk is for that work only."
            )]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _apply_details(data_request: DataRequest, cleaned: dict) -> None:
    for field in DETAIL_FIELDS:
        setattr(data_request, field, cleaned[field])
    data_request.expertise = ", ".join(cleaned["expertise"])
