"""Our hooks into django-allauth: what happens on verification, and 2FA rules."""
from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.http import Http404

from . import services
from .permissions import requires_mfa


class AccountAdapter(DefaultAccountAdapter):
    def confirm_email(self, request, email_address):
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            services.welcome_email_queue(user=email_address.user)
            if email_address.primary or email_address.email.lower() == email_address.user.email.lower():
                services.digest_subscription_for_account(user=email_address.user)
        return confirmed


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator):
        """People whose role requires two factors cannot switch TOTP off."""
        if authenticator.type == Authenticator.Type.TOTP and requires_mfa(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_app(self, request, provider, client_id=None):
        """A provider without configured keys does not exist here: 404, not a server error."""
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404 from None
