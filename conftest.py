"""Project-wide test fixtures. Tests run on real PostgreSQL and Redis (see Makefile)."""

import os

import pytest

os.environ.setdefault("DORAMI_TESTING", "1")


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Each test starts with an empty cache/Redis database (sequence numbers, rate limits)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    """Uploaded and generated files (product pictures) go to a temporary directory."""
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


@pytest.fixture
def user_factory(db):
    from accounts.tests.factories import UserFactory

    return UserFactory


@pytest.fixture
def shopper(db):
    """A logged-in-able shopper with a complete profile."""
    from accounts.tests.factories import UserFactory

    return UserFactory(profile_complete=True)


@pytest.fixture
def staff_user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True, profile_complete=True)


@pytest.fixture
def shopper_client(client, shopper):
    client.force_login(shopper)
    client.user = shopper
    return client


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.user = staff_user
    return client


# --- A Redis of the test's own (to stop and restart; never the shared one) ------------------
class OwnRedis:
    """A `redis-server` child on a free port with no persistence: `stop()` kills it (its data is
    gone, like a crashed Redis), `stop(keep_data=True)` shuts it down saving a snapshot that the
    next `start()` loads (a Redis that was only unreachable), `start()` brings it back."""

    def __init__(self, workdir):
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        import subprocess
        import time

        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--dbfilename", "own.rdb"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("own redis-server did not start") from None
                time.sleep(0.05)
        client.close()

    def stop(self, *, keep_data: bool = False) -> None:
        import contextlib

        import redis

        if self.process is None:
            return
        if keep_data:
            client = redis.Redis(port=self.port)
            with contextlib.suppress(redis.exceptions.ConnectionError):  # closed as it exits
                client.shutdown(save=True)
        else:
            self.process.kill()
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(settings, tmp_path):
    """Point the cache, sessions, channel layer and realtime hub at a Redis this test owns."""
    server = OwnRedis(tmp_path)
    server.start()
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "dorami.cache.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "dorami",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 3},
        },
        "fragments": settings.CACHES["fragments"],
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": server.url, "socket_timeout": 5}], "prefix": "dorami"},
        }
    }
    yield server
    server.stop()


@pytest.fixture
def warm_site_cache(db):
    """What every shopper page reads from the cache in steady state (the footer's SystemConfig,
    the notices), loaded before a query count is pinned."""
    from core.notices import shopper_notices

    shopper_notices()
