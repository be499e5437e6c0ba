"""The shopper's preferences (checked centrally in `notify`), the preferences page, the attempt
log and the admin's "test send to me"."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.models import AuditLog, SystemConfig, get_config
from notifications.models import (
    Channel,
    Kind,
    NotificationAttempt,
    NotificationPreference,
    NotificationSend,
    NotificationTemplate,
)
from notifications.services import notification_preference_update, notify
from notifications.tests.conftest import run_send
from orders.tests.factories import make_stream

pytestmark = pytest.mark.django_db

Status = NotificationSend.Status
Result = NotificationAttempt.Result


@pytest.fixture
def alimtalk_on():
    SystemConfig.objects.filter(pk=get_config().pk).update(alimtalk_enabled=True)
    cache.clear()


def send(user, kind=Kind.PAYMENT_CONFIRMED, key="k", **extra):
    return {
        s.channel: s
        for s in notify(
            user=user,
            kind=kind,
            context={"order_id": "D1", "total": "$1.00", "points_earned": "5"},
            dedupe_key=key,
            **extra,
        )
    }


def test_push_switched_off_is_skipped_with_a_korean_reason(
    vapid, subscribe, shopper, push_server, django_capture_on_commit_callbacks
):
    subscribe(shopper)
    notification_preference_update(user=shopper, push_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        sends = send(shopper)
    assert sends[Channel.PUSH].status == Status.SKIPPED
    assert sends[Channel.PUSH].reason == "회원이 웹 푸시를 껐음"
    assert push_server.requests == []
    (attempt,) = sends[Channel.PUSH].attempt_log.all()
    assert (attempt.result, attempt.error) == (Result.SKIPPED, "회원이 웹 푸시를 껐음")


def test_kakao_switched_off_keeps_push(
    vapid, subscribe, shopper, push_server, alimtalk_on, alimtalk_server,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    subscribe(shopper)
    NotificationTemplate.objects.create(
        name="입금 확인 알림톡",
        kind=Kind.PAYMENT_CONFIRMED,
        channel=Channel.ALIMTALK,
        provider_template_code="T1",
        body="{{order_id}}",
    )
    notification_preference_update(user=shopper, alimtalk_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        sends = send(shopper)
    assert sends[Channel.ALIMTALK].reason == "회원이 알림톡을 껐음"
    assert alimtalk_server.requests == []
    sends[Channel.PUSH].refresh_from_db()
    assert sends[Channel.PUSH].status == Status.SENT
    assert len(push_server.requests) == 1


def test_an_optional_kind_switched_off_but_transactional_kinds_still_go(
    vapid, subscribe, shopper, push_server, django_capture_on_commit_callbacks
):
    subscribe(shopper)
    notification_preference_update(user=shopper, cart_expiring_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        cart = send(shopper, kind=Kind.CART_EXPIRING, key="cart")
        paid = send(shopper, kind=Kind.PAYMENT_CONFIRMED, key="paid")
    assert cart[Channel.PUSH].reason == "회원이 이 알림을 껐음"
    paid[Channel.PUSH].refresh_from_db()
    assert paid[Channel.PUSH].status == Status.SENT
    assert len(push_server.requests) == 1


def test_live_started_needs_the_opt_in_or_a_subscription_to_that_show(
    vapid, subscribe, user_factory, push_server, django_capture_on_commit_callbacks
):
    stream = make_stream()
    opted_out = user_factory(profile_complete=True, live_alert_opt_in=False)
    asked_for_show = user_factory(profile_complete=True, live_alert_opt_in=False)
    opted_in = user_factory(profile_complete=True, live_alert_opt_in=True)
    subscribe(opted_out)
    subscribe(asked_for_show, stream=stream)
    subscribe(opted_in)
    with django_capture_on_commit_callbacks(execute=True):
        results = {
            user.pk: send(
                user,
                kind=Kind.LIVE_STARTED,
                key=f"live:{user.pk}",
                channels=[Channel.PUSH],
                stream_id=stream.pk,
            )[Channel.PUSH]
            for user in (opted_out, asked_for_show, opted_in)
        }
    assert results[opted_out.pk].reason == "라이브 알림 받지 않음"
    for user in (asked_for_show, opted_in):
        results[user.pk].refresh_from_db()
        assert results[user.pk].status == Status.SENT
    assert len(push_server.requests) == 2


def test_every_attempt_is_logged_retries_then_failed(
    alimtalk_on, alimtalk_server, shopper, monkeypatch
):
    from notifications import alimtalk

    monkeypatch.setattr(alimtalk, "ALIMTALK_READ_TIMEOUT", 0.3)
    NotificationTemplate.objects.create(
        name="입금 확인 알림톡",
        kind=Kind.PAYMENT_CONFIRMED,
        channel=Channel.ALIMTALK,
        provider_template_code="T1",
        body="{{order_id}}",
    )
    alimtalk_server.responses = [500, "timeout", 503, 502]
    (row,) = notify(
        user=shopper,
        kind=Kind.PAYMENT_CONFIRMED,
        context={"order_id": "D1"},
        dedupe_key="paid",
        channels=[Channel.ALIMTALK],
    )
    run_send(row.pk)
    row.refresh_from_db()
    assert row.status == Status.FAILED
    attempts = list(row.attempt_log.values_list("number", "result"))
    assert attempts == [
        (1, Result.RETRY),
        (2, Result.RETRY),
        (3, Result.RETRY),
        (4, Result.FAILED),
    ]
    errors = list(row.attempt_log.values_list("error", flat=True))
    assert "500" in errors[0] and "503" in errors[2] and "502" in errors[3]
    assert row.attempts == 4


def test_a_sent_attempt_keeps_the_provider_id(alimtalk_on, alimtalk_server, shopper):
    NotificationTemplate.objects.create(
        name="입금 확인 알림톡",
        kind=Kind.PAYMENT_CONFIRMED,
        channel=Channel.ALIMTALK,
        provider_template_code="T1",
        body="{{order_id}}",
    )
    alimtalk_server.responses = [500]
    (row,) = notify(
        user=shopper,
        kind=Kind.PAYMENT_CONFIRMED,
        context={"order_id": "D1"},
        dedupe_key="paid",
        channels=[Channel.ALIMTALK],
    )
    run_send(row.pk)
    assert list(row.attempt_log.values_list("result", "provider_id")) == [
        (Result.RETRY, ""),
        (Result.SENT, "m-2"),
    ]


# --- The preferences page ----------------------------------------------------------------------


def test_preferences_page_shows_and_saves_the_switches(shopper_client, shopper):
    url = reverse("notifications:preferences")
    page = shopper_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "알림 설정" in html and "웹 푸시" in html and "카카오 알림톡" in html
    assert 'data-testid="pref-push_enabled" checked' in html
    # an unchecked box is not posted: push and cart expiring off, the rest on
    response = shopper_client.post(
        url, {"alimtalk_enabled": "on", "order_confirmed_enabled": "on"}, follow=True
    )
    assert "알림 설정을 저장했습니다." in response.content.decode()
    saved = NotificationPreference.objects.get(user=shopper)
    assert (saved.push_enabled, saved.alimtalk_enabled) == (False, True)
    assert (saved.order_confirmed_enabled, saved.cart_expiring_enabled) == (True, False)
    assert 'data-testid="pref-push_enabled" checked' not in response.content.decode()


def test_my_page_links_to_the_preferences(shopper_client):
    html = shopper_client.get(reverse("accounts:my-page")).content.decode()
    assert reverse("notifications:preferences") in html


# --- Admin: test send to me --------------------------------------------------------------------


def test_admin_test_send_goes_to_the_staff_members_own_device_and_is_audited(
    vapid, subscribe, staff_client, staff_user, shopper, push_server,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    subscribe(staff_user)
    subscribe(shopper)
    template = NotificationTemplate.objects.create(
        name="발송 안내",
        kind=Kind.SHIPPED,
        channel=Channel.PUSH,
        title="발송",
        body="{{order_id}} {{carrier}} {{tracking_number}}",
        enabled=False,  # a disabled template can still be tried
    )
    change = reverse("admin:notifications_notificationtemplate_change", args=[template.pk])
    assert "나에게 테스트 발송" in staff_client.get(change).content.decode()
    url = reverse("admin:notifications_notificationtemplate_test_send", args=[template.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, follow=True)
    assert "테스트 발송을 보냈습니다" in response.content.decode()
    (row,) = NotificationSend.objects.all()
    row.refresh_from_db()
    assert (row.user_id, row.status) == (staff_user.pk, Status.SENT)
    assert row.body == "D2612030001 USPS 9400111899223100000000"
    assert len(push_server.requests) == 1
    assert push_server.requests[0].path.startswith("/push/")
    audit = AuditLog.objects.get(action="notification.test_send")
    assert audit.object_id == str(template.pk)


def test_admin_test_send_without_a_device_says_why(staff_client, vapid):
    template = NotificationTemplate.objects.create(
        name="발송 안내", kind=Kind.SHIPPED, channel=Channel.PUSH, body="{{order_id}}"
    )
    url = reverse("admin:notifications_notificationtemplate_test_send", args=[template.pk])
    response = staff_client.post(url, follow=True)
    assert "테스트 발송을 보내지 못했습니다: 푸시 구독 없음" in response.content.decode()


def test_send_log_shows_each_attempt(staff_client, shopper):
    row = NotificationSend.objects.create(
        dedupe_key="x", kind=Kind.SHIPPED, channel=Channel.PUSH, user=shopper
    )
    NotificationAttempt.objects.create(send=row, number=1, result=Result.RETRY, error="HTTP 503")
    NotificationAttempt.objects.create(send=row, number=2, result=Result.SENT, provider_id="p-9")
    html = staff_client.get(
        reverse("admin:notifications_notificationsend_change", args=[row.pk])
    ).content.decode()
    assert "HTTP 503" in html and "p-9" in html and "실패(재시도 예정)" in html
    listing = staff_client.get(
        reverse("admin:notifications_notificationsend_changelist"),
        {"status__exact": "PENDING", "channel__exact": "PUSH", "kind__exact": "shipped"},
    )
    assert listing.status_code == 200 and "x" in listing.content.decode()
