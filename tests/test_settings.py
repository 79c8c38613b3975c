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
