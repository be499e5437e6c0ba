"""A Redis outage degrades the site, never 500s it: pages answer, users stay logged in,
readiness reports Redis, and a Redis that comes back (empty or not) is used again.

Each test runs its own redis-server (`own_redis`) and stops it; the shared one is never touched.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from live.models import ChatMessage, LiveStream
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(shopper):
    stream = LiveStream.objects.create(
        title="금요 라이브", status=LiveStream.Status.LIVE, started_at=timezone.now()
    )
    product = ProductFactory(stream=stream, name="니트")
    VariantFactory(product=product, stock=3)
    ChatMessage.objects.create(stream=stream, user=shopper, display_name="민지", body="안녕하세요")
    return stream, product


def logged_in(response) -> bool:
    return response.wsgi_request.user.is_authenticated


def test_pages_answer_and_the_user_stays_logged_in_while_redis_is_down(
    own_redis, client, shopper, room
):
    # given: a logged-in shopper whose session is cached in Redis
    _stream, product = room
    client.force_login(shopper)
    watch = client.get("/live/")["Location"]  # the LIVE stream's page, whatever its URL
    assert client.get(watch).status_code == 200

    # when: Redis goes away
    own_redis.stop()

    # then: every page answers, as the same logged-in user
    for path in ("/", "/store/", f"/products/{product.pk}/", "/cart/", "/my/", watch):
        response = client.get(path)
        assert response.status_code == 200, path
        assert logged_in(response), path
    page = client.get(watch).content.decode()
    assert 'data-realtime="degraded"' in page and "재연결 중" in page
    assert "안녕하세요" in page  # the chat history comes from the database
    state = client.get(watch + "state/")
    assert state.status_code == 200
    body = state.json()
    assert body["viewers"] is None and body["realtime"] == "degraded" and body["epoch"] == ""
    assert [m["body"] for m in body["messages"]] == ["안녕하세요"]
    assert body["products"][0]["product_id"] == product.pk

    # and when Redis comes back empty, the session is still there (read from the database)
    own_redis.start()
    time.sleep(1.1)  # the cache retries Redis one second after its last failure
    response = client.get("/my/")
    assert response.status_code == 200 and logged_in(response)
    state = client.get(watch + "state/").json()
    assert state["realtime"] == "ok" and state["epoch"] and state["viewers"] == 0


def test_a_logout_during_the_outage_is_not_undone_by_a_redis_that_kept_its_data(
    own_redis, client, shopper
):
    # given: a session cached in a Redis that will keep its data through the outage
    client.force_login(shopper)
    assert logged_in(client.get("/my/"))
    cookie = client.cookies["sessionid"].value
    own_redis.stop(keep_data=True)

    # when: the user logs out while Redis is unreachable, and Redis comes back with the old copy
    client.post("/logout/")
    own_redis.start()
    time.sleep(1.1)
    client.cookies["sessionid"] = cookie  # the old cookie, replayed

    # then: the stale cached session is not honoured
    response = client.get("/my/")
    assert not logged_in(response)
    assert SESSION_KEY not in response.wsgi_request.session


def test_ready_answers_503_naming_redis_while_it_is_down(own_redis, client):
    assert client.get("/api/v1/health/ready").status_code == 200

    own_redis.stop()
    response = client.get("/api/v1/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failed"] == ["redis"]
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("fail")

    own_redis.start()
    assert client.get("/api/v1/health/ready").status_code == 200


def test_the_cache_misses_while_redis_is_down_and_forgets_what_changed_meanwhile(own_redis):
    from django.core.cache import cache

    cache.set("config", "old")
    cache.set("untouched", "kept")
    own_redis.stop(keep_data=True)

    # while down: reads miss, writes and deletes are dropped without an error
    assert cache.get("config", "miss") == "miss"
    assert cache.get_many(["config", "untouched"]) == {}
    cache.set("config", "new")
    assert cache.add("fresh", 1) is False
    with pytest.raises(RedisConnectionError):  # a counter has no safe default: it raises
        cache.incr("counter")

    # back with its old data: what changed during the outage is gone, the rest is kept
    own_redis.start()
    time.sleep(1.1)
    assert cache.get("config") is None
    assert cache.get("untouched") == "kept"
