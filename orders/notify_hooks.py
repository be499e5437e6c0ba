"""Registration point for the shopper notification channels (web push, Alimtalk).

orders sits below notifications and never imports it. The notifications app registers its
handlers here in its `AppConfig.ready`; orders calls them from inside the service that records
the event, so a handler that defers its sends to `transaction.on_commit` sends only what is
committed.
"""

from __future__ import annotations

from collections.abc import Callable

from orders.models import Order

OrderHandler = Callable[[Order], None]

_payment_reminder: list[OrderHandler] = []


def payment_reminder_register(handler: OrderHandler) -> None:
    """Add `handler(order)`, called once when the unpaid reminder goes out; once per handler."""
    if handler not in _payment_reminder:
        _payment_reminder.append(handler)


def payment_reminder_notify(order: Order) -> None:
    for handler in _payment_reminder:
        handler(order)
