"""What every app's endpoints share beyond the base machinery: parsing input, the web's rate
limits, boolean and list query parameters, and a post as the API shows it.

Other apps' API views import these by name (never the forum's views module).
"""
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from .. import selectors
from ..ratelimit import client_ip, rate_limit_check
from . import serializers


def limit(request, kind: str) -> None:
    """The web's rate limit for `kind`, per person and per address (RateLimited becomes 429)."""
    rate_limit_check(kind, user=request.user, ip=client_ip(request))


def form_errors(form) -> ValidationError:
    """A Django form's errors in the API's validation error shape (field: [messages])."""
    return ValidationError({field: [str(message) for message in messages] for field, messages in form.errors.items()})


def query_flag(request, name: str) -> bool | None:
    """A boolean query parameter as the schema writes it, `true` or `false`; None when absent."""
    value = request.query_params.get(name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise ValidationError({name: [_("Give true or false.")]})
    return value == "true"


def refuse_blank(request, *names: str) -> None:
    """Query parameters with a list of values: left out, they take their default; blank is off
    the list like any other value (the web's forms read it as "any")."""
    blank = [name for name in names if request.query_params.get(name) == ""]
    if blank:
        raise ValidationError({name: [_("Leave it out, or give one of the values listed.")] for name in blank})


def valid_input(serializer_class, request, **kwargs):
    """The request body checked by `serializer_class`: its validated data, or a 400."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def post_data(request, pk) -> dict:
    """One post `request.user` may see, serialized with its text only if they may read it (404 otherwise)."""
    post = selectors.post_get(user=request.user, pk=pk)
    return serializers.PostSerializer(selectors.mark_post_texts(user=request.user, posts=[post])[0]).data
