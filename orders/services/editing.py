"""Admin edits of a PENDING_PAYMENT order's items (SPEC §5)."""

from __future__ import annotations

from django.db import transaction

from core.models import get_config
from orders.models import Order, OrderEvent, OrderItem
from orders.selectors import shipping_for
from orders.services.errors import InvalidQuantity, LastItemRemoval, OrderError
from orders.services.events import order_event_record
from orders.services.lifecycle import _locked, _refuse
from orders.shipping import ZERO, line_total, money
from points import services as points

MAX_QUANTITY = 9999


def order_recompute(*, order: Order, actor=None) -> None:
    """Subtotal and shipping by the same rule as checkout; points trimmed to the new maximum
    (the excess is refunded)."""
    items = list(order.items.all())
    order.subtotal = money(sum((item.line_total for item in items), ZERO))
    address = order.shipping_address
    quote = shipping_for(
        user=order.user,
        amounts=[(item.stream_id, item.line_total) for item in items],
        state=address.get("state", ""),
        exclude_order_id=order.pk,
        before=order.created_at,
    )
    order.shipping_fee = quote.fee
    before_points = money(order.subtotal + order.shipping_fee)
    allowed = points.order_max_points(order_total=before_points, config=get_config())
    if order.points_used > allowed:
        excess = order.points_used - allowed
        points.points_refund(
            user=order.user,
            order=order,
            points=excess,
            actor=actor,
            reason=f"{order.order_id} 주문 수정으로 사용 한도 초과분 환불",
        )
        order.points_used = allowed
    order.points_discount = points.points_to_money(order.points_used)
    order.total = money(before_points - order.points_discount)
    order.save(
        update_fields=[
            "subtotal",
            "shipping_fee",
            "points_used",
            "points_discount",
            "total",
            "updated_at",
        ]
    )


@transaction.atomic
def order_item_update(*, item: OrderItem | int, quantity: int, actor=None) -> Order:
    """Change one item's quantity (0 removes it). Increase takes stock, decrease restores it
    (shop promotes the waitlist). Locks the order row, then the variant inside shop."""
    from shop.services import stock_restore, stock_take

    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 0 <= quantity <= MAX_QUANTITY
    ):
        raise InvalidQuantity()
    item_pk = item.pk if isinstance(item, OrderItem) else item
    order_pk = OrderItem.objects.filter(pk=item_pk).values_list("order_id", flat=True).first()
    if order_pk is None:
        raise OrderError("주문 상품을 찾을 수 없습니다.")
    order = _locked(order_pk)
    if order.status != Order.Status.PENDING_PAYMENT:
        _refuse(order)
    item = order.items.get(pk=item_pk)
    old = item.quantity
    if quantity == old:
        return order
    if quantity == 0 and order.items.count() <= 1:
        raise LastItemRemoval()
    delta = quantity - old
    if delta > 0:
        if item.variant_id is None:
            raise OrderError("삭제된 옵션은 수량을 늘릴 수 없습니다.")
        stock_take(variant_id=item.variant_id, quantity=delta)
    elif item.variant_id is not None:
        stock_restore(items=[(item.variant_id, -delta)])
    label = str(item)
    if quantity == 0:
        item.delete()
    else:
        item.quantity = quantity
        item.line_total = line_total(item.unit_price, quantity)
        item.save(update_fields=["quantity", "line_total"])
    old_total = order.total
    order_recompute(order=order, actor=actor)
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.ITEM_UPDATED,
        message=(f"{label}: 수량 {old} → {quantity}" if quantity else f"{label}: 삭제")
        + f" (결제 금액 ${old_total:,.2f} → ${order.total:,.2f})",
        actor=actor,
        data={
            "item_id": item_pk,
            "old_quantity": old,
            "new_quantity": quantity,
            "subtotal": str(order.subtotal),
            "shipping_fee": str(order.shipping_fee),
            "total": str(order.total),
        },
        before={"quantity": old, "total": str(old_total)},
    )
    return order
