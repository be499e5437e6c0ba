"""Unpaid orders: one reminder after `unpaid_reminder_hours`, auto-cancel after
`auto_cancel_hours` (0 disables). Both are idempotent; the beat jobs call them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.models import get_config
from orders import notify_hooks, realtime
from orders.models import Order, OrderEvent
from orders.selectors import unpaid_orders_due_cancel, unpaid_orders_due_reminder
from orders.services.errors import OrderError
from orders.services.events import order_event_record
from orders.services.lifecycle import _locked, order_cancel


def payment_reminder_dispatch(*, order: Order) -> None:
    """Announce the reminder to the shopper's own realtime group and hand it to the
    notification channels registered in `orders.notify_hooks`."""
    realtime.order_updated(order=order)
    notify_hooks.payment_reminder(order)


@transaction.atomic
def order_remind_unpaid(*, order: Order | int) -> bool:
    """Record (once) that the unpaid reminder went out. False if already sent or paid."""
    order = _locked(order)
    if order.status != Order.Status.PENDING_PAYMENT or order.reminder_sent_at is not None:
        return False
    order.reminder_sent_at = timezone.now()
    order.save(update_fields=["reminder_sent_at", "updated_at"])
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.REMINDER_SENT,
        message="입금 안내 알림 발송",
        data={"deadline": order.payment_deadline.isoformat() if order.payment_deadline else None},
    )
    payment_reminder_dispatch(order=order)
    return True


def unpaid_reminders_send(*, now=None) -> int:
    config = get_config()
    if not config.unpaid_reminder_hours:
        return 0
    now = now or timezone.now()
    ids = list(
        unpaid_orders_due_reminder(now=now, hours=config.unpaid_reminder_hours).values_list(
            "pk", flat=True
        )
    )
    return sum(1 for pk in ids if order_remind_unpaid(order=pk))


def unpaid_orders_cancel(*, now=None) -> int:
    config = get_config()
    if not config.auto_cancel_hours:
        return 0
    now = now or timezone.now()
    ids = list(
        unpaid_orders_due_cancel(now=now, hours=config.auto_cancel_hours).values_list(
            "pk", flat=True
        )
    )
    cancelled = 0
    for pk in ids:
        try:
            with transaction.atomic():
                order = order_cancel(
                    order=pk, reason=f"입금 기한 {config.auto_cancel_hours}시간 경과 자동 취소"
                )
                notify_hooks.order_auto_cancelled(order)
            cancelled += 1
        except OrderError:
            continue  # paid or cancelled meanwhile
    return cancelled
