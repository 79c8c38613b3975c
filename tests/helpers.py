"""Helpers shared by tests."""
import time

from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)


def sign_in(client, user):
    """Sign `user` in as a full allauth sign-in would, with the second factor when they have one."""

    client.force_login(user)
    session = client.session
    records = [{"method": "password", "at": time.time(), "email": user.email}]
    if getattr(user, "totp_secret", None):
        records.append({"method": "mfa", "at": time.time(), "type": "totp"})
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()


def html_element_around(html: str, text: str, tag: str) -> str:
    """The `<tag>` element of `html` that holds `text` (a list row: `tr` or `li`), up to its end."""
    start = html.index(text)
    return html[html.rindex(f"<{tag}", 0, start):html.index(f"</{tag}>", start)]
