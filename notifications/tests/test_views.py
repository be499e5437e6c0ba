from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from live.models import LiveStream
from notifications.models import PushSubscription
from notifications.tests.conftest import browser_keys

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/notifications/push/subscribe/"
UNSUBSCRIBE = "/notifications/push/unsubscribe/"


def subscription_json(endpoint="https://push.example.com/send/abc", **extra) -> dict:
    p256dh, auth = browser_keys()
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}, **extra}


@pytest.fixture
def client(shopper):
    client = Client()
    client.force_login(shopper)
    return client


def post(client, url, data):
    body = data if isinstance(data, (str, bytes)) else json.dumps(data)
    return client.post(url, body, content_type="application/json")


def test_urls_are_where_the_browser_expects_them():
    assert reverse("notifications:push-subscribe") == SUBSCRIBE
    assert reverse("notifications:push-unsubscribe") == UNSUBSCRIBE
    assert reverse("notifications:service-worker") == "/sw.js"


def test_subscribe_several_devices(client, shopper):
    first = post(client, SUBSCRIBE, subscription_json("https://push.example.com/a"))
    assert first.status_code == 201
    stream = LiveStream.objects.create(title="금요 라이브")
    second = post(
        client, SUBSCRIBE, subscription_json("https://push.example.com/b", stream_id=stream.pk)
    )
    assert second.status_code == 201
    rows = PushSubscription.objects.filter(user=shopper).order_by("endpoint")
    assert [(s.endpoint, s.stream_id) for s in rows] == [
        ("https://push.example.com/a", None),
        ("https://push.example.com/b", stream.pk),
    ]


def test_subscribing_again_updates_the_same_row(client):
    data = subscription_json()
    post(client, SUBSCRIBE, data)
    post(client, SUBSCRIBE, subscription_json())  # same endpoint, new keys
    assert PushSubscription.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        {"keys": {}},
        {"endpoint": "ftp://push.example.com/x", "keys": {"p256dh": "AA", "auth": "AA"}},
        {"endpoint": "https://push.example.com/x"},
        {"endpoint": "https://push.example.com/x", "keys": {"p256dh": "!!", "auth": "AAAA"}},
        {"endpoint": "https://push.example.com/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}},
        "stream_id",
        "missing stream",
    ],
)
def test_malformed_subscription_is_refused_and_nothing_stored(client, body):
    if body == "stream_id":
        body = subscription_json(stream_id="abc")
    elif body == "missing stream":
        body = subscription_json(stream_id=999999)
    response = post(client, SUBSCRIBE, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_SUBSCRIPTION"
    assert error["message"]
    assert not PushSubscription.objects.exists()


def test_login_and_csrf_required(shopper):
    anon = post(Client(), SUBSCRIBE, subscription_json())
    assert anon.status_code == 302 and "login" in anon["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(shopper)
    assert post(strict, SUBSCRIBE, subscription_json()).status_code == 403
    assert not PushSubscription.objects.exists()


def test_unsubscribe_only_own(client, shopper, user_factory):
    post(client, SUBSCRIBE, subscription_json("https://push.example.com/mine"))
    other = Client()
    other.force_login(user_factory(profile_complete=True))
    assert post(other, UNSUBSCRIBE, {"endpoint": "https://push.example.com/mine"}).json() == {
        "ok": True,
        "deleted": 0,
    }
    response = post(client, UNSUBSCRIBE, {"endpoint": "https://push.example.com/mine"})
    assert response.json()["deleted"] == 1
    assert post(client, UNSUBSCRIBE, "{}").status_code == 400


def test_service_worker_at_the_root():
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    assert "showNotification" in body and "openWindow" in body


def test_manifest_and_link(client):
    response = Client().get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] == "도라미"
    assert any(icon["src"].endswith("apple-touch-icon.png") for icon in data["icons"])
    assert '<link rel="manifest" href="/manifest.webmanifest">' in client.get("/").content.decode()


def test_public_key_is_served(settings):
    settings.VAPID_PUBLIC_KEY = "BPublicKey"
    assert Client().get("/notifications/push/key/").content == b"BPublicKey"
