"""Telling people about reviews through forum notifications. They say only that there is
something to read, with a link; never a file name, a title, a finding or a message."""
from forum import services as forum_services
from forum.models import User
from forum.permissions import Role, role_holders_q


def notify(recipient, kind: str, upload, key: str) -> None:
    """Tell `recipient` once per `key`, in the caller's transaction (email after commit, if wanted)."""
    if recipient is None or not recipient.is_active:
        return
    forum_services.notify(user=recipient, kind=kind, key=f"review:{key}", url=upload.get_absolute_url())


def team_members() -> list:
    """Everyone who triages: the anonymization team, or the moderators if the team is empty."""
    team = list(User.objects.filter(role_holders_q(Role.ANONYMIZATION), is_active=True))
    return team or list(User.objects.filter(role_holders_q(Role.MODERATOR), is_active=True))
