"""The Redis cache backend (config/redis_cache.py) against the real Redis: one client per pool,
shared by threads, as Django's own backend behaves."""
import threading

import pytest
from django.core.cache import caches

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_one_client_serves_every_call_and_every_thread():
    cache = caches["default"]  # config/settings_test.py: this backend on Redis when REDIS_URL is set
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is client  # one server: reads and writes share its pool

    failures = []

    def work(n):
        try:
            for i in range(50):
                cache.set(f"synthetic-thread-{n}-{i}", (n, i), 30)
                assert cache.get(f"synthetic-thread-{n}-{i}") == (n, i)
            assert cache.get_many([f"synthetic-thread-{n}-{i}" for i in range(3)]) == {
                f"synthetic-thread-{n}-{i}": (n, i) for i in range(3)
            }
        except Exception as error:  # noqa: BLE001 - reported below, with the thread's number
            failures.append((n, error))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert cache._cache.get_client() is client
    assert type(cache._cache).__name__ == "SharedClientRedisCacheClient"
