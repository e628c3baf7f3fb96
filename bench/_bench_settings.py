"""Settings of the load bench's server (bench/http_load.py): the platform's own, with the lookup rate limits lifted.

The bench drives 20 clients from one address (127.0.0.1) through two or three accounts as fast as the server
answers: thousands of ID-number searches a minute per account, which ``core.ratelimit`` rightly refuses from
a real user (60 per account, 240 per address in 10 minutes). The limits are counted all the same (the cache
increments stay in the measured cost); only the refusal is lifted. Nothing else differs from production.
"""

from yigongti.settings import *  # noqa: F403

_NO_LIMIT = 10**9
YIGONGTI_RATE_LIMITS = {"person_lookup": ((_NO_LIMIT, _NO_LIMIT), 600), "unmask": ((_NO_LIMIT, _NO_LIMIT), 3600)}

# Proposed for yigongti/settings.py (not yet there): Django's Redis backend builds a redis.Redis client object per
# cache command; core/redis_cache.py keeps one per connection pool. Used here when the tree has it, so that
# bench/endpoint_cpu.py and http_load.py measure it; an earlier tree (bench/endpoint_ab.sh) keeps Django's.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":  # noqa: F405
    import importlib.util

    if importlib.util.find_spec("yigongti.core.redis_cache") is not None:
        CACHES["default"]["BACKEND"] = "yigongti.core.redis_cache.RedisCache"  # noqa: F405
