"""Hooks through which the apps that own licensed items hear about holds and releases.

`settings.LICENSING_EXTENSIONS` names modules; each may define:

- `license_held(*, item)`: `item` was held (or is still held, with other problems): tell its author;
- `license_released(*, item)`: `item` follows the policy again.

They run inside the check's transaction, so what they write commits with it.
"""
from django.conf import settings

from forum.extensions import hooks_named


def license_held(*, item) -> None:
    for hook in hooks_named(settings.LICENSING_EXTENSIONS, "license_held"):
        hook(item=item)


def license_released(*, item) -> None:
    for hook in hooks_named(settings.LICENSING_EXTENSIONS, "license_released"):
        hook(item=item)
