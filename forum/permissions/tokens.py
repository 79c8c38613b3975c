"""The API: who makes and uses tokens, and what a token allows."""
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from .roles import is_new_member, requires_mfa


def can_create_api_token(user, *, scope: str = "read") -> bool:
    """Anyone signed in and not suspended makes read tokens for their own scripts; write tokens
    wait for trust level 1, so a brand-new account cannot post at machine speed past the spam
    defences of the web forms."""
    if not user.is_authenticated or user.is_suspended():
        return False
    return scope != "write" or not is_new_member(user)


def check_can_create_api_token(user, *, scope: str = "read") -> None:
    if not user.is_authenticated or user.is_suspended():
        raise PermissionDenied(_("You cannot make API tokens now."))
    if not can_create_api_token(user, scope=scope):
        raise PermissionDenied(_(
            "New members make read tokens only; write access comes with trust level 1, which rises on its own "
            "as you read and take part."))


def can_use_api_token(token) -> bool:
    """A token works for what its person may do now; for roles that see private data, only if it
    was made in a session that passed two-factor authentication and the person still has it set up
    (a token made before such a role was granted stops working)."""
    user = token.user
    if not requires_mfa(user):
        return True
    from allauth.mfa.models import Authenticator

    return token.second_factor and Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def check_token_allows(token, method: str) -> None:
    """A read token only reads; a session or a write token may also write."""
    if token is not None and not token.can_write and method not in ("GET", "HEAD", "OPTIONS"):
        raise PermissionDenied(_("This token can only read. Make a token with write access to do this."))
