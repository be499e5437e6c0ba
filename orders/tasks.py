"""Celery beat jobs of the orders app: idempotent wrappers around services (see
`dorami.celery.BEAT_SCHEDULE`)."""

from __future__ import annotations

from celery import shared_task

from orders import services


@shared_task(name="orders.tasks.unpaid_reminders", ignore_result=True)
def unpaid_reminders_task() -> int:
    """One reminder per unpaid order after `unpaid_reminder_hours`."""
    return services.unpaid_reminders_send()


@shared_task(name="orders.tasks.unpaid_auto_cancel", ignore_result=True)
def unpaid_auto_cancel_task() -> int:
    """Cancel orders unpaid after `auto_cancel_hours` (0 disables)."""
    return services.unpaid_orders_cancel()
