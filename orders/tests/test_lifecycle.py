import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from core.models import get_config
from orders import services
from orders.models import Order, OrderEvent
from orders.tests.factories import make_order, make_stream, make_variant
from points.models import PointTransaction
from points.services import balance_of, points_adjust
from shop.models import ProductVariant

S = Order.Status


def ledger_ok(user) -> int:
    total = PointTransaction.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] or 0
    assert balance_of(user=user) == total
    return total


def test_confirm_earns_floor_five_percent_once(shopper, staff_user):
    variant = make_variant(price="33.33")
    order = make_order(user=shopper, items=[(variant, 3)])  # subtotal 99.99
    services.payment_confirm(order=order, actor=staff_user)
    order.refresh_from_db()
    assert order.status == S.PAYMENT_CONFIRMED
    assert order.confirmed_at is not None
    assert order.points_earned == 499  # floor(9999 cents × 5%)
    assert ledger_ok(shopper) == 499
    assert order.events.filter(kind=OrderEvent.Kind.PAYMENT_CONFIRMED, actor=staff_user).exists()


def test_confirm_twice_is_refused(shopper, staff_user):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    services.payment_confirm(order=order, actor=staff_user)
    with pytest.raises(services.OrderAlreadyConfirmed) as caught:
        services.payment_confirm(order=order, actor=staff_user)
    assert caught.value.code == "ORDER_ALREADY_CONFIRMED"
    assert PointTransaction.objects.filter(kind="EARNED_ORDER").count() == 1
    assert order.events.filter(kind=OrderEvent.Kind.PAYMENT_CONFIRMED).count() == 1


def test_confirm_cancelled_is_refused(shopper, staff_user):
    order = make_order(user=shopper, items=[(make_variant(), 1)], status=S.CANCELLED)
    with pytest.raises(services.OrderCancelled) as caught:
        services.payment_confirm(order=order, actor=staff_user)
    assert caught.value.code == "ORDER_CANCELLED"
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert balance_of(user=shopper) == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_confirms_exactly_one_succeeds(user_factory):
    shopper = user_factory(profile_complete=True)
    order = make_order(user=shopper, items=[(make_variant(price="100.00"), 1)])
    barrier = threading.Barrier(4)
    results: list[str] = []

    def confirm():
        try:
            barrier.wait()
            services.payment_confirm(order=order.pk)
            results.append("ok")
        except services.OrderError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ORDER_ALREADY_CONFIRMED"] * 3 + ["ok"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(amount) FROM points_pointtransaction WHERE user_id = %s",
            [shopper.pk],
        )
        assert cursor.fetchone() == (1, 500)
    assert balance_of(user=shopper) == 500


@pytest.mark.django_db(transaction=True)
def test_order_ids_are_unique_under_concurrency():
    ids: list[str] = []
    barrier = threading.Barrier(8)

    def take():
        try:
            barrier.wait()
            for _ in range(10):
                ids.append(services.order_number_next())
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 80
    assert len(set(ids)) == 80
    day = services.store_today()
    assert sorted(ids)[-1] == f"ORD-{day:%Y%m%d}-00080"


def test_order_id_uses_the_store_day(db, settings):
    settings.STORE_TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: usually a different date than UTC
    number = services.order_number_next()
    from zoneinfo import ZoneInfo

    local = timezone.now().astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    assert number.startswith(f"ORD-{local:%Y%m%d}-")


def test_ship_needs_a_tracking_number_and_a_paid_order(shopper, staff_user):
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    with pytest.raises(services.InvalidOrderStatus):
        services.order_ship(order=order, tracking_number="1Z1", actor=staff_user)
    services.payment_confirm(order=order, actor=staff_user)
    with pytest.raises(services.TrackingNumberRequired):
        services.order_ship(order=order, tracking_number="   ", actor=staff_user)
    services.order_ship(order=order, tracking_number=" 1Z999AA1 ", actor=staff_user)
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == (S.SHIPPED, "1Z999AA1")
    services.order_deliver(order=order, actor=staff_user)
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    with pytest.raises(services.InvalidOrderStatus):
        services.order_cancel(order=order, actor=staff_user)
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == ["PAYMENT_CONFIRMED", "SHIPPED", "DELIVERED"]


