"""Personal API tokens: made, listed and revoked on the person's own settings page."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..forms import ApiTokenForm, errors_onto_form
from ..middleware import RequiredStepsMiddleware
from ..models import ApiToken
from ..ratelimit import rate_limited

# The new key rides in a short-lived signed cookie to the page the redirect shows, then is
# dropped: kept in the session it would sit readable in the session store.
NEW_KEY_COOKIE = "api_token_new_key"
NEW_KEY_SALT = "forum.api-token-new-key"
NEW_KEY_SECONDS = 120


@never_cache
@login_required
@rate_limited("token")
def api_tokens(request):
    """The person's tokens, and a form for a new one. A new key is shown once, on the page the
    redirect after making it leads to: reloading neither shows it again nor makes another token."""
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, key = services.api_token_create(
                actor=request.user, second_factor=RequiredStepsMiddleware.mfa_done(request), **form.cleaned_data)
        except ValidationError as error:
            errors_onto_form(form, error)
        else:
            messages.success(request, _("Token “%(name)s” is made. Copy it now: it is not shown again.") % {
                "name": token.name})
            response = redirect("forum:api-tokens")
            response.set_signed_cookie(
                NEW_KEY_COOKIE, key, salt=NEW_KEY_SALT + str(request.user.pk), max_age=NEW_KEY_SECONDS,
                path=request.path, secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Strict",
            )
            return response
    new_key = None
    if request.method == "GET":
        new_key = request.get_signed_cookie(NEW_KEY_COOKIE, default=None, salt=NEW_KEY_SALT + str(request.user.pk),
                                            max_age=NEW_KEY_SECONDS)
    response = render(request, "forum/api_tokens.html", {
        "form": form, "tokens": selectors.api_token_list(user=request.user), "new_key": new_key,
        "docs_url": reverse("api:docs"),
    }, status=400 if form.errors else 200)
    response["Cache-Control"] = "no-store"  # the page may carry a key
    if NEW_KEY_COOKIE in request.COOKIES:
        response.delete_cookie(NEW_KEY_COOKIE, path=request.path, samesite="Strict")
    return response


@login_required
@require_POST
def api_token_revoke(request, pk):
    try:
        token = services.api_token_revoke(actor=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Token “%(name)s” is revoked: scripts using it are refused from now on.") % {
        "name": token.name})
    return redirect("forum:api-tokens")
