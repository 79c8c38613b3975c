"""Request-wide rules: the content security policy, the request body limit, control characters
in addresses and forms, and steps a person must take first."""
import io
import logging
import re
import tempfile
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, UnreadablePostError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from .permissions import requires_mfa
from .selectors import terms_accepted

# Only our own origin: no page may load anything from another host.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


logger = logging.getLogger(__name__)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CHUNK = 64 * 1024


class _BoundedStream:
    """Reads `stream` until `limit` bytes were read; one byte more marks the request and raises
    RequestDataTooBig, so a body whose length header lied is cut off rather than read on."""

    def __init__(self, stream, limit: int, request):
        self.stream, self.remaining, self.request = stream, limit, request

    def _size(self, size) -> int:
        # Never more than one byte past the limit, whatever the caller asks for.
        return self.remaining + 1 if size is None or size < 0 else min(size, self.remaining + 1)

    def _count(self, data: bytes) -> bytes:
        self.remaining -= len(data)
        if self.remaining < 0:
            self.request.body_too_large = True
            raise RequestDataTooBig("request body over REQUEST_MAX_BODY_BYTES")
        return data

    def read(self, size=-1) -> bytes:
        return self._count(self.stream.read(self._size(size)))

    def readline(self, size=-1) -> bytes:
        return self._count(self.stream.readline(self._size(size)))

    def seekable(self) -> bool:
        return False  # so request.body reads through the counter instead of measuring the stream

    def close(self) -> None:
        if hasattr(self.stream, "close"):
            self.stream.close()


class RequestBodyLimitMiddleware:
    """A POST, PUT or PATCH body larger than REQUEST_MAX_BODY_BYTES (the largest file we accept plus
    room for the other fields) gets 413 before it is read.

    A Content-Length over the limit is refused unread. A chunked body (no Content-Length; the
    WSGI server decodes it and ends the input, `wsgi.input_terminated`) is read up to the limit
    into a temporary file and refused the moment it goes over, the rest never read. Every body
    is then read through a counter, so one longer than its Content-Length is cut off too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in BODY_METHODS:
            return self.get_response(request)
        limit = settings.REQUEST_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or -1)
        except ValueError:
            declared = -1
        if declared > limit:
            return self._too_large(request, limit)
        spooled = None
        environ = getattr(request, "environ", {})
        if (declared < 0 and environ.get("wsgi.input_terminated")
                and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()):
            spooled = self._spool(environ["wsgi.input"], limit)
            if spooled is None:
                return self._too_large(request, limit)
            request.META["CONTENT_LENGTH"] = str(spooled.seek(0, io.SEEK_END))
            spooled.seek(0)
            request._stream = spooled
        if hasattr(request, "_stream"):
            request._stream = _BoundedStream(request._stream, limit, request)
        try:
            response = self.get_response(request)
        finally:
            if spooled is not None:
                spooled.close()
        if getattr(request, "body_too_large", False):
            return self._too_large(request, limit)
        return response

    @staticmethod
    def _spool(source, limit: int):
        """The decoded chunked body in a temporary file, or None as soon as it passes `limit`."""
        body = tempfile.SpooledTemporaryFile(max_size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        size = 0
        while chunk := source.read(min(_CHUNK, limit + 1 - size)):
            size += len(chunk)
            if size > limit:
                body.close()
                return None
            body.write(chunk)
        return body

    @staticmethod
    def _too_large(request, limit: int) -> HttpResponse:
        logger.warning("Refused a %s body over %d bytes at %s.", request.method, limit, request.path)
        with translation.override(translation.get_language_from_request(request)):
            message = _("This request is larger than the %(limit)d MB the site accepts (a file and the form "
                        "around it). Please send a smaller file, or split it into parts.") % {
                "limit": limit // (1024 * 1024)}
            if request.path.startswith("/api/"):
                from .api.errors import error_response

                return error_response("request_too_large", message, 413)
            return HttpResponse(render_to_string("refused.html", {"title": _("Too large"), "message": message}),
                                status=413)


# A control character decoded (C0 or DEL), or one still percent-encoded in a raw query string.
_CONTROL_HINT = re.compile(r"[\x00-\x1f\x7f]|%(?:[01][0-9A-Fa-f]|7[Ff])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Text typed into a form may hold tabs and line breaks, and nothing else below the space.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class ControlCharacterMiddleware:
    """A control character in the path, the query string or a form's text fields gets a clear 400
    before any view, cache or database sees it (PostgreSQL refuses NUL in text: it was a 500).

    Paths, query keys and values and form field names take no C0 control nor DEL; form values
    take tab, line feed and carriage return. Uploaded files are left alone: their names are
    sanitized where they are stored, their contents scanned. Only a web POST carries a form here:
    Django parses no other method's body. The API reads bodies through DRF's parsers: JSON, which
    its parser checks (forum.api.parsers), or a multipart file upload with no text field; its
    forms are left unread here, or a JSON endpoint would take a form as empty instead of
    answering 415. A request without a form pays one regex search.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _CONTROL_HINT.search(f"{request.path}?{request.META.get('QUERY_STRING', '')}") and (
                _CONTROL.search(request.path) or self._has_control(request.GET, _CONTROL)):
            return self._refuse(request)
        # A form body that cannot be parsed raises here as it would in the CSRF check: Django's 400,
        # or the body limit's 413.
        if (request.method == "POST" and request.content_type in _FORM_TYPES
                and not request.path.startswith("/api/")):
            try:
                bad = self._has_control(request.POST, _CONTROL_IN_TEXT)
            except UnreadablePostError:
                bad = False  # the client went away: nothing to check, the view fails as before
            if bad:
                return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _has_control(data, values_pattern) -> bool:
        """Whether a QueryDict has a control character in a key, or one `values_pattern` finds in a value."""
        return bool(_CONTROL.search("".join(data)) or values_pattern.search(
            "".join(value for _key, values in data.lists() for value in values)))

    @staticmethod
    def _refuse(request) -> HttpResponse:
        logger.info("Refused a control character in a %s to %r.", request.method, request.path)
        with translation.override(translation.get_language_from_request(request)):
            message = _("This address or form contains a control character (such as NUL) that no link or "
                        "form on this site produces. Please check the address, or retype the text, and try again.")
            if request.path.startswith("/api/"):
                from .api.errors import error_response

                return error_response("parse_error", message, 400)  # as DRF names unreadable input
            return HttpResponse(render_to_string("refused.html", {"title": _("Bad request"), "message": message}),
                                status=400)


