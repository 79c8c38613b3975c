"""One JSON shape for every refusal: {"error": {"code", "message", "fields"?, "retry_after"?}}.

Services raise Django's ValidationError and PermissionDenied, selectors raise
Http404, rate limits raise RateLimited: each becomes the status and code a
script can branch on, with the same human message the web page shows.
"""
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from forum.ratelimit import RateLimited

_DEFAULT_MESSAGES = {
    400: _("The request is not valid."),
    403: _("You cannot do this."),
    404: _("Not found."),
}


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, (list, tuple)):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _fields(detail: dict) -> dict[str, list[str]]:
    return {str(field): _flatten(value) for field, value in detail.items()}


def error_body(code: str, message: str, *, fields: dict | None = None, retry_after: int | None = None) -> dict:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    if retry_after is not None:
        error["retry_after"] = retry_after
    return {"error": error}


def error_response(code: str, message: str, status_code: int, **extra) -> JsonResponse:
    """The same shape outside DRF views (middleware, the URL resolver's 404)."""
    return JsonResponse(error_body(code, message, **extra), status=status_code)


def _invalid(fields: dict | None, messages: list[str]) -> tuple[int, dict]:
    """400: errors not tied to a field make the message; otherwise the message names the fields."""
    fields = dict(fields or {})
    general = fields.pop("__all__", []) + fields.pop("non_field_errors", []) + list(messages)
    if general:
        message = " ".join(general)
    elif fields:
        message = str(_("Some fields are not valid: %(fields)s.")) % {"fields": ", ".join(sorted(fields))}
    else:
        message = str(_DEFAULT_MESSAGES[400])
    return 400, error_body("invalid", message, fields=fields)


def _describe(exc) -> tuple[int, dict, dict]:
    """(status, body, headers) for an exception, or raise it on for a server error."""
    if isinstance(exc, RequestDataTooBig):
        return 413, error_body("request_too_large", str(_("The body is larger than the API reads."))), {}
    if isinstance(exc, RateLimited):
        return 429, error_body("rate_limited", exc.message, retry_after=exc.retry_after), {
            "Retry-After": str(exc.retry_after)}
    if isinstance(exc, DjangoValidationError) and getattr(exc, "api_status", None):
        # e.g. requests_board's InvalidTransition: a step the current state does not allow (409).
        return exc.api_status, error_body(exc.api_code, " ".join(exc.messages)), {}
    if isinstance(exc, DjangoValidationError):
        fields = {field: list(messages) for field, messages in exc.message_dict.items()} if hasattr(
            exc, "error_dict") else None
        status_code, body = _invalid(fields, [] if fields else exc.messages)
        return status_code, body, {}
    if isinstance(exc, Http404):
        return 404, error_body("not_found", str(_DEFAULT_MESSAGES[404])), {}
    if isinstance(exc, PermissionDenied):
        return 403, error_body(getattr(exc, "code", None) or "permission_denied",
                               str(exc) or str(_DEFAULT_MESSAGES[403])), {}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            return (*_invalid(_fields(detail), []), {})
        return (*_invalid(None, _flatten(detail)), {})
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        return exc.status_code, error_body(code, " ".join(_flatten(exc.detail))), headers
    raise exc


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every refusal in the one shape; anything else stays a 500."""
    try:
        status_code, body, headers = _describe(exc)
    except Exception:  # not a refusal: let Django log it and answer 500
        return None
    set_rollback()
    return Response(body, status=status_code, headers=headers)


ERROR_STATUSES = {
    status.HTTP_400_BAD_REQUEST: _("The input is not valid; `fields` says what to change."),
    status.HTTP_401_UNAUTHORIZED: _("The token is missing, unknown or revoked."),
    status.HTTP_403_FORBIDDEN: _("You may not do this (a read token writing, a role you lack, a suspension)."),
    status.HTTP_404_NOT_FOUND: _("Missing, or private to you: the two look alike."),
    status.HTTP_409_CONFLICT: _("The request's state does not allow this step now."),
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: _("The body is larger than the API reads."),
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: _("Send JSON (or multipart for a file)."),
    status.HTTP_429_TOO_MANY_REQUESTS: _("Too many actions of this kind; wait `Retry-After` seconds."),
}
