"""What happens in the lower apps that turns into a message to the shopper.

The event triggers are registered in `apps.ready` on the lower apps' registration points
(`orders.notify_hooks`, `shop.notify_hooks`): called inside the service's transaction, they
write their send rows once it commits (`notify_after_commit`). The two
time-based ones (cart expiring, the per-show order confirmation) are periodic jobs
(`notifications.tasks`, `dorami.celery.BEAT_SCHEDULE`). Every message has a dedupe key, so a
trigger that fires twice (a retried job, a doubled beat) sends once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.urls import reverse
from django.utils import timezone

from core.models import get_config
from dorami.storetime import store_format
from dorami.templatetags.money import usd
from live.models import LiveStream
from notifications import realtime
from notifications.models import Kind, NotificationSend
from notifications.services import notify
from orders.models import Order, OrderItem
from shop.models import CartLine

CART_EXPIRING_MINUTES = 2  # the warning goes out this long before a hold runs out
CONFIRMATION_LOOKBACK = timedelta(days=2)  # shows that ended longer ago are not revisited


def site_url(path: str) -> str:
    """An absolute link for a message read outside the site (push, Alimtalk)."""
    return settings.SITE_URL + path


def shopper_name(user) -> str:
    """How a message addresses the shopper: their name, else the name they show in chat."""
    return user.name or user.display_name


def _order_path(order: Order) -> str:
    return reverse("orders:detail", kwargs={"order_id": order.order_id})


def _order_url(order: Order) -> str:
    return site_url(_order_path(order))


def _order_context(order: Order) -> dict:
    return {
        "name": shopper_name(order.user),
        "order_id": order.order_id,
        "total": usd(order.total),
        "url": _order_url(order),
    }


def _payment_context(order: Order) -> dict:
    """Deadline and where to pay: the bank account, Zelle, or both when the order's method is
    unknown to the template (the template picks what it shows)."""
    config = get_config()
    return {
        **_order_context(order),
        "deadline": store_format(order.payment_deadline),
        "payment_method": order.get_payment_method_display(),
        "bank_name": config.bank_name,
        "bank_account_number": config.bank_account_number,
        "bank_account_holder": config.bank_account_holder,
        "zelle_email": config.zelle_email,
        "zelle_recipient_name": config.zelle_recipient_name,
    }


def notify_after_commit(**kwargs) -> None:
    """`notify` once the lower app's transaction has committed. The context is built now (the
    values as of the event); the send rows are written after commit, so the checkout, the
    confirm or the promotion neither waits for them under its row locks nor fails with them
    (a failing `notify` is logged, `robust=True`). A rolled-back change sends nothing."""

    def notify_committed() -> None:
        notify(**kwargs)

    transaction.on_commit(notify_committed, robust=True)


# --- Order events (orders.notify_hooks) --------------------------------------------------------


def order_placed(order: Order) -> None:
    """Checkout: amount, deadline and payment details, once per order."""
    notify_after_commit(
        user=order.user,
        kind=Kind.ORDER_PLACED,
        context=_payment_context(order),
        dedupe_key=f"order_placed:{order.order_id}",
    )


def payment_reminder(order: Order, *, resend_key: str = "") -> None:
    """The unpaid-order reminder: push and Alimtalk, once per order from the reminder job, and
    once more per staff resend (`resend_key`, fresh for each request)."""
    notify_after_commit(
        user=order.user,
        kind=Kind.PAYMENT_REMINDER,
        context=_payment_context(order),
        dedupe_key=f"payment_reminder:{order.order_id}"
        + (f":resend:{resend_key}" if resend_key else ""),
    )


def order_auto_cancelled(order: Order) -> None:
    notify_after_commit(
        user=order.user,
        kind=Kind.AUTO_CANCELLED,
        context={**_order_context(order), "reason": order.cancel_reason},
        dedupe_key=f"auto_cancelled:{order.order_id}",
    )


def payment_confirmed(order: Order) -> None:
    notify_after_commit(
        user=order.user,
        kind=Kind.PAYMENT_CONFIRMED,
        context={**_order_context(order), "points_earned": f"{order.points_earned:,}"},
        dedupe_key=f"payment_confirmed:{order.order_id}",
    )


def order_shipped(order: Order) -> None:
    notify_after_commit(
        user=order.user,
        kind=Kind.SHIPPED,
        context={
            **_order_context(order),
            "carrier": settings.SHIPPING_CARRIER,
            "tracking_number": order.tracking_number,
        },
        dedupe_key=f"shipped:{order.order_id}",
    )


# --- Shop events (shop.notify_hooks) -----------------------------------------------------------


def _minutes_left(expires_at: datetime | None, now: datetime) -> int:
    if expires_at is None:
        return 0
    return max(1, -(-int((expires_at - now).total_seconds()) // 60))  # rounded up


def waitlist_promoted(entry, product) -> None:
    """The shopper's 예비번호 came up: the units are in their cart for a few minutes."""
    notify_after_commit(
        user=entry.user,
        kind=Kind.WAITLIST_PROMOTED,
        context={
            "name": shopper_name(entry.user),
            "product_name": product.name,
            "minutes": str(_minutes_left(entry.promotion_expires_at, timezone.now())),
            "url": site_url(reverse("shop:cart")),
        },
        dedupe_key=f"waitlist_promoted:{entry.pk}",
    )


