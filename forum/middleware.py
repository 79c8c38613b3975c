"""Request-wide rules: the content security policy and steps a person must take first."""
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
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
