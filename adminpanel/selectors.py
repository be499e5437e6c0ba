"""Reads for the admin dashboard (the admin index page) and the user overview of the user
admin (list columns and the change page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from live.models import LiveStream
from live.presence import viewer_count
from orders.models import Order, OrderItem
from orders.selectors import stream_sales
from points.models import PointBalance, PointTransaction
from shop.models import CartLine, WaitlistEntry

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


# --- Users --------------------------------------------------------------------------------------

# Orders whose money came in (and did not go back): what "total spent" adds up.
PAID_STATUSES = (
    Order.Status.PAYMENT_CONFIRMED,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
)
USER_LEDGER_ROWS = 10
USER_RECENT_ORDERS = 5


def users_with_stats(queryset: QuerySet) -> QuerySet:
    """Each user with `order_count` (orders not cancelled), `total_spent` (sum of `total` of
    paid orders: confirmed, shipped, delivered), `last_order_at` (newest order, any status)
    and `points_balance`, as correlated subqueries: one query for a whole list page, no N+1,
    each figure sortable."""
    orders = Order.objects.filter(user=OuterRef("pk")).order_by().values("user")
    money = DecimalField(max_digits=12, decimal_places=2)
    return queryset.annotate(
        order_count=Coalesce(
            Subquery(
                orders.exclude(status=Order.Status.CANCELLED).annotate(n=Count("pk")).values("n")
            ),
            0,
        ),
        total_spent=Coalesce(
            Subquery(
                orders.filter(status__in=PAID_STATUSES)
                .annotate(amount=Sum("total"))
                .values("amount"),
                output_field=money,
            ),
            Value(ZERO, output_field=money),
        ),
        last_order_at=Subquery(
            Order.objects.filter(user=OuterRef("pk"))
            .order_by("-created_at")
            .values("created_at")[:1]
        ),
        points_balance=Coalesce(
            Subquery(PointBalance.objects.filter(user=OuterRef("pk")).values("balance")), 0
        ),
    )


@dataclass
class UserOverview:
    order_count: int
    total_spent: Decimal
    last_order: Order | None
    recent_orders: list
    points_balance: int
    ledger: list  # the newest USER_LEDGER_ROWS point transactions
    holds: list  # cart lines holding stock now, soonest expiry first
    waitlist: list  # open waitlist entries (waiting or promoted)


def user_overview(*, user) -> UserOverview:
    """What the user admin's change page shows above the form (6 queries)."""
    stats = users_with_stats(type(user).objects.filter(pk=user.pk)).values(
        "order_count", "total_spent", "points_balance"
    )[0]
    recent = list(Order.objects.filter(user=user).order_by("-created_at")[:USER_RECENT_ORDERS])
    now = timezone.now()
    holds = list(
        CartLine.objects.holding(now=now)
        .filter(user=user)
        .select_related("variant__product")
        .order_by("expires_at", "pk")
    )
    waitlist = list(
        WaitlistEntry.objects.filter(
            user=user,
            status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.PROMOTED],
        )
        .select_related("product", "variant")
        .order_by("created_at", "pk")
    )
    ledger = list(
        PointTransaction.objects.filter(user=user)
        .select_related("order")
        .order_by("-created_at", "-pk")[:USER_LEDGER_ROWS]
    )
    return UserOverview(
        order_count=stats["order_count"],
        total_spent=_money(stats["total_spent"]),
        last_order=recent[0] if recent else None,
        recent_orders=recent,
        points_balance=stats["points_balance"],
        ledger=ledger,
        holds=holds,
        waitlist=waitlist,
    )
