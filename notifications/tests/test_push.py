from __future__ import annotations

import pytest
from django.core.management import call_command

from notifications.errors import SendError, SubscriptionGone
from notifications.models import PushSubscription
from notifications.push import push_send

pytestmark = pytest.mark.django_db


def test_push_reaches_the_push_service_signed_and_encrypted(vapid, subscribe, shopper, push_server):
    subscription = subscribe(shopper)
    push_send(subscription=subscription, payload={"title": "입금 안내", "body": "본문", "url": "/"})
    assert len(push_server.requests) == 1
    request = push_server.requests[0]
    assert request.method == "POST"
    assert request.path == subscription.endpoint.removeprefix(push_server.url)
    assert request.headers["authorization"].startswith("vapid t=")
    assert request.headers["content-encoding"] == "aes128gcm"
    assert "입금 안내".encode() not in request.body  # encrypted
    subscription.refresh_from_db()
    assert subscription.last_success_at is not None


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscription_is_deleted(vapid, subscribe, shopper, push_server, status):
    subscription = subscribe(shopper)
    push_server.default = status
    with pytest.raises(SubscriptionGone):
        push_send(subscription=subscription, payload={"title": "t", "body": "b"})
    assert not PushSubscription.objects.filter(pk=subscription.pk).exists()


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (400, False)])
def test_errors_are_retryable_or_not(vapid, subscribe, shopper, push_server, status, retryable):
    subscription = subscribe(shopper)
    push_server.default = status
    with pytest.raises(SendError) as caught:
        push_send(subscription=subscription, payload={"title": "t", "body": "b"})
    assert caught.value.retryable is retryable
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()


def test_network_error_is_retryable(vapid, subscribe, shopper, push_server):
    subscription = subscribe(shopper)
    push_server.stop()
    with pytest.raises(SendError) as caught:
        push_send(subscription=subscription, payload={"title": "t", "body": "b"})
    assert caught.value.retryable is True
    push_server.start()  # the fixture stops it again


def test_generate_vapid_keys_prints_a_usable_pair(settings, subscribe, shopper, push_server):
    from io import StringIO

    out = StringIO()
    call_command("generate_vapid_keys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().split())
    assert set(lines) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY"}
    settings.VAPID_PUBLIC_KEY = lines["VAPID_PUBLIC_KEY"]
    settings.VAPID_PRIVATE_KEY = lines["VAPID_PRIVATE_KEY"]
    push_send(subscription=subscribe(shopper), payload={"title": "t", "body": "b"})
    assert (
        push_server.requests[0].headers["authorization"].endswith("k=" + lines["VAPID_PUBLIC_KEY"])
    )
