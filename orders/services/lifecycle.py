"""Status machine: PENDING_PAYMENT → PAYMENT_CONFIRMED → SHIPPED → DELIVERED; CANCELLED from
the first two, final. Every transition locks the order row and writes an OrderEvent."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.models import get_config
from orders import notify_hooks, realtime
from orders.models import Order, OrderEvent
from orders.services.errors import (
    InvalidOrderStatus,
    OrderAlreadyConfirmed,
    OrderCancelled,
    OrderError,
    TrackingNumberRequired,
)
from orders.services.events import order_event_record
from points import services as points

S = Order.Status
TRACKING_MAX = 100


def _locked(order: Order | int) -> Order:
    pk = order.pk if isinstance(order, Order) else order
    try:
        return Order.objects.select_for_update(of=("self",)).select_related("user").get(pk=pk)
    except Order.DoesNotExist as exc:
        raise OrderError("주문을 찾을 수 없습니다.") from exc


def _refuse(order: Order) -> None:
    if order.status == S.CANCELLED:
        raise OrderCancelled()
    raise InvalidOrderStatus(status=order.get_status_display())


def points_for_subtotal(*, subtotal: Decimal, rate_percent: Decimal) -> int:
    """floor(subtotal × rate%) in points, 1 point = $0.01: $100.00 at 5% → 500 points."""
    cents = int((subtotal * 100).to_integral_value())
    return math.floor(Decimal(cents) * Decimal(rate_percent) / 100)


@transaction.atomic
def payment_confirm(*, order: Order | int, actor=None) -> Order:
    """Confirm the deposit of a PENDING_PAYMENT order; earn points once. Locks the order row:
    of two concurrent confirms exactly one succeeds, the other gets ORDER_ALREADY_CONFIRMED."""
    order = _locked(order)
    if order.status == S.CANCELLED:
        raise OrderCancelled("취소된 주문은 입금 확인할 수 없습니다.")
    if order.status != S.PENDING_PAYMENT:
        raise OrderAlreadyConfirmed()
    config = get_config()
    order.status = S.PAYMENT_CONFIRMED
    order.confirmed_at = timezone.now()
    earned = 0
    if config.points_enabled:
        earned = points_for_subtotal(
            subtotal=order.subtotal, rate_percent=config.points_earn_rate_percent
        )
    order.points_earned = earned
    order.save(update_fields=["status", "confirmed_at", "points_earned", "updated_at"])
    points.points_earn(user=order.user, order=order, points=earned)
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.PAYMENT_CONFIRMED,
        message=f"입금 확인 (${order.total:,.2f}), 포인트 {earned:,}P 적립",
        actor=actor,
        data={"points_earned": earned},
        before={"status": S.PENDING_PAYMENT},
    )
    realtime.payment_confirmed(order=order)
    notify_hooks.payment_confirmed(order)
    return order


@transaction.atomic
def order_ship(*, order: Order | int, tracking_number: str, actor=None) -> Order:
    tracking = (tracking_number or "").strip()
    if not tracking:
        raise TrackingNumberRequired()
    if len(tracking) > TRACKING_MAX:
        raise TrackingNumberRequired("운송장 번호가 너무 깁니다(최대 100자).")
    order = _locked(order)
    if order.status != S.PAYMENT_CONFIRMED:
        _refuse(order)
    order.status = S.SHIPPED
    order.tracking_number = tracking
    order.shipped_at = timezone.now()
    order.save(update_fields=["status", "tracking_number", "shipped_at", "updated_at"])
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.SHIPPED,
        message=f"발송 (운송장 {tracking})",
        actor=actor,
        data={"tracking_number": tracking},
        before={"status": S.PAYMENT_CONFIRMED},
    )
    realtime.order_updated(order=order)
    notify_hooks.order_shipped(order)
    return order


@transaction.atomic
def order_deliver(*, order: Order | int, actor=None) -> Order:
    order = _locked(order)
    if order.status != S.SHIPPED:
        _refuse(order)
    order.status = S.DELIVERED
    order.delivered_at = timezone.now()
    order.save(update_fields=["status", "delivered_at", "updated_at"])
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.DELIVERED,
        message="배송 완료",
        actor=actor,
        before={"status": S.SHIPPED},
    )
    realtime.order_updated(order=order)
    return order


@transaction.atomic
def order_cancel(*, order: Order | int, actor=None, reason: str = "") -> Order:
    """Cancel a PENDING_PAYMENT or PAYMENT_CONFIRMED order: restore variant stock exactly once
    (the status flip under the row lock guarantees once), refund used points, reverse earned
    points (at most the current balance), and let shop promote the waitlist."""
    from shop.services import stock_restore

    order = _locked(order)
    if order.status not in (S.PENDING_PAYMENT, S.PAYMENT_CONFIRMED):
        _refuse(order)
    items = list(order.items.all())
    restore = [(item.variant_id, item.quantity) for item in items if item.variant_id]
    if restore:
        stock_restore(items=restore)
    refunded = points.points_refund(user=order.user, order=order, points=order.points_used)
    reversed_tx = points.points_reverse(
        user=order.user, order=order, points=order.points_earned, actor=actor
    )
    previous = order.status
    order.status = S.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancel_reason = (reason or "").strip()[:300]
    order.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.CANCELLED,
        message="주문 취소" + (f": {order.cancel_reason}" if order.cancel_reason else ""),
        actor=actor,
        data={
            "previous_status": previous,
            "restored": [[vid, qty] for vid, qty in restore],
            "points_refunded": refunded.amount if refunded else 0,
            "points_reversed": -reversed_tx.amount if reversed_tx else 0,
        },
        before={"status": previous},
    )
    realtime.order_cancelled(order=order)
    return order


def orders_ship_from_rows(*, rows, actor=None) -> dict:
    """Apply parsed `order_id,tracking_number` rows one by one (each its own transaction) and
    report which were applied and which were rejected, with the reason."""
    applied: list[tuple[int, str, str]] = []
    rejected: list[tuple[int, str, str]] = []
    pks = dict(
        Order.objects.filter(
            order_id__in=[row.order_id for row in rows if not row.error]
        ).values_list("order_id", "pk")
    )
    for row in rows:
        if row.error:
            rejected.append((row.row, row.order_id, row.error))
            continue
        pk = pks.get(row.order_id)
        if pk is None:
            rejected.append((row.row, row.order_id, "주문번호를 찾을 수 없습니다"))
            continue
        try:
            order_ship(order=pk, tracking_number=row.tracking_number, actor=actor)
        except OrderError as exc:
            rejected.append((row.row, row.order_id, exc.message))
        else:
            applied.append((row.row, row.order_id, row.tracking_number))
    return {"applied": applied, "rejected": rejected}


def orders_each(
    *, order_ids: list[int], action: Callable[[int], Order]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Run `action(pk)` on each order on its own (one refusal never blocks the others): the
    order numbers done, and (order number, Korean reason) of those refused."""
    done: list[str] = []
    refused: list[tuple[str, str]] = []
    for pk in order_ids:
        try:
            order = action(pk)
        except OrderError as exc:
            label = Order.objects.filter(pk=pk).values_list("order_id", flat=True).first()
            refused.append((label or str(pk), exc.message))
        else:
            done.append(order.order_id)
    return done, refused


def payments_confirm_many(*, order_ids: list[int], actor=None) -> dict:
    """Confirm each order on its own (one refusal never blocks the others); report both."""
    confirmed, refused = orders_each(
        order_ids=order_ids, action=lambda pk: payment_confirm(order=pk, actor=actor)
    )
    return {"confirmed": confirmed, "refused": refused}
