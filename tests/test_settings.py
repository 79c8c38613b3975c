import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import _redis_db_url


def test_cache_and_broker_use_separate_redis_databases():
    assert _redis_db_url("redis://redis:6379/0", 1) == "redis://redis:6379/1"
    assert _redis_db_url("redis://:secret@redis:6379", 1) == "redis://:secret@redis:6379/1"


@pytest.mark.parametrize("url", ["redis://redis:6379/15", "unix:///run/redis.sock"])
def test_unusable_redis_url_is_explained(url):
    with pytest.raises(ImproperlyConfigured, match="database number"):
        _redis_db_url(url, 1)


def test_upload_storages_are_two_private_folders_without_urls(tmp_path):
    from config.settings import _upload_storage

    storage = _upload_storage("", tmp_path / "quarantine")
    assert storage["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert storage["OPTIONS"]["base_url"] is None and storage["OPTIONS"]["file_permissions_mode"] == 0o600


def test_upload_storages_use_private_s3_buckets_when_named(monkeypatch, tmp_path):
    """Production's buckets go through django-storages; objects are private and links signed."""
    from django.utils.module_loading import import_string

    from config.settings import _upload_storage

    monkeypatch.setenv("S3_ENDPOINT_URL", "https://objects.example.invalid")
    config = _upload_storage("helpdesk-quarantine", tmp_path)
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    assert config["OPTIONS"]["default_acl"] == "private" and config["OPTIONS"]["querystring_auth"] is True
    backend = import_string(config["BACKEND"])(**config["OPTIONS"])  # no network until a file is touched
    assert backend.bucket_name == "helpdesk-quarantine" and backend.endpoint_url == "https://objects.example.invalid"
