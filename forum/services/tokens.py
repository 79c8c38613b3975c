"""Personal API tokens: made, used and revoked by their owner."""
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ApiToken, User
from ..permissions import can_use_api_token, check_can_create_api_token

TOKEN_START = "hdk_"  # makes a leaked key recognisable to secret scanners and to people
PREFIX_LENGTH = 12


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


@transaction.atomic
def api_token_create(*, actor: User, name: str, scope: str, second_factor: bool = False) -> tuple[ApiToken, str]:
    """Make a token for `actor`; returns it and its key, which is shown once and never stored.
    `second_factor`: the session making it passed two-factor authentication. Locks the person
    row so two quick submissions cannot pass the limit together."""
    User.objects.select_for_update().filter(pk=actor.pk).first()
    check_can_create_api_token(actor, scope=scope)
    name = " ".join((name or "").split())
    errors = {}
    if not name:
        errors["name"] = [_("Give the token a name, e.g. “dashboard script”, to recognise it later.")]
    elif len(name) > 100:
        errors["name"] = [_("Please keep the name under 100 characters.")]
    if scope not in ApiToken.Scope.values:
        errors["scope"] = [_("Choose read or read and write.")]
    limit = settings.API_MAX_TOKENS_PER_PERSON
    if ApiToken.objects.filter(user=actor, revoked_at__isnull=True).count() >= limit:
        errors.setdefault("name", []).append(
            _("You have %(limit)d tokens, the most allowed. Revoke one you no longer use first.") % {"limit": limit}
        )
    if errors:
        raise ValidationError(errors)
    key = TOKEN_START + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=actor, name=name, scope=scope, prefix=key[:PREFIX_LENGTH], key_hash=token_hash(key),
        second_factor=second_factor,
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    """Revoke one of `actor`'s tokens: refused from the next call on. Someone else's token does
    not exist for them."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=actor).first()
    if token is None:
        raise ApiToken.DoesNotExist
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_use(*, key: str) -> ApiToken | None:
    """The live token with this key and its person, or None; notes when it was used (at most
    once a minute, so reads stay reads). A revoked token, one of a deleted or inactive account,
    or one that its person's role no longer allows (see can_use_api_token) is refused at once."""
    if not key or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(key), revoked_at__isnull=True, user__is_active=True, user__deleted_at__isnull=True)
        .first()
    )
    if token is None or not can_use_api_token(token):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(seconds=settings.API_TOKEN_TOUCH_SECONDS):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
