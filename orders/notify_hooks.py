"""Registration point for the shopper notification channels (web push, Alimtalk).

orders sits below notifications and never imports it. The notifications app registers its
handlers here in its `AppConfig.ready`; orders calls them from inside the service that records
the event, so a handler that defers its sends to `transaction.on_commit` sends only what is
committed.
"""

from __future__ import annotations

from collections.abc import Callable

from orders.models import Order

# handler(order, resend_key=""): an empty key is the one scheduled reminder of the order; a
# staff resend passes a fresh key, so the channels send it even though the first went out.
OrderHandler = Callable[..., None]

_payment_reminder: list[OrderHandler] = []


def payment_reminder_register(handler: OrderHandler) -> None:
    """Add `handler(order, resend_key="")`, called when the unpaid reminder goes out (once by
    the reminder job, again on each staff resend); registered once per handler."""
    if handler not in _payment_reminder:
        _payment_reminder.append(handler)


def payment_reminder_notify(order: Order, *, resend_key: str = "") -> None:
    for handler in _payment_reminder:
        handler(order, resend_key=resend_key)
