"""Personal API tokens: what scripts and other portals sign in with."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A named key a person made for a script, read-only or read-write, until they revoke it.

    Only the SHA-256 of the key is stored: tokens are 240 random bits, so a fast hash is as
    good as a slow one, and a stolen database gives nobody a working key. The prefix
    (the first characters of the key) tells tokens apart on the tokens page.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read: see what you can see on the site")
        WRITE = "write", _("Read and write: also post, claim and deliver as you")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("access"), max_length=5, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Made in a session that passed the second factor: roles that see private data need it
    # for their tokens too (forum.permissions.can_use_api_token).
    second_factor = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE
