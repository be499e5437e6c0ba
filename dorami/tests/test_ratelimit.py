"""Abuse limits (dorami/ratelimit.py): the counters, the 429 answers, and every limited door
outside the shop (checkout, profile save, media webhooks, the admin's password login)."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from dorami import ratelimit
from dorami.ratelimit import Caller

KOREAN = "요청이 너무 많습니다"


@pytest.fixture
def limits(settings):
    """Set small limits: `limits(name=((scope, count, seconds), ...))`."""

    def set_limits(**rules):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rules}

    return set_limits


def assert_limited_json(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 2 * 3600
    error = response.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert KOREAN in error["message"]
    assert f"{response['Retry-After']}초" in error["message"]


def assert_limited_page(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response["Content-Type"].startswith("text/html")
    assert KOREAN in response.content.decode()


# --- the counters ---------------------------------------------------------------------------


def test_each_rule_counts_its_own_scope(limits):
    limits(demo=(("user", 2, 60), ("ip", 3, 60)))
    # given three users on one address
    first, second, third = (Caller(user_id=n, ip="10.0.0.1") for n in (1, 2, 3))
    # then each user gets 2, and the address 3 in all
    assert ratelimit.hit("demo", first) is None
    assert ratelimit.hit("demo", first) is None
    assert ratelimit.hit("demo", second) is None
    assert ratelimit.hit("demo", third).scope == "ip"
    assert ratelimit.hit("demo", first).scope == "user"
    assert ratelimit.hit("demo", Caller(user_id=3, ip="10.0.0.2")) is None  # another address


def test_an_ipv6_network_counts_as_one_address(limits):
    limits(demo=(("ip", 1, 60),))
    assert ratelimit.hit("demo", Caller(ip="2001:db8:1:2::1")) is None
    assert ratelimit.hit("demo", Caller(ip="2001:db8:1:2:ffff::9")) is not None
    assert ratelimit.hit("demo", Caller(ip="2001:db8:1:3::1")) is None
    assert ratelimit.address_key("::ffff:10.0.0.1") == "10.0.0.1"


def test_a_batch_is_counted_in_order(limits):
    limits(demo=(("user", 2, 60),))
    same = Caller(user_id=7, ip="10.0.0.1")
    answers = ratelimit.hit_many("demo", [same, same, Caller(user_id=8), same])
    assert [answer is None for answer in answers] == [True, True, True, False]


def test_peek_does_not_count(limits):
    limits(demo=(("account", 2, 60),))
    caller = Caller(ip="10.0.0.1", account="Admin@Example.com")
    for _ in range(5):
        assert ratelimit.peek("demo", caller) is None
    ratelimit.hit("demo", caller)
    ratelimit.hit("demo", Caller(account=" admin@example.com"))  # the same account, typed again
    assert ratelimit.peek("demo", caller).retry_after >= 1


def test_refused_requests_may_be_left_uncounted(limits):
    # given two users hammering a limit of 2: the chat's way (refusals not counted) and the
    # HTTP way (a script that keeps hammering stays refused longer)
    limits(demo=(("user", 2, 60),))
    quiet, loud = Caller(user_id=1), Caller(user_id=2)
    for _ in range(7):
        last_quiet = ratelimit.hit("demo", quiet, count_refused=False)
        last_loud = ratelimit.hit("demo", loud)
    assert last_quiet is not None and last_loud is not None
    assert last_quiet.retry_after < last_loud.retry_after


def test_limits_may_be_given_by_the_caller():
    caller = Caller(user_id=1)
    assert ratelimit.hit("chat", caller, limits=(("user", 1, 10),)) is None
    assert ratelimit.hit("chat", caller, limits=(("user", 1, 10),)) is not None
    assert ratelimit.hit("chat", caller, limits=(("user", 5, 0),)) is None  # no window: no limit


def test_retry_after_counts_down_to_when_one_more_fits(limits):
    limits(demo=(("user", 1, 10),))
    caller = Caller(user_id=1)
    assert ratelimit.hit("demo", caller) is None
    refusal = ratelimit.hit("demo", caller)
    # the window's count fades out over the next window: at most two windows
    assert 1 <= refusal.retry_after <= 20


def test_without_redis_the_counters_live_in_the_process(limits, settings):
    settings.REDIS_URL = ""
    limits(demo=(("user", 1, 60),))
    assert ratelimit.hit("demo", Caller(user_id=1)) is None
    assert ratelimit.hit("demo", Caller(user_id=1)) is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_redis_unreachable_allows_and_logs(limits, settings, caplog):
    # given a Redis address where nothing listens
    settings.REDIS_URL = f"redis://127.0.0.1:{_free_port()}/0"
    limits(demo=(("user", 1, 60),))
    with caplog.at_level(logging.WARNING, logger="dorami.ratelimit"):
        answers = [ratelimit.hit("demo", Caller(user_id=1)) for _ in range(3)]
    assert answers == [None, None, None]  # fails open
    # logged once: after a failure Redis is left alone for a few seconds
    assert [r.getMessage() for r in caplog.records] == [
        "ratelimit.unavailable limit=demo action=allow retry_in=5.0s"
    ]


def test_limits_can_be_read_from_the_environment():
    from dorami.settings import _rate_limits_override

    assert _rate_limits_override("cart_add=user:3/60,ip:50/60; checkout=user:1/10") == {
        "cart_add": (("user", 3, 60), ("ip", 50, 60)),
        "checkout": (("user", 1, 10),),
    }


# --- checkout and profile save --------------------------------------------------------------


def test_checkout_posts_are_limited_per_user(limits, shopper_client):
    limits(checkout=(("user", 2, 60),))
    url = reverse("orders:checkout")
    for _ in range(2):
        assert shopper_client.post(url, {}).status_code == 400  # counted, the form refused
    assert_limited_page(shopper_client.post(url, {}))
    assert shopper_client.get(url).status_code == 200  # looking is not limited
    assert_limited_json(shopper_client.post(url, {}, headers={"HX-Request": "true"}))


def test_checkout_is_limited_per_address(limits, db):
    limits(checkout=(("ip", 2, 60),))
    url = reverse("orders:checkout")
    for _ in range(2):
        client = Client(REMOTE_ADDR="10.1.1.1")
        client.force_login(UserFactory(profile_complete=True))
        assert client.post(url, {}).status_code == 400
    client = Client(REMOTE_ADDR="10.1.1.1")
    client.force_login(UserFactory(profile_complete=True))
    assert_limited_page(client.post(url, {}))
    other = Client(REMOTE_ADDR="10.1.1.2")
    other.force_login(UserFactory(profile_complete=True))
    assert other.post(url, {}).status_code == 400


@pytest.mark.parametrize("name", ["accounts:profile-edit", "accounts:profile-register"])
def test_profile_saves_are_limited_per_user(limits, shopper_client, name):
    limits(profile_save=(("user", 1, 60),))
    url = reverse(name)
    assert shopper_client.post(url, {"name": ""}).status_code == 400
    assert_limited_page(shopper_client.post(url, {"name": ""}))
    assert_limited_json(
        shopper_client.post(url, {"name": ""}, headers={"Accept": "application/json"})
    )
    assert shopper_client.get(url).status_code == 200


# --- media webhooks -------------------------------------------------------------------------


def test_media_webhooks_are_limited_per_address(limits, settings, db):
    settings.MEDIA_WEBHOOK_SECRET = "s"
    limits(media_webhook=(("ip", 2, 60),))
    client = Client()
    url = "/api/v1/media/srs/on_publish?secret=wrong"
    for _ in range(2):
        assert client.post(url, "{}", content_type="application/json").status_code == 403
    response = client.post(url, "{}", content_type="application/json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    body = json.loads(response.content)
    assert body["error"] == "RATE_LIMITED" and KOREAN in body["message"]
    other = client.post(url, "{}", content_type="application/json", REMOTE_ADDR="10.0.0.3")
    assert other.status_code == 403  # another address: its own count


# --- password logins ------------------------------------------------------------------------


@pytest.fixture
def admin_user(db):
    user = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    user.set_password("right-password")
    user.save()
    return user


def admin_login(client, email, password, **extra):
    data = {"username": email, "password": password, "next": "/admin/"}
    return client.post(reverse("admin:login"), data, **extra)


def test_admin_login_locks_an_address_after_repeated_failures(limits, admin_user):
    limits(login_failure=(("ip", 3, 900), ("account", 100, 900)))
    client = Client()
    for n in range(3):
        assert admin_login(client, f"guess{n}@example.com", "nope").status_code == 200
    # then even the right password is not checked from that address
    assert_limited_page(admin_login(client, "boss@example.com", "right-password"))
    assert not client.session.get("_auth_user_id")
    # another address may still log in
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert admin_login(other, "boss@example.com", "right-password").status_code == 302


def test_admin_login_locks_an_account_tried_from_many_addresses(limits, admin_user):
    limits(login_failure=(("ip", 100, 900), ("account", 3, 900)))
    for n in range(3):
        client = Client(REMOTE_ADDR=f"10.2.0.{n}")
        assert admin_login(client, "BOSS@example.com", "nope").status_code == 200
    client = Client(REMOTE_ADDR="10.2.0.99")
    assert_limited_page(admin_login(client, "boss@example.com", "right-password"))
    # other accounts are not locked
    assert admin_login(client, "someone@example.com", "nope").status_code == 200


def test_admin_login_successes_do_not_count(limits, admin_user):
    limits(login_failure=(("ip", 2, 900), ("account", 2, 900)))
    for _ in range(4):
        client = Client()
        assert admin_login(client, "boss@example.com", "right-password").status_code == 302
    assert Client().get(reverse("admin:login")).status_code == 200


def test_admin_site_is_the_limited_one():
    from django.contrib import admin

    from adminpanel.site import DoramiAdminSite

    assert isinstance(admin.site, DoramiAdminSite)


def test_allauth_password_views_answer_with_the_korean_429_page(rf):
    from allauth.core.ratelimit import respond_429

    request = rf.get("/accounts/reauthenticate/")
    response = respond_429(request)
    assert response.status_code == 429
    assert KOREAN in response.content.decode()
