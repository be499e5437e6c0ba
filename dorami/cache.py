"""Django's Redis cache, minus a client object per call, and never failing a page over Redis.

Reuse: `django.core.cache.backends.redis.RedisCacheClient.get_client` builds a new `redis.Redis`
around the shared connection pool for every cache operation; with redis-py 8 that constructor
fills a table of ~170 response callbacks each time, a tenth of a request's CPU on the cart hot
path (every request loads its session from the cache). A `redis.Redis` is thread-safe, so one
per pool is kept and reused.

Outage: the cache is an accelerator, never the record. When Redis cannot be reached every read
is a miss and every write is dropped (logged), so `cached_db` sessions fall back to the
database and a logged-in user stays logged in. After a failure the process skips Redis for
`RETRY_AFTER` seconds (no connect attempt per call while it is down). Keys whose write or
delete was dropped are remembered (up to `PENDING_MAX`) and deleted once Redis answers again,
so a Redis that kept its data through the outage cannot serve a stale copy (a session that
was logged out, a config that changed) — the next read goes to the database.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(index))
            self._clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    RETRY_AFTER = 1.0  # seconds without trying Redis after a failed call
    PENDING_MAX = 10_000  # keys to invalidate once Redis is back (beyond: the oldest are lost)

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
        self._down_until = 0.0
        self._pending: dict[str, None] = {}  # raw keys whose write/delete was dropped
        self._lock = threading.Lock()

    # --- outage bookkeeping -----------------------------------------------------------------
    def _available(self) -> bool:
        if self._down_until > time.monotonic():
            return False
        if self._pending:
            self._flush_pending()
        return self._down_until <= time.monotonic()

    def _failed(self, operation: str, exc: Exception) -> None:
        first = self._down_until == 0.0
        self._down_until = time.monotonic() + self.RETRY_AFTER
        log = logger.warning if first else logger.debug
        log("cache unavailable op=%s error=%s", operation, type(exc).__name__)

    def _recovered(self) -> None:
        if self._down_until:
            self._down_until = 0.0
            logger.warning("cache available again")

    def _remember(self, raw_keys) -> None:
        with self._lock:
            for raw in raw_keys:
                self._pending[raw] = None
            while len(self._pending) > self.PENDING_MAX:
                self._pending.pop(next(iter(self._pending)))

    def _flush_pending(self) -> None:
        with self._lock:
            raw_keys = list(self._pending)
        try:
            self._cache.get_client(write=True).delete(*raw_keys)
        except UNREACHABLE as exc:
            self._failed("invalidate", exc)
            return
        with self._lock:
            for raw in raw_keys:
                self._pending.pop(raw, None)
        self._recovered()

    def _call(self, operation: str, default, call, written=()):
        """Run `call()`; on a Redis outage return `default` and remember `written` keys."""
        if not self._available():
            self._remember(written)
            return default
        try:
            result = call()
        except UNREACHABLE as exc:
            self._failed(operation, exc)
            self._remember(written)
            return default
        self._recovered()
        return result

    # --- the cache API (reads miss, writes are dropped during an outage) --------------------
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        base, raw = super(), self.make_and_validate_key(key, version=version)
        return self._call("add", False, lambda: base.add(key, value, timeout, version), [raw])

    def get(self, key, default=None, version=None):
        base = super()
        return self._call("get", default, lambda: base.get(key, default, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        base, raw = super(), self.make_and_validate_key(key, version=version)
        self._call("set", None, lambda: base.set(key, value, timeout, version), [raw])

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        base = super()
        return self._call("touch", False, lambda: base.touch(key, timeout, version))

    def delete(self, key, version=None):
        base, raw = super(), self.make_and_validate_key(key, version=version)
        return self._call("delete", False, lambda: base.delete(key, version), [raw])

    def get_many(self, keys, version=None):
        base = super()
        return self._call("get_many", {}, lambda: base.get_many(keys, version))

    def has_key(self, key, version=None):
        base = super()
        return self._call("has_key", False, lambda: base.has_key(key, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        base = super()
        raws = [self.make_and_validate_key(key, version=version) for key in data]
        return self._call(
            "set_many", list(data), lambda: base.set_many(data, timeout, version), raws
        )

    def delete_many(self, keys, version=None):
        base, keys = super(), list(keys)
        raws = [self.make_and_validate_key(key, version=version) for key in keys]
        self._call("delete_many", None, lambda: base.delete_many(keys, version), raws)

    def clear(self):
        base = super()
        return self._call("clear", False, lambda: base.clear())

    # `incr`/`decr` keep raising during an outage: a counter has no safe default.
