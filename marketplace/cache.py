"""A cache that keeps working when Redis does not answer.

allauth's rate limits take a lock in the cache; with Redis down and errors ignored the lock is never taken and
every login is refused (429), and with errors raised every login is a 500. Instead, this backend uses Redis
while it answers and the database cache while it does not, so rate limits stay on during an outage. After a
failure Redis is left alone for a short while (a circuit breaker), so a request does not wait on it again and
again.
"""

import logging
import time

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_FAILURES = (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError, OSError)


class FailoverCache(BaseCache):
    retry_after = 30.0  # seconds during which a Redis that failed is not asked again
    _down_until = 0.0  # shared by every instance in the process

    def __init__(self, location, params):
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._primary_alias = options["PRIMARY"]
        self._fallback_alias = options["FALLBACK"]

    def _call(self, method: str, *args, **kwargs):
        if time.monotonic() >= FailoverCache._down_until:
            try:
                return getattr(caches[self._primary_alias], method)(*args, **kwargs)
            except _FAILURES as error:
                FailoverCache._down_until = time.monotonic() + self.retry_after
                logger.warning(
                    "Cache %s failed (%s); using %s for %ss",
                    self._primary_alias,
                    error,
                    self._fallback_alias,
                    self.retry_after,
                )
        return getattr(caches[self._fallback_alias], method)(*args, **kwargs)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout=timeout, version=version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default=default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout=timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout=timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", key, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout=timeout, version=version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version=version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta=delta, version=version)

    def decr(self, key, delta=1, version=None):
        return self._call("decr", key, delta=delta, version=version)

    def clear(self):
        return self._call("clear")
