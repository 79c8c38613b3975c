"""Licensing's hook point: how the apps that own licensed items hear about holds and releases
(see forum/hooks.py for how hooks are declared, registered and checked).

A provider module registers with `LICENSING.register("<app>.licensing_hooks")` in its
AppConfig.ready. The hooks run inside the check's transaction, so what they write commits with it.
"""
from forum.hooks import Hook, HookPoint

LICENSING = HookPoint("licensing", [
    Hook("license_held", ("item",), "`item` was held (or is still held, with other problems): tell its author"),
    Hook("license_released", ("item",), "`item` follows the policy again"),
])


def license_held(*, item) -> None:
    for hook in LICENSING.providers("license_held"):
        hook(item=item)


def license_released(*, item) -> None:
    for hook in LICENSING.providers("license_released"):
        hook(item=item)
