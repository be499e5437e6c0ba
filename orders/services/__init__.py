"""Every write of the orders app. Import services from here."""

from orders.services.editing import order_item_update, order_recompute
from orders.services.errors import (
    CartLinesInvalid,
    InvalidOrderStatus,
    InvalidQuantity,
    LastItemRemoval,
    OrderAlreadyConfirmed,
    OrderCancelled,
    OrderError,
    PaymentMethodUnavailable,
    PriceChanged,
    ProfileIncomplete,
    TrackingNumberRequired,
)
from orders.services.events import order_event_record
from orders.services.lifecycle import (
    order_cancel,
    order_deliver,
    order_ship,
    orders_ship_from_rows,
    payment_confirm,
    payments_confirm_many,
    points_for_subtotal,
)
from orders.services.numbering import order_number_next, store_today
from orders.services.placing import order_place, payment_method_enabled
from orders.services.unpaid import (
    order_remind_unpaid,
    payment_reminder_resend,
    payment_reminders_resend,
    unpaid_orders_cancel,
    unpaid_reminders_send,
)

__all__ = [
    "CartLinesInvalid",
    "InvalidOrderStatus",
    "InvalidQuantity",
    "LastItemRemoval",
    "OrderAlreadyConfirmed",
    "OrderCancelled",
    "OrderError",
    "PaymentMethodUnavailable",
    "PriceChanged",
    "ProfileIncomplete",
    "TrackingNumberRequired",
    "order_cancel",
    "order_deliver",
    "order_event_record",
    "order_item_update",
    "order_number_next",
    "order_place",
    "order_recompute",
    "order_remind_unpaid",
    "order_ship",
    "orders_ship_from_rows",
    "payment_confirm",
    "payment_method_enabled",
    "payment_reminder_resend",
    "payment_reminders_resend",
    "payments_confirm_many",
    "points_for_subtotal",
    "store_today",
    "unpaid_orders_cancel",
    "unpaid_reminders_send",
]
