"""The two storage areas for uploads, through Django's storage API (local folders or S3 buckets)."""
import secrets

from django.core.files.storage import Storage, storages


def quarantine_storage() -> Storage:
    """Every upload as received. Never served by URL: files leave only through a checked view."""
    return storages["quarantine"]


def published_storage() -> Storage:
    """Approved copies, metadata stripped where the type allows."""
    return storages["published"]


def random_name(extension: str) -> str:
    """A storage name that says nothing about the file or its owner, in a two-level fan-out."""
    token = secrets.token_hex(20)
    return f"{token[:2]}/{token}{extension}"
