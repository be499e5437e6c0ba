from __future__ import annotations

import pytest
from django.core.cache import cache

from core.models import SystemConfig, get_config
from notifications import alimtalk
from notifications.alimtalk import alimtalk_send
from notifications.errors import SendError
from notifications.models import Channel, Kind, NotificationSend, NotificationTemplate
from notifications.services import notify
from notifications.tasks import MAX_RETRIES
from notifications.tests.conftest import run_send

pytestmark = pytest.mark.django_db

Status = NotificationSend.Status


@pytest.fixture
def alimtalk_on():
    SystemConfig.objects.filter(pk=get_config().pk).update(alimtalk_enabled=True)
    cache.clear()


@pytest.fixture
def template():
    return NotificationTemplate.objects.create(
        name="입금 안내 알림톡",
        kind=Kind.PAYMENT_REMINDER,
        channel=Channel.ALIMTALK,
        provider_template_code="PAY_REMIND_01",
        body="{{name}}님, 주문 {{order_id}} 입금 기한은 {{deadline}}입니다.",
    )


def alimtalk_notify(user, key="k"):
    (send,) = notify(
        user=user,
        kind=Kind.PAYMENT_REMINDER,
        context={"name": "도라미", "order_id": "D7", "deadline": "내일"},
        dedupe_key=key,
        channels=[Channel.ALIMTALK],
    )
    return send


def test_client_posts_to_the_provider(alimtalk_server):
    message_id = alimtalk_send(phone="2135550100", template_code="T1", body="본문")
    (request,) = alimtalk_server.requests
    assert request.path == "/v1/messages"
    assert request.headers["authorization"] == "Bearer test-api-key"
    assert request.json() == {
        "sender_key": "test-sender-key",
        "template_code": "T1",
        "phone": "2135550100",
        "message": "본문",
    }
    assert message_id == "m-1"


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (429, True), (400, False)])
def test_client_errors(alimtalk_server, status, retryable):
    alimtalk_server.default = status
    with pytest.raises(SendError) as caught:
        alimtalk_send(phone="1", template_code="T1", body="b")
    assert caught.value.retryable is retryable


def test_client_timeout_is_retryable(alimtalk_server, monkeypatch):
    monkeypatch.setattr(alimtalk, "ALIMTALK_READ_TIMEOUT", 0.3)
    alimtalk_server.responses = ["timeout"]
    with pytest.raises(SendError) as caught:
        alimtalk_send(phone="1", template_code="T1", body="b")
    assert caught.value.retryable is True


def test_send_through_the_task(alimtalk_server, alimtalk_on, template, shopper):
    shopper.phone = "2135550100"
    shopper.save()
    send = alimtalk_notify(shopper)
    run_send(send.pk)
    send.refresh_from_db()
    assert (send.status, send.provider_id) == (Status.SENT, "m-1")
    (request,) = alimtalk_server.requests
    assert request.json()["template_code"] == "PAY_REMIND_01"
    assert request.json()["message"] == "도라미님, 주문 D7 입금 기한은 내일입니다."


def test_provider_500_is_retried_then_failed(alimtalk_server, alimtalk_on, template, shopper):
    shopper.phone = "2135550100"
    shopper.save()
    alimtalk_server.default = 500
    send = alimtalk_notify(shopper)
    run_send(send.pk)
    send.refresh_from_db()
    assert (send.status, send.attempts) == (Status.FAILED, 1 + MAX_RETRIES)
    assert len(alimtalk_server.requests) == 1 + MAX_RETRIES


def test_switched_off_sends_nothing(alimtalk_server, template, shopper):
    shopper.phone = "2135550100"
    shopper.save()
    send = alimtalk_notify(shopper)
    assert (send.status, send.reason) == (Status.SKIPPED, "알림톡 꺼짐")
    assert alimtalk_server.requests == []
