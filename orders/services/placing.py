"""Checkout: cart holds → a placed order, in one transaction (SPEC §5)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import get_config
from orders import notify_hooks, realtime
from orders.models import Order, OrderEvent, OrderItem
from orders.selectors import checkout_preview
from orders.services.errors import (
    CartLinesInvalid,
    PaymentMethodUnavailable,
    PriceChanged,
    ProfileIncomplete,
)
from orders.services.events import order_event_record
from orders.services.numbering import order_number_next
from orders.shipping import line_total, money
from points import services as points

IDEMPOTENCY_KEY_MAX = 64


def payment_method_enabled(*, method: str, config=None) -> bool:
    config = config or get_config()
    if method == Order.PaymentMethod.BANK_TRANSFER:
        return config.bank_transfer_enabled
    if method == Order.PaymentMethod.ZELLE:
        return config.zelle_enabled
    return False


def _existing(*, user, idempotency_key: str) -> Order | None:
    return Order.objects.filter(user=user, idempotency_key=idempotency_key).first()


def order_place(
    *,
    user,
    idempotency_key: str,
    payment_method: str,
    line_ids: list[int] | None = None,
    points_to_use: int = 0,
    expected_total: Decimal | None = None,
) -> Order:
    """Place an order from the user's held cart lines. Idempotent per (user, key): a double
    submit returns the order the first submit created. Locks the user row (serialises one
    shopper's checkouts), then the lines and variants inside `shop.services`."""
    key = (idempotency_key or "").strip()[:IDEMPOTENCY_KEY_MAX]
    if not key:
        raise CartLinesInvalid("잘못된 주문 요청입니다. 페이지를 새로고침해 주세요.")
    existing = _existing(user=user, idempotency_key=key)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _place(
                user=user,
                key=key,
                payment_method=payment_method,
                line_ids=line_ids,
                points_to_use=points_to_use,
                expected_total=expected_total,
            )
    except IntegrityError:
        # A concurrent submit with the same key won the unique constraint.
        existing = _existing(user=user, idempotency_key=key)
        if existing is None:
            raise
        return existing


def _place(*, user, key, payment_method, line_ids, points_to_use, expected_total) -> Order:
    from shop.selectors import checkout_lines
    from shop.services import holds_convert_to_sale

    # Serialise this shopper's checkouts; the second of two concurrent submits then sees the
    # first one's order instead of an emptied cart.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    existing = _existing(user=user, idempotency_key=key)
    if existing is not None:
        return existing

    config = get_config()
    if not payment_method_enabled(method=payment_method, config=config):
        raise PaymentMethodUnavailable()
    address = user.shipping_address
    if not user.depositor_name or not address.get("state"):
        raise ProfileIncomplete()

    requested = None if line_ids is None else sorted({int(i) for i in line_ids})
    lines = checkout_lines(user=user, line_ids=requested)
    if requested is not None and sorted(line.pk for line in lines) != requested:
        raise CartLinesInvalid()

    preview = checkout_preview(user=user, lines=lines, config=config)
    if expected_total is not None and money(expected_total) != preview.total_before_points:
        raise PriceChanged()
    points.points_validate_use(
        points=points_to_use,
        order_total=preview.total_before_points,
        balance=preview.points_balance,
    )

    holds_convert_to_sale(lines=lines)

    discount = points.points_to_money(points_to_use)
    now = timezone.now()
    order = Order(
        order_id=order_number_next(),
        user=user,
        payment_method=payment_method,
        subtotal=preview.subtotal,
        shipping_fee=preview.shipping.fee,
        points_used=points_to_use,
        points_discount=discount,
        total=money(preview.total_before_points - discount),
        depositor_name=user.depositor_name,
        idempotency_key=key,
        payment_deadline=now + timedelta(hours=config.payment_deadline_hours),
    )
    order.shipping_address = address
    order.save()
    OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                variant=line.variant,
                product=line.variant.product,
                stream_id=line.variant.product.stream_id,
                product_name=line.variant.product.name[:100],
                option_label=line.variant.option_label[:110],
                unit_price=line.variant.price,
                quantity=line.quantity,
                line_total=line_total(line.variant.price, line.quantity),
            )
            for line in lines
        ]
    )
    points.points_use(user=user, order=order, points=points_to_use)
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.CREATED,
        message=f"주문 생성 (결제 금액 ${order.total:,.2f})",
        actor=user,
        data={
            "subtotal": str(order.subtotal),
            "shipping_fee": str(order.shipping_fee),
            "shipping_rule": preview.shipping.rule,
            "points_used": points_to_use,
            "lines": [line.pk for line in lines],
        },
    )
    realtime.order_created(order=order)
    notify_hooks.order_placed(order)
    return order
