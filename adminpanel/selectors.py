"""Reads for the admin dashboard (the admin index page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from live.models import LiveStream
from live.presence import viewer_count
from orders.models import Order, OrderItem
from orders.selectors import stream_sales

ZERO = Decimal("0.00")
CHART_DAYS = 14
PENDING_LIST = 10


@dataclass
class Dashboard:
    revenue_7d: Decimal
    orders_7d: int
    revenue_prev_7d: Decimal
    change_percent: Decimal | None  # None when the previous week had no revenue
    pending_count: int
    pending_amount: Decimal
    top_products: list[dict]
    daily: list[dict]  # [{"date", "revenue", "percent"}], oldest first, store time zone
    live: dict | None = None
    pending_orders: list | None = None  # the newest PENDING_LIST unpaid orders, newest first


def _money(value) -> Decimal:
    return (value or ZERO).quantize(Decimal("0.01"))


def dashboard_summary(*, now: datetime | None = None) -> Dashboard:
    """Revenue of the last 7 days vs the 7 before (by payment confirmation), pending payments,
    top 5 products of the week, daily revenue of the last 14 store days, the live show, and
    the newest unpaid orders with their deadlines (what an admin confirms during a show)."""
    now = now or timezone.now()
    week = timedelta(days=7)
    paid = Order.objects.paid()

    def revenue(start, end) -> tuple[Decimal, int]:
        row = paid.filter(confirmed_at__gte=start, confirmed_at__lt=end).aggregate(
            total=Sum("total"), count=Count("id")
        )
        return _money(row["total"]), row["count"]

    revenue_7d, orders_7d = revenue(now - week, now)
    revenue_prev, _count = revenue(now - 2 * week, now - week)
    change = None
    if revenue_prev:
        change = ((revenue_7d - revenue_prev) / revenue_prev * 100).quantize(Decimal("0.1"))

    pending = Order.objects.pending_payment().aggregate(total=Sum("total"), count=Count("id"))
    pending_orders = list(
        Order.objects.pending_payment()
        .select_related("user")
        .order_by("-created_at", "-id")[:PENDING_LIST]
    )

    top = (
        OrderItem.objects.filter(
            order__in=paid, order__confirmed_at__gte=now - week, order__confirmed_at__lt=now
        )
        .values("product_id", "product_name")
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"))
        .order_by("-units", "-revenue", "product_name")[:5]
    )

    store_tz = ZoneInfo(settings.STORE_TIME_ZONE)
    today = timezone.localtime(now, store_tz).date()
    first = today - timedelta(days=CHART_DAYS - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=store_tz)
    by_day = dict(
        paid.filter(confirmed_at__gte=start, confirmed_at__lt=now)
        .annotate(day=TruncDate("confirmed_at", tzinfo=store_tz))
        .values("day")
        .annotate(total=Sum("total"))
        .values_list("day", "total")
    )
    days = [first + timedelta(days=i) for i in range(CHART_DAYS)]
    peak = max((by_day.get(d) or ZERO for d in days), default=ZERO)
    daily = [
        {
            "date": d,
            "revenue": _money(by_day.get(d)),
            "percent": int((by_day.get(d) or ZERO) * 100 / peak) if peak else 0,
        }
        for d in days
    ]

    live = None
    stream = LiveStream.objects.live().order_by("-started_at").first()
    if stream is not None:
        live = {
            "stream": stream,
            "viewers": viewer_count(stream.pk),
            "sales": stream_sales(stream_id=stream.pk),
        }

    return Dashboard(
        revenue_7d=revenue_7d,
        orders_7d=orders_7d,
        revenue_prev_7d=revenue_prev,
        change_percent=change,
        pending_count=pending["count"],
        pending_amount=_money(pending["total"]),
        top_products=[{**row, "revenue": _money(row["revenue"])} for row in top],
        daily=daily,
        live=live,
        pending_orders=pending_orders,
    )
