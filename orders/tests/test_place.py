import json
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from dorami import realtime
from orders import services
from orders.models import Order, OrderItem
from orders.selectors import cart_shipping_quote, stream_sales
from orders.tests.factories import hold, make_stream, make_variant
from points import services as points
from points.models import PointTransaction
from shop.models import CartLine, ProductVariant
from shop.services import CartEmpty, CartItemsExpired

D = Decimal


def place(user, **kwargs):
    kwargs.setdefault("idempotency_key", uuid.uuid4().hex)
    kwargs.setdefault("payment_method", Order.PaymentMethod.BANK_TRANSFER)
    return services.order_place(user=user, **kwargs)


def give(user, amount):
    points.points_adjust(user=user, amount=amount, reason="테스트 포인트 지급 사유", actor=None)


def test_place_converts_holds_and_snapshots(shopper):
    stream = make_stream()
    variant = make_variant(price="12.70", stock=5, stream=stream, color="Black", size="M")
    line = hold(user=shopper, variant=variant, quantity=3)
    order = place(shopper)
    variant.refresh_from_db()
    line.refresh_from_db()
    assert (variant.stock, variant.held) == (2, 0)
    assert line.status == CartLine.Status.COMPLETED
    assert order.order_id.startswith("ORD-")
    assert order.subtotal == D("38.10")
    assert order.shipping_fee == D("8.00")
    assert order.total == D("46.10")
    assert order.depositor_name == shopper.depositor_name
    assert order.shipping_address == shopper.shipping_address
    assert "Wilshire" not in order.shipping_address_encrypted
    assert order.payment_deadline - order.created_at > timedelta(hours=23)
    item = order.items.get()
    assert (item.product_name, item.option_label, item.unit_price, item.quantity) == (
        "니트",
        "Black / M",
        D("12.70"),
        3,
    )
    assert item.stream_id == stream.pk
    assert order.events.get().kind == "CREATED"


def test_checkout_and_cart_show_the_same_shipping(user_factory):
    shopper = user_factory(profile_complete=True, address={"state": "NY", "city": "New York"})
    variant = make_variant(price="19.99", stream=make_stream())
    store = make_variant(price="5.50")
    hold(user=shopper, variant=variant)
    hold(user=shopper, variant=store)
    quote = cart_shipping_quote(user=shopper)
    assert (quote["subtotal"], quote["shipping_fee"], quote["total"]) == (
        D("25.49"),
        D("10.00"),
        D("35.49"),
    )
    order = place(shopper)
    assert (order.subtotal, order.shipping_fee, order.total) == (
        D("25.49"),
        D("10.00"),
        D("35.49"),
    )


def test_second_order_of_the_same_stream_ships_free(shopper):
    stream = make_stream()
    variant = make_variant(price="10.00", stream=stream)
    hold(user=shopper, variant=variant)
    assert place(shopper).shipping_fee == D("8.00")
    hold(user=shopper, variant=variant)
    assert cart_shipping_quote(user=shopper)["shipping_fee"] == D("0.00")
    assert place(shopper).shipping_fee == D("0.00")


def test_double_submit_returns_the_same_order(shopper):
    variant = make_variant(stock=5)
    hold(user=shopper, variant=variant, quantity=2)
    first = place(shopper, idempotency_key="form-token-1")
    second = place(shopper, idempotency_key="form-token-1")
    assert first.pk == second.pk
    assert Order.objects.count() == 1
    variant.refresh_from_db()
    assert variant.stock == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_creates_one_order(user_factory):
    shopper = user_factory(profile_complete=True)
    variant = make_variant(stock=5)
    hold(user=shopper, variant=variant, quantity=1)
    barrier = threading.Barrier(3)
    results = []

    def submit():
        try:
            barrier.wait()
            results.append(place(shopper, idempotency_key="same-token").order_id)
        except Exception as exc:
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and results[0].startswith("ORD-"), results
    assert Order.objects.count() == 1
    assert ProductVariant.objects.get(pk=variant.pk).stock == 4


def test_checkout_of_a_deleted_product_says_it_was_removed_not_expired(shopper):
    from shop.services import product_delete

    variant = make_variant(stock=5)
    line = hold(user=shopper, variant=variant)
    product_delete(product_id=variant.product_id)
    with pytest.raises(CartItemsExpired) as caught:
        place(shopper, line_ids=[line.pk])
    assert caught.value.code == "CART_ITEMS_REMOVED"
    assert "삭제" in caught.value.message and "시간" not in caught.value.message
    assert Order.objects.count() == 0


