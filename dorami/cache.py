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
from functools import partial

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
        # (key, version) whose write or delete was dropped, to delete once Redis is back
        self._pending: dict[tuple[str, int | None], None] = {}
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

    def _remember(self, keys, version) -> None:
        with self._lock:
            for key in keys:
                self._pending[(key, version)] = None
            while len(self._pending) > self.PENDING_MAX:
                self._pending.pop(next(iter(self._pending)))

    def _flush_pending(self) -> None:
        with self._lock:
            pending = list(self._pending)
        by_version: dict[int | None, list[str]] = {}
        for key, version in pending:
            by_version.setdefault(version, []).append(key)
        try:
            for version, keys in by_version.items():
                super().delete_many(keys, version=version)
        except UNREACHABLE as exc:
            self._failed("invalidate", exc)
            return
        with self._lock:
            for entry in pending:
                self._pending.pop(entry, None)
        self._recovered()

    def _call(self, operation: str, default, call, written=(), version=None):
        """Run `call()`; on a Redis outage return `default` and remember the `written` keys."""
        if not self._available():
            self._remember(written, version)
            return default
        try:
            result = call()
        except UNREACHABLE as exc:
            self._failed(operation, exc)
            self._remember(written, version)
            return default
        self._recovered()
        return result

    # --- the cache API (reads miss, writes are dropped during an outage) --------------------
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        call = partial(super().add, key, value, timeout, version)
        return self._call("add", False, call, [key], version)

    def get(self, key, default=None, version=None):
        return self._call("get", default, partial(super().get, key, default, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        call = partial(super().set, key, value, timeout, version)
        self._call("set", None, call, [key], version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, partial(super().touch, key, timeout, version))

    def delete(self, key, version=None):
        return self._call("delete", False, partial(super().delete, key, version), [key], version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, partial(super().get_many, keys, version))

    def has_key(self, key, version=None):
        return self._call("has_key", False, partial(super().has_key, key, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        call = partial(super().set_many, data, timeout, version)
        return self._call("set_many", list(data), call, list(data), version)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        self._call("delete_many", None, partial(super().delete_many, keys, version), keys, version)

    def clear(self):
        return self._call("clear", False, super().clear)

    # `incr`/`decr` keep raising during an outage: a counter has no safe default.
