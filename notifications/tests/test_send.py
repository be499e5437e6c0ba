from __future__ import annotations

import pytest

from core.models import SystemConfig, get_config
from notifications.models import Channel, Kind, NotificationSend, NotificationTemplate
from notifications.services import notify
from notifications.tasks import MAX_RETRIES
from notifications.tests.conftest import run_send

pytestmark = pytest.mark.django_db

Status = NotificationSend.Status
CONTEXT = {"order_id": "D1", "total": "$10.00", "deadline": "내일", "url": "/my/orders/D1/"}


def push_notify(user, key="k1", **kwargs):
    return notify(
        user=user,
        kind=Kind.PAYMENT_REMINDER,
        context=CONTEXT,
        dedupe_key=key,
        channels=[Channel.PUSH],
        **kwargs,
    )


def test_notify_sends_after_commit(
    vapid, subscribe, shopper, push_server, django_capture_on_commit_callbacks
):
    subscribe(shopper)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        (send,) = push_notify(shopper)
        assert push_server.requests == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    send.refresh_from_db()
    assert (send.status, send.attempts) == (Status.SENT, 1)
    assert send.body == "주문 D1($10.00)의 입금 기한은 내일입니다."
    assert len(push_server.requests) == 1


def test_every_device_of_the_user_gets_it(vapid, subscribe, shopper, push_server):
    subscribe(shopper)
    subscribe(shopper)
    (send,) = push_notify(shopper)
    run_send(send.pk)
    assert len(push_server.requests) == 2


def test_a_sent_row_is_never_sent_again(vapid, subscribe, shopper, push_server):
    subscribe(shopper)
    (send,) = push_notify(shopper)
    run_send(send.pk)
    run_send(send.pk)
    assert push_notify(shopper) == [send]  # same key: the same row, no new send
    assert NotificationSend.objects.count() == 1
    assert len(push_server.requests) == 1


def test_5xx_is_retried_three_times_then_failed(vapid, subscribe, shopper, push_server):
    subscribe(shopper)
    push_server.default = 500
    (send,) = push_notify(shopper)
    run_send(send.pk)
    send.refresh_from_db()
    assert send.status == Status.FAILED
    assert send.attempts == 1 + MAX_RETRIES
    assert len(push_server.requests) == 1 + MAX_RETRIES
    assert "500" in send.error


def test_5xx_then_success_is_sent(vapid, subscribe, shopper, push_server):
    subscribe(shopper)
    push_server.responses = [502, 201]
    (send,) = push_notify(shopper)
    run_send(send.pk)
    send.refresh_from_db()
    assert (send.status, send.attempts, send.error) == (Status.SENT, 2, "")


def test_4xx_fails_without_retry(vapid, subscribe, shopper, push_server):
    subscribe(shopper)
    push_server.default = 400
    (send,) = push_notify(shopper)
    run_send(send.pk)
    send.refresh_from_db()
    assert (send.status, send.attempts) == (Status.FAILED, 1)
    assert len(push_server.requests) == 1


def test_410_deletes_the_subscription_and_fails(vapid, subscribe, shopper, push_server):
    subscription = subscribe(shopper)
    push_server.default = 410
    (send,) = push_notify(shopper)
    run_send(send.pk)
    send.refresh_from_db()
    assert (send.status, send.attempts) == (Status.FAILED, 1)
    assert not type(subscription).objects.filter(pk=subscription.pk).exists()


def test_skipped_with_reason(vapid, shopper, subscribe, push_server):
    (push, alimtalk) = notify(
        user=shopper, kind=Kind.PAYMENT_REMINDER, context=CONTEXT, dedupe_key="k"
    )
    assert (push.status, push.reason) == (Status.SKIPPED, "푸시 구독 없음")
    assert (alimtalk.status, alimtalk.reason) == (Status.SKIPPED, "알림톡 꺼짐")
    SystemConfig.objects.filter(pk=get_config().pk).update(alimtalk_enabled=True)
    from django.core.cache import cache

    cache.clear()
    shopper.phone = ""
    shopper.save()
    (alimtalk,) = notify(
        user=shopper,
        kind=Kind.PAYMENT_REMINDER,
        context=CONTEXT,
        dedupe_key="k2",
        channels=[Channel.ALIMTALK],
    )
    assert alimtalk.reason == "전화번호 없음"
    assert push_server.requests == []


def test_disabled_template_skips(vapid, subscribe, shopper, push_server):
    subscribe(shopper)
    NotificationTemplate.objects.create(
        name="입금 안내 푸시",
        kind=Kind.PAYMENT_REMINDER,
        channel=Channel.PUSH,
        title="t",
        body="b",
        enabled=False,
    )
    (send,) = push_notify(shopper)
    assert (send.status, send.reason) == (Status.SKIPPED, "템플릿 사용 안 함")


def test_stream_subscriptions_only_get_their_stream(vapid, subscribe, shopper, push_server):
    from live.models import LiveStream

    show = LiveStream.objects.create(title="금요 라이브")
    other = LiveStream.objects.create(title="토요 라이브")
    subscribe(shopper, stream=show)
    (send,) = push_notify(shopper, key="a", stream_id=other.pk)
    assert send.status == Status.SKIPPED
    (send,) = push_notify(shopper, key="b", stream_id=show.pk)
    run_send(send.pk)
    assert len(push_server.requests) == 1
