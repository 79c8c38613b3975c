"""The one access rule every endpoint shares; each endpoint's own rules are its app's permissions."""
from django.core.exceptions import PermissionDenied
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions

from ..permissions import check_token_allows
from ..selectors import terms_accepted


class ApiAccess(permissions.BasePermission):
    """Reads are open to what the caller may see; writes need someone signed in, through a session
    or a write token. A signed-in caller must have accepted the current terms, as on the web.

    A suspended person's token still reads nothing: the web shows them only the suspension.
    """

    def has_permission(self, request, view):
        user = request.user
        if user.is_authenticated and user.is_suspended():
            error = PermissionDenied(_("A moderator suspended your account until %(until)s: %(reason)s") % {
                "until": formats.date_format(timezone.localtime(user.suspended_until), "DATETIME_FORMAT"),
                "reason": user.suspension_reason,
            })
            error.code = "account_suspended"
            raise error
        if user.is_authenticated and not terms_accepted(user):
            error = PermissionDenied(_("Please accept the current terms of use on the website first."))
            error.code = "terms_not_accepted"
            raise error
        if request.method in permissions.SAFE_METHODS and not getattr(view, "signed_in_only", False):
            return True
        if not user.is_authenticated:
            raise exceptions.NotAuthenticated(_("Sign in, or send a personal API token, to do this."))
        if request.method in permissions.SAFE_METHODS:
            return True
        try:
            check_token_allows(request.auth, request.method)
        except PermissionDenied as error:
            error.code = "token_read_only"
            raise
        return True
