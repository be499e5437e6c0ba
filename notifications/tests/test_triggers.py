"""Every trigger: exactly once, to the right shopper, with the right variables.

Each test runs the real service of the lower app (checkout, payment confirm, ship, the jobs)
against the fake push endpoint and the fake Alimtalk provider. The Alimtalk template used here
prints every variable of its kind (`name=value|…`), so the provider's request shows exactly
what the shopper would read; the push endpoint receives an encrypted payload, so push is
checked by its request count and the send row's rendered text.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.models import SystemConfig, get_config
from live.models import LiveStream
from notifications import triggers
from notifications.models import KIND_VARIABLES, Channel, Kind, NotificationSend
from notifications.models import NotificationTemplate as Template
from orders import services as order_services
from orders.models import Order
from orders.tests.factories import hold, make_order, make_stream, make_variant
from shop import services as shop_services

pytestmark = pytest.mark.django_db

Status = NotificationSend.Status


@pytest.fixture
def channels(vapid, subscribe, alimtalk_server, shopper):
    """Push (one device) and Alimtalk on for `shopper`; `read()` → what the provider got."""
    SystemConfig.objects.filter(pk=get_config().pk).update(
        alimtalk_enabled=True,
        bank_name="국민은행",
        bank_account_number="123-45",
        bank_account_holder="도라미",
        zelle_email="pay@dorami.test",
        zelle_recipient_name="Dorami LLC",
    )
    cache.clear()
    for kind, variables in KIND_VARIABLES.items():
        Template.objects.create(
            name=f"{kind} 알림톡",
            kind=kind,
            channel=Channel.ALIMTALK,
            provider_template_code=f"T_{kind}",
            body="|".join(f"{name}={{{{{name}}}}}" for name in variables),
        )
    subscribe(shopper)

    class Channels:
        server = alimtalk_server

        @staticmethod
        def messages() -> list[dict]:
            return [
                dict(part.split("=", 1) for part in r.json()["message"].split("|"))
                for r in alimtalk_server.requests
            ]

    return Channels


def sent(kind: str) -> list[NotificationSend]:
    return list(NotificationSend.objects.filter(kind=kind).order_by("channel"))


def assert_once(kind, push_server, channels, user):
    rows = sent(kind)
    assert [(s.channel, s.status, s.user_id) for s in rows] == [
        (Channel.ALIMTALK, Status.SENT, user.pk),
        (Channel.PUSH, Status.SENT, user.pk),
    ]
    assert len(push_server.requests) == 1
    (message,) = channels.messages()
    assert channels.server.requests[0].json()["phone"] == user.phone
    return message


def test_order_placed_has_amount_deadline_and_payment_details(
    channels, push_server, shopper, django_capture_on_commit_callbacks
):
    variant = make_variant(price="25.00", stock=3, stream=make_stream())
    hold(user=shopper, variant=variant, quantity=2)
    key = uuid.uuid4().hex
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_place(
            user=shopper, idempotency_key=key, payment_method=Order.PaymentMethod.ZELLE
        )
    with django_capture_on_commit_callbacks(execute=True):  # a double submit
        order_services.order_place(
            user=shopper, idempotency_key=key, payment_method=Order.PaymentMethod.ZELLE
        )
    message = assert_once(Kind.ORDER_PLACED, push_server, channels, shopper)
    assert message["order_id"] == order.order_id
    assert message["total"] == f"${order.total:,.2f}"
    assert message["payment_method"] == "Zelle"
    assert message["zelle_email"] == "pay@dorami.test"
    assert message["zelle_recipient_name"] == "Dorami LLC"
    assert message["bank_account_number"] == "123-45"
    assert "월" in message["deadline"] and "일" in message["deadline"]
    assert message["url"] == f"http://127.0.0.1:8000/my/orders/{order.order_id}/"
    assert message["name"] == shopper.name


def test_a_shopper_without_a_name_is_addressed_by_the_chat_name(
    channels, push_server, shopper, django_capture_on_commit_callbacks
):
    shopper.name = ""
    shopper.instagram_id = "dorami_fan"
    shopper.save()
    order = make_order(
        user=shopper, items=[(make_variant(), 1)], status=Order.Status.PAYMENT_CONFIRMED
    )
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_ship(order=order, tracking_number="1Z1")
    assert channels.messages()[0]["name"] == "dorami_fan"


def test_payment_confirmed_tells_the_points_earned_once(
    channels, push_server, shopper, django_capture_on_commit_callbacks
):
    order = make_order(user=shopper, items=[(make_variant(price="100.00"), 1)])
    with django_capture_on_commit_callbacks(execute=True):
        order_services.payment_confirm(order=order)
    with pytest.raises(order_services.OrderAlreadyConfirmed):
        order_services.payment_confirm(order=order)
    order.refresh_from_db()
    assert order.points_earned > 0
    message = assert_once(Kind.PAYMENT_CONFIRMED, push_server, channels, shopper)
    assert message["order_id"] == order.order_id
    assert message["points_earned"] == f"{order.points_earned:,}"


def test_a_rolled_back_confirm_tells_nobody(channels, push_server, shopper):
    from django.db import transaction

    order = make_order(user=shopper, items=[(make_variant(), 1)])
    with pytest.raises(RuntimeError), transaction.atomic():
        order_services.payment_confirm(order=order)
        raise RuntimeError
    assert sent(Kind.PAYMENT_CONFIRMED) == []
    assert push_server.requests == [] and channels.server.requests == []


def test_shipped_has_carrier_and_tracking_number(
    channels, push_server, shopper, settings, django_capture_on_commit_callbacks
):
    settings.SHIPPING_CARRIER = "UPS"
    order = make_order(
        user=shopper, items=[(make_variant(), 1)], status=Order.Status.PAYMENT_CONFIRMED
    )
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_ship(order=order, tracking_number="1Z42")
    message = assert_once(Kind.SHIPPED, push_server, channels, shopper)
    assert (message["carrier"], message["tracking_number"]) == ("UPS", "1Z42")
    assert message["order_id"] == order.order_id


def test_auto_cancel_notice_once_and_not_for_a_staff_cancel(
    channels, push_server, shopper, user_factory, django_capture_on_commit_callbacks
):
    late = make_order(user=shopper, items=[(make_variant(), 1)])
    other = user_factory(profile_complete=True)
    by_staff = make_order(user=other, items=[(make_variant(), 1)])
    Order.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(hours=30))
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_cancel(order=by_staff, reason="고객 요청")
        assert order_services.unpaid_orders_cancel() == 1
        assert order_services.unpaid_orders_cancel() == 0
    message = assert_once(Kind.AUTO_CANCELLED, push_server, channels, shopper)
    assert message["order_id"] == late.order_id
    assert "자동 취소" in message["reason"]


def test_waitlist_promotion_reaches_the_promoted_shopper_only(
    channels, push_server, shopper, user_factory, django_capture_on_commit_callbacks
):
    holder = user_factory(profile_complete=True)
    variant = make_variant(stock=1, name="라이브 니트")
    line = shop_services.cart_add(user=holder, variant_id=variant.pk, quantity=1)
    entry = shop_services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=1)
    with django_capture_on_commit_callbacks(execute=True):
        shop_services.cart_line_remove(user=holder, line_id=line.pk)
    message = assert_once(Kind.WAITLIST_PROMOTED, push_server, channels, shopper)
    assert message["product_name"] == "라이브 니트"
    assert message["minutes"] == str(get_config().waitlist_promotion_minutes)
    assert message["url"].endswith("/cart/")
    assert NotificationSend.objects.filter(user=holder).count() == 0
    assert sent(Kind.WAITLIST_PROMOTED)[0].dedupe_key == f"waitlist_promoted:{entry.pk}"


def test_cart_expiring_warns_two_minutes_before_once_per_expiry(
    channels, push_server, shopper, user_factory, django_capture_on_commit_callbacks
):
    now = timezone.now()
    soon = hold(
        user=shopper,
        variant=make_variant(name="곧 끝나는 니트"),
        expires_at=now + timedelta(seconds=90),
    )
    other = user_factory(profile_complete=True)
    hold(user=other, variant=make_variant(), expires_at=now + timedelta(minutes=5))
    hold(user=other, variant=make_variant(), expires_at=now - timedelta(seconds=1))  # overdue
    with django_capture_on_commit_callbacks(execute=True):
        assert triggers.carts_expiring_notify(now=now) == 1
        assert triggers.carts_expiring_notify(now=now + timedelta(seconds=30)) == 0
    message = assert_once(Kind.CART_EXPIRING, push_server, channels, shopper)
    assert message["product_name"] == "곧 끝나는 니트"
    assert message["minutes"] == "2"
    # the timer is extended: a new expiry is warned again before its own end
    later = now + timedelta(minutes=10)
    type(soon).objects.filter(pk=soon.pk).update(expires_at=later)
    with django_capture_on_commit_callbacks(execute=True):
        assert triggers.carts_expiring_notify(now=later - timedelta(minutes=1)) == 1


def test_order_confirmation_one_message_per_shopper_and_show_after_it_ends(
    channels, push_server, shopper, user_factory, django_capture_on_commit_callbacks
):
    stream, other_stream = make_stream(title="금요 라이브"), make_stream(title="다른 방송")
    first = make_order(user=shopper, items=[(make_variant(stream=stream, price="10.00"), 1)])
    second = make_order(
        user=shopper,
        items=[
            (make_variant(stream=stream, price="20.00"), 1),
            (make_variant(stream=other_stream), 1),
        ],
    )
    cancelled = make_order(user=shopper, items=[(make_variant(stream=stream), 1)])
    Order.objects.filter(pk=cancelled.pk).update(status=Order.Status.CANCELLED)
    buyer = user_factory(profile_complete=True)
    make_order(user=buyer, items=[(make_variant(stream=stream), 1)])
    now = timezone.now()
    # still live: nothing yet
    LiveStream.objects.filter(pk=stream.pk).update(status=LiveStream.Status.LIVE)
    assert triggers.order_confirmations_send(now=now) == 0
    # ended 2 minutes ago: waits for the carts held at the end
    LiveStream.objects.filter(pk=stream.pk).update(
        status=LiveStream.Status.OFFLINE, ended_at=now - timedelta(minutes=2)
    )
    assert triggers.order_confirmations_send(now=now) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert triggers.order_confirmations_send(now=now + timedelta(minutes=9)) == 2
        assert triggers.order_confirmations_send(now=now + timedelta(minutes=10)) == 0
    mine = NotificationSend.objects.filter(kind=Kind.ORDER_CONFIRMED, user=shopper)
    assert sorted(mine.values_list("channel", "status")) == [
        (Channel.ALIMTALK, Status.SENT),
        (Channel.PUSH, Status.SENT),
    ]
    assert NotificationSend.objects.filter(kind=Kind.ORDER_CONFIRMED, user=buyer).count() == 2
    message = next(m for m in channels.messages() if first.order_id in m["order_ids"])
    assert message["order_ids"] == f"{first.order_id}, {second.order_id}"
    assert message["order_count"] == "2"
    assert message["stream_title"] == "금요 라이브"
    first.refresh_from_db()
    second.refresh_from_db()
    assert message["total"] == f"${first.total + second.total:,.2f}"
    assert Decimal(message["total"].strip("$").replace(",", "")) > 0
    assert message["url"].endswith("/my/orders/")


def test_payment_reminder_carries_bank_and_zelle_details(
    channels, push_server, shopper, django_capture_on_commit_callbacks
):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=7))
    with django_capture_on_commit_callbacks(execute=True):
        order_services.unpaid_reminders_send()
        order_services.unpaid_reminders_send()
    message = assert_once(Kind.PAYMENT_REMINDER, push_server, channels, shopper)
    assert message["bank_name"] == "국민은행"
    assert message["order_id"] == order.order_id


@pytest.mark.django_db(transaction=True)
def test_a_failing_notification_never_breaks_the_checkout(shopper, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("provider table gone")

    monkeypatch.setattr(triggers, "notify", broken)
    variant = make_variant(stock=3)
    hold(user=shopper, variant=variant, quantity=1)
    order = order_services.order_place(
        user=shopper,
        idempotency_key=uuid.uuid4().hex,
        payment_method=Order.PaymentMethod.BANK_TRANSFER,
    )
    assert Order.objects.filter(pk=order.pk, status=Order.Status.PENDING_PAYMENT).exists()
    assert "provider table gone" in caplog.text