def test_cancel_restores_stock_once_and_refunds_and_reverses_points(shopper, staff_user):
    variant = make_variant(price="50.00", stock=10)
    points_adjust(user=shopper, amount=3000, reason="테스트용 포인트 지급", actor=staff_user)
    order = make_order(user=shopper, items=[(variant, 4)], points_used=0)
    services.payment_confirm(order=order, actor=staff_user)  # earns 1000
    variant.refresh_from_db()
    assert variant.stock == 6
    assert ledger_ok(shopper) == 4000

    services.order_cancel(order=order, actor=staff_user, reason="고객 요청")
    variant.refresh_from_db()
    assert variant.stock == 10
    assert ledger_ok(shopper) == 3000

    with pytest.raises(services.OrderCancelled):
        services.order_cancel(order=order, actor=staff_user)
    variant.refresh_from_db()
    assert variant.stock == 10
    assert ledger_ok(shopper) == 3000
    assert order.events.filter(kind="CANCELLED").count() == 1


def test_cancel_refunds_used_points(shopper, staff_user):
    points_adjust(user=shopper, amount=5000, reason="테스트용 포인트 지급", actor=staff_user)
    from points.services import points_use

    order = make_order(user=shopper, items=[(make_variant(price="100.00"), 1)], points_used=2000)
    points_use(user=shopper, order=order, points=2000)
    assert ledger_ok(shopper) == 3000
    services.order_cancel(order=order, actor=staff_user)
    assert ledger_ok(shopper) == 5000
    assert PointTransaction.objects.get(kind="REFUND_CANCELLED").amount == 2000


def test_cancel_reverses_only_what_is_left(shopper, staff_user):
    order = make_order(user=shopper, items=[(make_variant(price="100.00"), 1)])
    services.payment_confirm(order=order, actor=staff_user)  # +500
    points_adjust(user=shopper, amount=-300, reason="포인트 일부 사용 처리", actor=staff_user)
    services.order_cancel(order=order, actor=staff_user)
    reversal = PointTransaction.objects.get(kind="REVERSED_CANCELLED")
    assert reversal.amount == -200
    assert ledger_ok(shopper) == 0


def test_unpaid_reminder_once_and_auto_cancel(shopper):
    variant = make_variant(stock=5)
    old = make_order(user=shopper, items=[(variant, 1)])
    young = make_order(user=shopper, items=[(variant, 1)])
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=7))
    assert services.unpaid_reminders_send() == 1
    assert services.unpaid_reminders_send() == 0
    old.refresh_from_db()
    assert old.reminder_sent_at is not None
    assert old.events.filter(kind="REMINDER_SENT").count() == 1

    assert services.unpaid_orders_cancel() == 0
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert services.unpaid_orders_cancel() == 1
    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.status, young.status) == (S.CANCELLED, S.PENDING_PAYMENT)
    variant.refresh_from_db()
    assert variant.stock == 4


def test_auto_cancel_zero_disables(shopper):
    config = get_config()
    config.auto_cancel_hours = 0
    config.save()
    order = make_order(user=shopper, items=[(make_variant(), 1)])
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=30))
    assert services.unpaid_orders_cancel() == 0
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT


def test_item_update_recomputes_totals_and_stock(shopper, staff_user):
    stream = make_stream()
    variant = make_variant(price="12.70", stock=10, stream=stream)
    other = make_variant(price="5.00", stock=10, stream=stream, name="양말")
    order = make_order(user=shopper, items=[(variant, 1), (other, 1)])
    item = order.items.get(variant=variant)

    services.order_item_update(item=item, quantity=3, actor=staff_user)
    order.refresh_from_db()
    variant.refresh_from_db()
    assert variant.stock == 7
    assert order.subtotal == Decimal("43.10")
    assert order.shipping_fee == Decimal("8.00")  # the shopper's address is in CA
    assert order.total == Decimal("51.10")

    services.order_item_update(item=item, quantity=1, actor=staff_user)
    variant.refresh_from_db()
    assert variant.stock == 9

    services.order_item_update(item=order.items.get(variant=other), quantity=0, actor=staff_user)
    order.refresh_from_db()
    assert order.items.count() == 1
    assert order.total == Decimal("20.70")
    with pytest.raises(services.LastItemRemoval):
        services.order_item_update(item=item, quantity=0, actor=staff_user)
    assert order.events.filter(kind="ITEM_UPDATED").count() == 3


