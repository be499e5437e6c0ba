"""Django's Redis cache, minus a client object per call.

`django.core.cache.backends.redis.RedisCacheClient.get_client` builds a new `redis.Redis` around
the shared connection pool for every cache operation; with redis-py 8 that constructor fills a
table of ~170 response callbacks each time, a tenth of a request's CPU on the cart hot path
(every request loads its session from the cache). A `redis.Redis` is thread-safe, so one per
pool is kept and reused.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
