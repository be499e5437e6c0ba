"""Registration points for the shopper notification channels (web push, Alimtalk).

orders sits below notifications and never imports it. The notifications app registers its
handlers here in its `AppConfig.ready`; orders calls them from inside the service that records
the event, so a handler that defers its sends to `transaction.on_commit` sends only what is
committed (a rolled-back confirm tells nobody).
"""

from __future__ import annotations

from collections.abc import Callable

from orders.models import Order

# handler(order, resend_key=""): an empty key is the one scheduled reminder of the order; a
# staff resend passes a fresh key, so the channels send it even though the first went out.
OrderHandler = Callable[..., None]


class OrderHook:
    """A list of `handler(order, **extra)` called once per event; a handler is registered once."""

    def __init__(self) -> None:
        self.handlers: list[OrderHandler] = []

    def register(self, handler: OrderHandler) -> None:
        if handler not in self.handlers:
            self.handlers.append(handler)

    def __call__(self, order: Order, **extra) -> None:
        for handler in self.handlers:
            handler(order, **extra)


order_placed = OrderHook()  # `order_place`, in its transaction
payment_confirmed = OrderHook()  # `payment_confirm` (order.points_earned is set)
order_shipped = OrderHook()  # `order_ship` (order.tracking_number is set)
order_auto_cancelled = OrderHook()  # `unpaid_orders_cancel`, not a staff or shopper cancel
# `order_remind_unpaid` once per order; again on each staff resend, with `resend_key`
payment_reminder = OrderHook()
