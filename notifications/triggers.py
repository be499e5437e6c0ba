"""What happens in the lower apps that turns into a message; registered in `apps.ready`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from core.models import get_config
from notifications.models import Kind
from notifications.services import notify


def payment_reminder(order, *, resend_key: str = "") -> None:
    """The unpaid-order reminder: push and Alimtalk, once per order from the reminder job, and
    once more per staff resend (`resend_key`, fresh for each request)."""
    config = get_config()
    deadline = ""
    if order.payment_deadline:
        local = order.payment_deadline.astimezone(ZoneInfo(settings.STORE_TIME_ZONE))
        deadline = f"{local.month}월 {local.day}일 {local:%H:%M}"
    notify(
        user=order.user,
        kind=Kind.PAYMENT_REMINDER,
        context={
            "name": order.user.name,
            "order_id": order.order_id,
            "total": f"${order.total:,.2f}",
            "deadline": deadline,
            "bank_name": config.bank_name,
            "bank_account_number": config.bank_account_number,
            "bank_account_holder": config.bank_account_holder,
            "url": reverse("orders:detail", kwargs={"order_id": order.order_id}),
        },
        dedupe_key=f"payment_reminder:{order.order_id}"
        + (f":resend:{resend_key}" if resend_key else ""),
    )