# --- Periodic jobs -----------------------------------------------------------------------------


def cart_expiring_key(line: CartLine) -> str:
    """Per line and expiry: a line whose timer was extended is warned again before its new end."""
    return f"cart_expiring:{line.pk}:{int(line.expires_at.timestamp())}"


def carts_expiring_notify(*, now: datetime | None = None) -> int:
    """Warn each shopper whose held line runs out within the next 2 minutes: a toast on their
    open pages (`cart.expiring`) and a push/Alimtalk message, once per line and expiry.
    Returns how many lines were warned now."""
    now = now or timezone.now()
    lines = (
        CartLine.objects.holding(now=now)
        .filter(expires_at__lte=now + timedelta(minutes=CART_EXPIRING_MINUTES))
        .select_related("user", "variant__product")
        .order_by("expires_at", "pk")
    )
    warned = 0
    cart_url = reverse("shop:cart")
    for line in lines:
        key = cart_expiring_key(line)
        if NotificationSend.objects.filter(dedupe_key=key).exists():
            continue
        product = line.variant.product
        minutes = _minutes_left(line.expires_at, now)
        with transaction.atomic():
            # A second run at the same moment skips the line instead of warning twice; a line
            # being released or changed right now is warned on the next run.
            locked = CartLine.objects.select_for_update(skip_locked=True).filter(pk=line.pk)
            if (
                not list(locked.values_list("pk", flat=True))
                or NotificationSend.objects.filter(dedupe_key=key).exists()
            ):
                continue
            notify(
                user=line.user,
                kind=Kind.CART_EXPIRING,
                context={
                    "name": shopper_name(line.user),
                    "product_name": product.name,
                    "minutes": str(minutes),
                    "url": site_url(cart_url),
                },
                dedupe_key=key,
            )
            realtime.cart_expiring(
                user_id=line.user_id,
                product_name=product.name,
                minutes=minutes,
                expires_at=line.expires_at,
                url=cart_url,
            )
        warned += 1
    return warned


def order_confirmation_key(*, stream_id: int, user_id: int) -> str:
    return f"order_confirmation:{stream_id}:{user_id}"


def order_confirmations_send(*, now: datetime | None = None) -> int:
    """After a show ends: one message per (shopper, show) listing that shopper's orders of the
    show. Waits `ORDER_CONFIRMATION_DELAY_MINUTES` after the end so the carts held at the end
    can still be checked out and be part of it; sent once (dedupe key per show and shopper).
    Returns how many messages were created now."""
    now = now or timezone.now()
    ready = now - timedelta(minutes=settings.ORDER_CONFIRMATION_DELAY_MINUTES)
    stream_ids = list(
        LiveStream.objects.filter(
            status=LiveStream.Status.OFFLINE,
            ended_at__lte=ready,
            ended_at__gte=now - CONFIRMATION_LOOKBACK,
        ).values_list("pk", flat=True)
    )
    created = 0
    for stream_id in stream_ids:
        stream = LiveStream.objects.get(pk=stream_id)
        rows = (
            OrderItem.objects.filter(stream_id=stream_id)
            .exclude(order__status=Order.Status.CANCELLED)
            .values("order__user_id")
            .annotate(first=Min("order__created_at"))
            .order_by("first")
        )
        for row in rows:
            user_id = row["order__user_id"]
            key = order_confirmation_key(stream_id=stream_id, user_id=user_id)
            if NotificationSend.objects.filter(dedupe_key=key).exists():
                continue
            _order_confirmation(stream=stream, user_id=user_id, key=key)
            created += 1
    return created


def _order_confirmation(*, stream: LiveStream, user_id: int, key: str) -> None:
    orders = list(
        Order.objects.filter(
            ~Q(status=Order.Status.CANCELLED), user_id=user_id, items__stream_id=stream.pk
        )
        .distinct()
        .select_related("user")
        .order_by("created_at", "pk")
    )
    if not orders:
        return
    total = sum((order.total for order in orders), Decimal("0"))
    path = reverse("orders:my-orders") if len(orders) > 1 else _order_path(orders[0])
    notify(
        user=orders[0].user,
        kind=Kind.ORDER_CONFIRMED,
        context={
            "name": shopper_name(orders[0].user),
            "stream_title": stream.title,
            "order_ids": ", ".join(order.order_id for order in orders),
            "order_count": str(len(orders)),
            "total": usd(total),
            "url": site_url(path),
        },
        dedupe_key=key,
    )
