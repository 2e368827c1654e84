"""The cache: Redis through django-redis, with this process's memory standing in while Redis
cannot be reached.

An identity provider must keep signing people in when Redis stops. Every cache call that
finds Redis unreachable (refused, reset, timed out) is answered from a local-memory cache
with the same keys instead of raising, and for `CACHE_OUTAGE_RETRY_SECONDS` the calls go
there without trying Redis (so that no request waits on a dead socket twice). Then Redis is
tried again, and once it answers, everything is back on it, without a restart.

What lives in the cache is counters (lockout, rate limits), short-lived codes' limits and the
process caches' generations: sessions and tokens are in PostgreSQL and are not touched. While
Redis is out each process counts on its own, so callers that guard secrets (the lockout)
use stricter limits then: see `redis_outage()` and README's "When Redis stops".

Each outage is logged when it starts and ends (logger `ciam.cache`) and counted in
`outages_total` and `fallback_calls_total`, and in Prometheus's `ciam_cache_redis_outages_total`,
`ciam_cache_fallback_calls_total` and `ciam_cache_redis_outage` (ciam/metrics.py).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import zlib

import redis
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache

from ciam import metrics

logger = logging.getLogger("ciam.cache")

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, socket.timeout)

_METHODS = (
    "add", "get", "set", "touch", "delete", "get_many", "set_many", "delete_many", "has_key",
    "incr", "decr", "clear",
)  # fmt: skip


class _Outage:
    """Whether Redis is out, for every thread of the process: Django builds a cache object
    per thread, but an outage, the memory that stands in for Redis and its locks are the
    process's (a count made by one thread must hold for the next request, whichever thread
    serves it)."""

    def __init__(self):
        self.down_until = 0.0
        self.down_since: float | None = None
        self.lock = threading.Lock()
        # Striped: a lock per key would grow with every email typed during a long outage.
        self.key_locks = [threading.Lock() for _ in range(64)]
        self.outages_total = 0
        self.fallback_calls_total = 0


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(server: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(server, _Outage())


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        location = server if isinstance(server, str) else ",".join(server)
        local_params = {key: value for key, value in params.items() if key != "OPTIONS"}
        # LocMemCache keeps its entries per name, for the whole process: every thread's cache
        # object shares this memory.
        self.local = LocMemCache(f"redis-outage:{location}", local_params)
        self._outage = _outage_for(location)

    @property
    def outages_total(self) -> int:
        return self._outage.outages_total

    @property
    def fallback_calls_total(self) -> int:
        return self._outage.fallback_calls_total

    # What the outage looks like to callers

    def in_outage(self) -> bool:
        """True while this process counts on its own: Redis failed and has not answered
        since."""
        return self._outage.down_since is not None

    def outage_begin(self, error: BaseException) -> None:
        """Called on a Redis error from any caller: the cache answers from memory for a
        while."""
        retry = getattr(settings, "CACHE_OUTAGE_RETRY_SECONDS", 2.0)
        outage = self._outage
        with outage.lock:
            outage.down_until = time.monotonic() + retry
            if outage.down_since is None:
                outage.down_since = time.monotonic()
                outage.outages_total += 1
                metrics.REDIS_OUTAGES.inc()
                metrics.REDIS_IN_OUTAGE.set(1)
                logger.error(
                    "Redis unreachable (%s): counting in this process's memory until it "
                    "answers again",
                    error.__class__.__name__,
                )

    def _outage_end(self) -> None:
        outage = self._outage
        with outage.lock:
            if outage.down_since is None:
                return
            lasted = time.monotonic() - outage.down_since
            outage.down_since = None
            outage.down_until = 0.0
        metrics.REDIS_IN_OUTAGE.set(0)
        logger.warning("Redis answers again after %.1f s: counting there again", lasted)

    def skip_redis(self) -> bool:
        """Inside the retry pause of an outage: do not try Redis now."""
        outage = self._outage
        return outage.down_since is not None and time.monotonic() < outage.down_until

    def _call(self, name, *args, **kwargs):
        if not self.skip_redis():
            try:
                result = getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE as error:
                self.outage_begin(error)
            else:
                if self._outage.down_since is not None:
                    self._outage_end()
                return result
        self._outage.fallback_calls_total += 1
        metrics.REDIS_FALLBACK_CALLS.inc()
        return getattr(self.local, name)(*args, **kwargs)

    def lock(self, key, **kwargs):
        """django-redis's lock, or a lock of this process while Redis is out."""
        return _ResilientLock(self, key, kwargs)

    def local_lock(self, key: str) -> threading.Lock:
        locks = self._outage.key_locks
        return locks[zlib.crc32(key.encode()) % len(locks)]


def _delegate(name):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    return method


for _name in _METHODS:
    setattr(ResilientRedisCache, _name, _delegate(_name))


class _ResilientLock:
    """A context manager: Redis's lock (across processes), or while Redis is out one of this
    process's (the only processes it could exclude are unreachable anyway)."""

    def __init__(self, cache: ResilientRedisCache, key: str, options: dict):
        self.cache, self.key, self.options = cache, key, options
        self._redis_lock = None
        self._local_lock: threading.Lock | None = None

    def __enter__(self):
        if not self.cache.skip_redis():
            try:
                lock = RedisCache.lock(self.cache, self.key, **self.options)
                lock.__enter__()
            except UNREACHABLE as error:
                self.cache.outage_begin(error)
            else:
                self._redis_lock = lock
                return lock
        local = self.cache.local_lock(self.key)
        if not local.acquire(timeout=self.options.get("blocking_timeout") or -1):
            raise redis.exceptions.LockError("Unable to acquire lock within the time specified")
        self._local_lock = local
        return local

    def __exit__(self, *exc_info):
        if self._local_lock is not None:
            self._local_lock.release()
            self._local_lock = None
            return False
        lock, self._redis_lock = self._redis_lock, None
        with contextlib.suppress(*UNREACHABLE, redis.exceptions.LockError):
            lock.__exit__(*exc_info)  # an expired or unreachable lock has let go by itself
        return False
