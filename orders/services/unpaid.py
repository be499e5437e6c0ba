"""Unpaid orders: one reminder after `unpaid_reminder_hours`, auto-cancel after
`auto_cancel_hours` (0 disables). Both are idempotent; the beat jobs call them."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from core.models import get_config
from orders import notify_hooks, realtime
from orders.models import Order, OrderEvent
from orders.selectors import unpaid_orders_due_cancel, unpaid_orders_due_reminder
from orders.services.errors import OrderAlreadyConfirmed, OrderCancelled, OrderError
from orders.services.events import order_event_record
from orders.services.lifecycle import _locked, order_cancel, orders_each


def payment_reminder_dispatch(*, order: Order, resend_key: str = "") -> None:
    """Announce the reminder to the shopper's own realtime group and hand it to the
    notification channels registered in `orders.notify_hooks`."""
    realtime.order_updated(order=order)
    notify_hooks.payment_reminder(order, resend_key=resend_key)


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


@transaction.atomic
def payment_reminder_resend(*, order: Order | int, actor) -> Order:
    """Staff's "입금 안내 다시 보내기": the reminder again, whether or not the scheduled one went
    out. Each call is a new request with its own dedupe key, so the channels send it again;
    `reminder_sent_at` (the scheduled reminder) is left as it is. Locks the order row; a paid or
    cancelled order is refused (ORDER_ALREADY_CONFIRMED / ORDER_CANCELLED)."""
    order = _locked(order)
    if order.status == Order.Status.CANCELLED:
        raise OrderCancelled("취소된 주문에는 입금 안내를 보낼 수 없습니다.")
    if order.status != Order.Status.PENDING_PAYMENT:
        raise OrderAlreadyConfirmed("이미 입금 확인된 주문에는 입금 안내를 보낼 수 없습니다.")
    resend_key = secrets.token_hex(8)
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.REMINDER_SENT,
        message="입금 안내 다시 보내기",
        actor=actor,
        data={
            "resend_key": resend_key,
            "deadline": order.payment_deadline.isoformat() if order.payment_deadline else None,
        },
        before={"status": order.status},
    )
    payment_reminder_dispatch(order=order, resend_key=resend_key)
    return order


def payment_reminders_resend(*, order_ids: list[int], actor) -> dict:
    """Resend to each order on its own (one refusal never blocks the others); report both."""
    sent, refused = orders_each(
        order_ids=order_ids, action=lambda pk: payment_reminder_resend(order=pk, actor=actor)
    )
    return {"sent": sent, "refused": refused}


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
