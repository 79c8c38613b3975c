"""What the anonymization app adds to the forum (see forum/extensions.py): its notification kinds."""
from .notifications import NOTIFICATION_KINDS


def notification_kinds() -> list:
    return NOTIFICATION_KINDS
