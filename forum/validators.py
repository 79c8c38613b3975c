"""Validators shared by forms and models."""
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# Usernames appear in @mentions and URLs, so they keep to a plain, unambiguous alphabet.
username_validators = [
    RegexValidator(
        r"^[A-Za-z0-9_]{3,30}\Z",
        _("Use 3 to 30 letters, digits or underscores (no spaces, dots or @)."),
        code="invalid_username",
    ),
]
