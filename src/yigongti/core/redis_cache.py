"""Django's Redis cache with one client object per connection pool.

``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache
command; its constructor (response callbacks, options) costs ~0.1–0.3 ms of Python, and a page issues 5–10
commands (the session, rate-limit counters, cached choices and counts). A ``redis.Redis`` is thread-safe and
only wraps its pool, so one per pool serves every command. Settings: ``"BACKEND":
"yigongti.core.redis_cache.RedisCache"`` instead of ``django.core.cache.backends.redis.RedisCache``.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
