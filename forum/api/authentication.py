"""Who is calling: a personal token (`Authorization: Token <key>` or `Bearer <key>`), or the
browser's session (DRF's SessionAuthentication, with its CSRF check on writes)."""
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ..services import api_token_use

KEYWORDS = (b"token", b"bearer")


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as “Authorization: Token <your token>”."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            key = ""
        token = api_token_use(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("This token is not valid: it is mistyped, revoked, or its account is closed.")
            )
        return token.user, token

    def authenticate_header(self, request):
        return 'Token realm="api"'


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": _("“Token <key>”, with a key made on your API tokens page."),
        }