def test_item_update_refuses_more_than_stock_and_paid_orders(shopper, staff_user):
    from shop.services import InsufficientStock

    variant = make_variant(stock=2)
    order = make_order(user=shopper, items=[(variant, 1)])
    item = order.items.get()
    with pytest.raises(InsufficientStock):
        services.order_item_update(item=item, quantity=3, actor=staff_user)
    with pytest.raises(services.InvalidQuantity):
        services.order_item_update(item=item, quantity=-1, actor=staff_user)
    services.payment_confirm(order=order, actor=staff_user)
    with pytest.raises(services.InvalidOrderStatus):
        services.order_item_update(item=item, quantity=1 + 1, actor=staff_user)
    assert ProductVariant.objects.get(pk=variant.pk).stock == 1


def test_beat_jobs_are_scheduled_and_run(shopper):
    from dorami.celery import BEAT_SCHEDULE, app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    for name in (
        "orders.tasks.unpaid_reminders",
        "orders.tasks.unpaid_auto_cancel",
        "points.tasks.points_expire",
    ):
        assert name in names
        assert app.tasks[name].apply().successful()


def test_payment_confirmed_reaches_the_shopper_and_staff(
    shopper, staff_user, django_capture_on_commit_callbacks
):
    import json

    from dorami import realtime

    stream = make_stream()
    order = make_order(user=shopper, items=[(make_variant(price="40.00", stream=stream), 2)])
    pubsub = realtime.sync_redis().pubsub()
    groups = [realtime.user_group(shopper.pk), realtime.STAFF_GROUP, realtime.room_group(stream.pk)]
    pubsub.subscribe(*[realtime._namespace() + g for g in groups])
    for _ in groups:
        pubsub.get_message(timeout=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_confirm(order=order, actor=staff_user)
    received = {}
    while (message := pubsub.get_message(timeout=0.5)) is not None:
        if message["type"] == "message":
            channel = message["channel"].decode().removeprefix(realtime._namespace())
            received.setdefault(channel, []).append(json.loads(message["data"]))
    pubsub.close()
    mine = received[realtime.user_group(shopper.pk)][0]
    assert mine["event"] == "payment.confirmed"
    assert mine["data"]["order_id"] == order.order_id and mine["data"]["points_earned"] == 400
    sales = received[realtime.STAFF_GROUP][0]
    assert sales["event"] == "sales.updated"
    assert sales["data"]["stream_id"] == stream.pk and sales["data"]["revenue"] == "80.00"
    assert received[realtime.room_group(stream.pk)][0]["event"] == "payment.confirmed"


def test_order_address_snapshot_is_registered_for_key_rotation():
    from accounts import crypto

    assert ("orders.Order", "shipping_address_encrypted") in crypto.ENCRYPTED_FIELDS
    key = ("orders.Order", "shipping_address_encrypted")
    assert crypto.KEY_VERSION_FIELDS[key] == "address_key_version"


def test_item_decrease_refunds_points_beyond_the_new_maximum(shopper, staff_user):
    from points.services import points_use

    points_adjust(user=shopper, amount=5000, reason="테스트용 포인트 지급", actor=staff_user)
    variant = make_variant(price="46.00", stock=10)  # 2 × 46 + 8 = $100 → up to 5,000 P
    order = make_order(user=shopper, items=[(variant, 2)], points_used=5000)
    points_use(user=shopper, order=order, points=5000)
    services.order_item_update(item=order.items.get(), quantity=1, actor=staff_user)
    order.refresh_from_db()
    # $46 + $8 = $54 → at most 2,700 P; 2,300 P go back
    assert (order.points_used, order.points_discount, order.total) == (
        2700,
        Decimal("27.00"),
        Decimal("27.00"),
    )
    assert ledger_ok(shopper) == 2300
