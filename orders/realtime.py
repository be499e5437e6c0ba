"""Order events for live rooms, the shopper and staff. Sent after commit via dorami.realtime."""

from __future__ import annotations

from dorami.realtime import STAFF_GROUP, room_group, send_event, user_group

ORDER_CREATED = "order.created"  # purchase banner: "{name}님이 주문을 생성했습니다"
PAYMENT_CONFIRMED = "payment.confirmed"
ORDER_UPDATED = "order.updated"  # to the shopper: status changed
SALES_UPDATED = "sales.updated"  # staff: the stream's live sales


def _stream_ids(order) -> list[int]:
    return sorted(
        {sid for sid in order.items.values_list("stream_id", flat=True) if sid is not None}
    )


def _sales_updated(stream_ids: list[int]) -> None:
    from orders.selectors import stream_sales

    for stream_id in stream_ids:
        sales = stream_sales(stream_id=stream_id)
        send_event(
            group=STAFF_GROUP,
            event=SALES_UPDATED,
            data={
                "stream_id": stream_id,
                "orders": sales["orders"],
                "revenue": str(sales["revenue"]),
                "units_by_product": [
                    {**row, "revenue": str(row["revenue"])} for row in sales["units_by_product"]
                ],
            },
        )


def order_created(*, order) -> None:
    stream_ids = _stream_ids(order)
    for stream_id in stream_ids:
        send_event(
            group=room_group(stream_id),
            event=ORDER_CREATED,
            data={"name": order.user.display_name},
        )
    _sales_updated(stream_ids)


def payment_confirmed(*, order) -> None:
    stream_ids = _stream_ids(order)
    data = {"name": order.user.display_name}
    for stream_id in stream_ids:
        send_event(group=room_group(stream_id), event=PAYMENT_CONFIRMED, data=data)
    send_event(
        group=user_group(order.user_id),
        event=PAYMENT_CONFIRMED,
        data={
            "order_id": order.order_id,
            "points_earned": order.points_earned,
            "status": order.status,
        },
    )
    _sales_updated(stream_ids)


def order_updated(*, order) -> None:
    send_event(
        group=user_group(order.user_id),
        event=ORDER_UPDATED,
        data={"order_id": order.order_id, "status": order.status},
    )


def order_cancelled(*, order) -> None:
    order_updated(order=order)
    _sales_updated(_stream_ids(order))
