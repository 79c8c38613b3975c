"""Start-up check: the policy names only licenses the SPDX list knows."""
from django.conf import settings
from django.core.checks import Error, register

from .registry import license_get


@register()
def licensing_policy_check(app_configs, **kwargs):
    errors = []
    for setting in ("LICENSING_DATA_LICENSES", "LICENSING_RESULT_LICENSES", "LICENSING_CODE_LICENSES"):
        values = list(getattr(settings, setting))
        if not values:
            errors.append(Error(f"{setting} is empty: allow at least one license.", id="licensing.E001"))
        for value in values:
            if not (setting == "LICENSING_CODE_LICENSES" and value == "osi") and license_get(value) is None:
                errors.append(Error(f"{setting} names {value!r}, which is not an SPDX license identifier.",
                                    id="licensing.E002"))
    if license_get(settings.LICENSING_CODE_DEFAULT) is None:
        errors.append(Error(f"LICENSING_CODE_DEFAULT {settings.LICENSING_CODE_DEFAULT!r} is not an SPDX license "
                            "identifier.", id="licensing.E002"))
    return errors
