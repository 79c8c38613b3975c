"""Root URLs: each app's URLs under its own namespace."""
from allauth.account import views as account_views
from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.defaults import page_not_found, server_error

from forum import views as forum_views
from forum.ratelimit import rate_limited


def _login_key(request) -> str | None:
    email = request.POST.get("login", "").strip().lower()[:254]
    return f"login:{email}" if email else None


# Staff sign in through allauth like everybody else, so the second factor always applies.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz/", forum_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("favicon.svg"))),
    path("admin/", admin.site.urls),
    # Our limits, with a clear wait, in front of allauth's own (which stay on).
    path("accounts/login/", rate_limited("login", key=_login_key)(account_views.login)),
    path("accounts/signup/", rate_limited("signup")(account_views.signup)),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("config.api_urls")),
    path("", include("anonymization.urls")),
    path("", include("licensing.urls")),
    path("", include("requests_board.urls")),
    path("", include("forum.urls")),
]


def handler404(request, exception):
    """The API answers a wrong address in its JSON error shape; pages get the 404 page."""
    if request.path.startswith("/api/"):
        from forum.api.errors import error_response

        return error_response("not_found", str(_("Not found.")), 404)
    return page_not_found(request, exception)


def handler500(request):
    """A crash answers API clients in the API's JSON shape too (the error is logged as usual)."""
    if request.path.startswith("/api/"):
        from forum.api.errors import error_response

        return error_response("server_error", str(_("Something went wrong on our side. Please try again later.")), 500)
    return server_error(request)