def test_empty_and_expired_carts_are_refused(shopper):
    with pytest.raises(CartEmpty):
        place(shopper)
    variant = make_variant(stock=5)
    hold(user=shopper, variant=variant, expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(CartItemsExpired) as caught:
        place(shopper)
    assert caught.value.code == "CART_ITEMS_EXPIRED"
    assert not Order.objects.exists()


def test_tampered_line_ids_place_nothing(shopper, user_factory):
    other = user_factory(profile_complete=True)
    variant = make_variant(stock=5)
    mine = hold(user=shopper, variant=variant)
    theirs = hold(user=other, variant=variant)
    with pytest.raises(CartItemsExpired):
        place(shopper, line_ids=[mine.pk, theirs.pk])
    with pytest.raises(CartItemsExpired):
        place(shopper, line_ids=[999999])
    assert not Order.objects.exists()
    variant.refresh_from_db()
    assert (variant.stock, variant.held) == (5, 2)


def test_tampered_total_places_nothing(shopper):
    variant = make_variant(price="10.00", stock=5)
    hold(user=shopper, variant=variant)
    with pytest.raises(services.PriceChanged) as caught:
        place(shopper, expected_total=D("0.01"))
    assert caught.value.code == "PRICE_CHANGED"
    assert not Order.objects.exists()
    assert place(shopper, expected_total=D("18.00")).total == D("18.00")


def test_selected_lines_only(shopper):
    a = hold(user=shopper, variant=make_variant(price="10.00"))
    b = hold(user=shopper, variant=make_variant(price="20.00", name="바지"))
    order = place(shopper, line_ids=[b.pk])
    assert order.subtotal == D("20.00")
    a.refresh_from_db()
    assert a.status == CartLine.Status.ACTIVE


@pytest.mark.parametrize(
    ("balance", "use", "code"),
    [
        (10000, 2000, None),
        (10000, 500, "POINTS_BELOW_MINIMUM"),
        (10000, 5000, "POINTS_EXCEED_MAX"),  # $72 + $8 shipping = $80 → at most 4,000
        (500, 1000, "INSUFFICIENT_POINTS"),
    ],
)
def test_points_at_checkout(shopper, balance, use, code):
    give(shopper, balance)
    variant = make_variant(price="72.00", stock=5)
    hold(user=shopper, variant=variant)
    if code is None:
        order = place(shopper, points_to_use=use)
        assert (order.points_used, order.points_discount, order.total) == (
            2000,
            D("20.00"),
            D("60.00"),
        )
        assert points.balance_of(user=shopper) == 8000
    else:
        with pytest.raises(points.PointsError) as caught:
            place(shopper, points_to_use=use)
        assert caught.value.code == code
        assert not Order.objects.exists()
        variant.refresh_from_db()
        assert variant.held == 1
        assert points.balance_of(user=shopper) == balance
    ledger = PointTransaction.objects.filter(user=shopper).aggregate(s=Sum("amount"))["s"]
    assert points.balance_of(user=shopper) == ledger


def test_points_disabled_at_checkout(shopper):
    from core.models import get_config

    give(shopper, 10000)
    config = get_config()
    config.points_enabled = False
    config.save()
    hold(user=shopper, variant=make_variant(price="72.00"))
    with pytest.raises(points.PointsDisabled):
        place(shopper, points_to_use=2000)


def test_disabled_payment_method_is_refused(shopper):
    from core.models import get_config

    config = get_config()
    config.zelle_enabled = False
    config.save()
    hold(user=shopper, variant=make_variant())
    with pytest.raises(services.PaymentMethodUnavailable):
        place(shopper, payment_method="ZELLE")
    with pytest.raises(services.PaymentMethodUnavailable):
        place(shopper, payment_method="BITCOIN")


def test_cancel_of_a_placed_order_restores_stock_exactly_once(shopper, staff_user):
    variant = make_variant(stock=5)
    hold(user=shopper, variant=variant, quantity=2)
    order = place(shopper)
    services.order_cancel(order=order, actor=staff_user)
    with pytest.raises(services.OrderCancelled):
        services.order_cancel(order=order, actor=staff_user)
    variant.refresh_from_db()
    assert (variant.stock, variant.held) == (5, 0)


def test_order_created_reaches_the_stream_room(shopper, django_capture_on_commit_callbacks):
    stream = make_stream()
    hold(user=shopper, variant=make_variant(price="30.00", stream=stream), quantity=2)
    pubsub = realtime.sync_redis().pubsub()
    pubsub.subscribe(realtime._namespace() + realtime.room_group(stream.pk))
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    with django_capture_on_commit_callbacks(execute=True):
        place(shopper)
    events = []
    while (message := pubsub.get_message(timeout=0.5)) is not None:
        if message["type"] == "message":
            events.append(json.loads(message["data"]))
    pubsub.close()
    created = [m for m in events if m["event"] == "order.created"]
    assert created and created[0]["data"] == {"name": shopper.display_name}
    sales = stream_sales(stream_id=stream.pk)
    assert (sales["orders"], sales["revenue"]) == (1, D("60.00"))
    assert sales["units_by_product"][0]["units"] == 2
    assert OrderItem.objects.count() == 1


def test_cancel_promotes_the_waitlist(shopper, user_factory, staff_user):
    from shop.models import WaitlistEntry
    from shop.services import waitlist_join

    waiting = user_factory(profile_complete=True)
    variant = make_variant(stock=1)
    hold(user=shopper, variant=variant)
    order = place(shopper)
    entry = waitlist_join(user=waiting, variant_id=variant.pk, quantity=1)
    services.order_cancel(order=order, actor=staff_user, reason="고객 요청")
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.PROMOTED
    line = CartLine.objects.get(user=waiting, status=CartLine.Status.ACTIVE)
    assert line.variant_id == variant.pk
    variant.refresh_from_db()
    assert (variant.stock, variant.held) == (1, 1)
