"""Factories for people and forum content. All data is obviously synthetic."""
import time

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

from forum import services
from forum.models import Category, User
from forum.permissions import SELF_SERVICE_ROLES
from forum.selectors import terms_current

PASSWORD = "correct-horse-battery-staple-42"
TOTP_PERIOD = 30  # allauth's default MFA_TOTP_PERIOD


def current_totp_code(secret):
    """The code an authenticator app shows now. A code read in the last seconds of its window can
    reach the server in the next one and be refused ("Incorrect code."), so wait for a fresh one."""
    left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if left < 5:
        time.sleep(left + 0.2)
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


class UserFactory(factory.django.DjangoModelFactory):
    """A verified person who accepted the current terms, at trust level 1 (basic) unless told;
    `roles` and `totp` are optional."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"testuser{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    display_name = factory.Sequence(lambda n: f"Jane Testpatient {n}")
    # People in tests have taken part a little (basic); new members are made with trust_level=0.
    trust_level = 1

    @classmethod
    def _create(cls, model_class, *args, roles=(), totp=False, accept_terms=True, verified=True, **kwargs):
        user = model_class.objects.create_user(*args, password=PASSWORD, **kwargs)
        EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
        self_service = [r for r in roles if r in SELF_SERVICE_ROLES]
        services.user_set_self_service_roles(user=user, roles=self_service)
        for role in roles:
            if role not in SELF_SERVICE_ROLES:
                services.role_grant(actor=None, user=user, role=role)
        if accept_terms:
            services.terms_accept(user=user, terms_version=terms_current())
        secret = None
        if totp:
            secret = generate_totp_secret()
            TOTP.activate(user, secret)
        user = User.objects.get(pk=user.pk)
        user.totp_secret = secret
        return user


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    @classmethod
    def _create(cls, model_class, *args, private=False, **kwargs):
        kwargs.setdefault("slug", f"category-{model_class.objects.count() + 1}")
        kwargs.setdefault("name", kwargs["slug"].replace("-", " ").title())
        if private:
            kwargs.update(
                security=Category.Security.PRIVATE,
                group_names=("Moderators", "Anonymization team"),
                members_start_private_topics=True,
            )
        return services.category_create(**kwargs)


class TopicFactory:
    """Topics are made through the service so their first post is rendered like a real one."""

    def __new__(cls, *, category, author, title="A synthetic request", raw="Synthetic data only."):
        return services.topic_create(actor=author, category=category, title=title, raw=raw)