class RequiredStepsMiddleware:
    """Before anything else, a suspended person is shown why and until when, a signed-in
    person accepts the current terms, and a person whose role requires it sets up
    two-factor authentication.

    Pages needed to take those steps (or to leave) stay reachable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def _always_open_prefixes(self) -> tuple[str, ...]:
        return (
            "/static/",
            reverse("healthz"),
            reverse("account_logout"),
            reverse("forum:terms-accept"),
            reverse("forum:terms"),
            reverse("forum:guidelines"),
        )

    @cached_property
    def _mfa_setup_prefixes(self) -> tuple[str, ...]:
        return (reverse("mfa_index"), reverse("account_reauthenticate"))

    @cached_property
    def _suspended_open_prefixes(self) -> tuple[str, ...]:
        # A suspended person may still read why, sign out, and download or delete their data.
        return (reverse("forum:account-settings"), reverse("forum:faq"))

    def __call__(self, request):
        user = request.user
        if request.path.startswith("/api/"):
            return self._api_step(request) or self.get_response(request)
        if user.is_authenticated and not request.path.startswith(self._always_open_prefixes):
            if user.is_suspended() and not request.path.startswith(self._suspended_open_prefixes):
                return render(request, "forum/suspended.html", {"person": user}, status=403)
            step = self._terms_step(request) or self._mfa_step(request)
            if step is not None:
                return step
        return self.get_response(request)

    def _terms_step(self, request):
        if terms_accepted(request.user):
            return None
        url = reverse("forum:terms-accept")
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)

    def _api_step(self, request):
        """The API answers in JSON: its own access rule refuses suspended people and writes
        without accepted terms; here only a session that skipped its second factor is stopped.
        (Tokens are made on a page behind that very step.)"""
        if "HTTP_AUTHORIZATION" in request.META:
            return None  # a token call acts as the token's person, whatever session the client also holds
        if not request.user.is_authenticated or not requires_mfa(request.user) or self.mfa_done(request):
            return None
        from .api.errors import error_response

        return error_response("mfa_required", _(
            "Your role gives you access to private data: confirm it is you with two-factor authentication on "
            "the website first, or use a personal API token."), 403)

    @staticmethod
    def mfa_done(request) -> bool:
        """Whether this session passed the second factor."""
        from allauth.account.internal.flows.login import get_authentication_records

        return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))

    def _mfa_step(self, request):
        """Roles that see private data need TOTP set up, and used in this very session.

        Checking the session, not just the account, closes every sign-in path that
        skips the second factor (a password-only backend, a session started before
        the role was granted).
        """
        if request.path.startswith(self._mfa_setup_prefixes) or not requires_mfa(request.user):
            return None
        from allauth.mfa.models import Authenticator

        if self.mfa_done(request):
            return None
        if Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists():
            messages.info(request, _("Please confirm it is you with your authenticator app to continue."))
            url = reverse("mfa_reauthenticate")
            if request.method == "GET":
                url += "?" + urlencode({"next": request.get_full_path()})
            return redirect(url)
        messages.warning(
            request,
            _("Your role gives you access to private data, so two-factor authentication is required. "
              "Please set it up to continue."),
        )
        return redirect("mfa_activate_totp")
