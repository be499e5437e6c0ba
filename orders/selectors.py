"""Reads shared by pages, admin, services and the live studio."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Prefetch, Sum
from django.db.models.functions import TruncDate, TruncMinute
from django.urls import reverse

from core.models import get_config
from dorami.storetime import store_make_aware, store_tz
from orders.models import Order, OrderEvent, OrderItem
from orders.shipping import ZERO, ShippingQuote, line_total, money, shipping_quote
from orders.stream_rules import stream_rules
from points.services import points_limits

STATUS_TABS = [
    ("", "전체"),
    (Order.Status.PENDING_PAYMENT, "입금 대기"),
    (Order.Status.PAYMENT_CONFIRMED, "입금 확인"),
    (Order.Status.SHIPPED, "배송 중"),
    (Order.Status.DELIVERED, "배송 완료"),
    (Order.Status.CANCELLED, "취소"),
]


def user_state(*, user) -> str:
    return user.shipping_address.get("state", "")


def shipping_for(
    *,
    user,
    amounts: list[tuple[int | None, Decimal]],
    state: str,
    exclude_order_id: int | None = None,
    before=None,
    config=None,
) -> ShippingQuote:
    """Gather the inputs of `orders.shipping.shipping_quote` for `user` and evaluate it.

    `amounts` = (stream id or None, line total) per line of the order being priced."""
    config = config or get_config()
    by_stream: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for stream_id, amount in amounts:
        by_stream[stream_id] += money(amount)
    stream_ids = [sid for sid in by_stream if sid is not None]
    rules = stream_rules(stream_ids)
    prior: dict[int, Decimal] = {}
    if stream_ids:
        earlier = OrderItem.objects.filter(order__user=user, stream_id__in=stream_ids).exclude(
            order__status=Order.Status.CANCELLED
        )
        if exclude_order_id is not None:
            earlier = earlier.exclude(order_id=exclude_order_id)
        if before is not None:
            earlier = earlier.filter(order__created_at__lt=before)
        for row in earlier.values("stream_id").annotate(total=Sum("line_total")):
            prior[row["stream_id"]] = money(row["total"] or ZERO)
    return shipping_quote(
        subtotal_by_stream=dict(by_stream),
        state=state,
        streams=rules,
        prior_subtotal_by_stream=prior,
        fee_ca=config.shipping_fee_ca,
        fee_other=config.shipping_fee_other,
    )


@dataclass
class CheckoutPreview:
    lines: list
    subtotal: Decimal
    shipping: ShippingQuote
    total_before_points: Decimal
    points_balance: int
    points_min: int
    points_max: int
    points_enabled: bool


def checkout_preview(*, user, lines, config=None) -> CheckoutPreview:
    """Prices of `lines` (CartLine with variant/product loaded) as checkout will charge them."""
    config = config or get_config()
    amounts = [
        (line.variant.product.stream_id, line_total(line.variant.price, line.quantity))
        for line in lines
    ]
    subtotal = money(sum((amount for _sid, amount in amounts), ZERO))
    quote = shipping_for(user=user, amounts=amounts, state=user_state(user=user), config=config)
    total = money(subtotal + quote.fee)
    limits = points_limits(user=user, order_total=total, config=config)
    return CheckoutPreview(
        lines=list(lines),
        subtotal=subtotal,
        shipping=quote,
        total_before_points=total,
        points_balance=limits.balance,
        points_min=limits.minimum,
        points_max=limits.maximum,
        points_enabled=limits.enabled,
    )


def holding_lines(*, user):
    """The shopper's active, unexpired cart lines, for display (checkout re-checks them)."""
    from shop.models import CartLine

    return list(
        CartLine.objects.holding()
        .filter(user=user)
        .select_related("variant__product")
        .order_by("created_at", "id")
    )


def cart_shipping_quote(*, user) -> dict:
    """The cart page's summary figures, computed exactly as checkout will."""
    lines = holding_lines(user=user)
    preview = checkout_preview(user=user, lines=lines)
    return {
        "count": len(lines),
        "subtotal": preview.subtotal,
        "shipping_fee": preview.shipping.fee,
        "shipping_rule": preview.shipping.rule,
        "shipping_label": preview.shipping.label,
        "total": preview.total_before_points,
    }


def cart_summary_extra(*, user, cart=None) -> dict:
    """The shipping row and total on the cart page (registered with `shop.cart_summary`)."""
    quote = cart_shipping_quote(user=user)
    label = "배송비" + (f" ({quote['shipping_label']})" if quote["shipping_label"] else "")
    return {
        "rows": [(label, quote["shipping_fee"])],
        "total": quote["total"],
        "checkout_url": reverse("orders:checkout"),
    }


def orders_for_user(*, user, status: str = ""):
    qs = Order.objects.filter(user=user).prefetch_related("items")
    if status:
        qs = qs.filter(status=status)
    return qs


def order_for_user(*, user, order_id: str) -> Order | None:
    return (
        Order.objects.filter(user=user, order_id=order_id)
        .prefetch_related(
            "items", Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id"))
        )
        .first()
    )


def order_status_counts(*, user) -> dict[str, int]:
    rows = Order.objects.filter(user=user).values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    counts[""] = sum(counts.values())
    return counts


def stream_sales(*, stream_id: int) -> dict:
    """Live sales of one stream (non-cancelled orders): seller studio and staff events."""
    items = OrderItem.objects.filter(stream_id=stream_id).exclude(
        order__status=Order.Status.CANCELLED
    )
    totals = items.aggregate(orders=Count("order_id", distinct=True), revenue=Sum("line_total"))
    units = (
        items.values("product_id", "product_name")
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"))
        .order_by("-units", "product_name")
    )
    return {
        "orders": totals["orders"] or 0,
        "revenue": money(totals["revenue"] or ZERO),
        "units_by_product": [
            {
                "product_id": row["product_id"],
                "name": row["product_name"],
                "units": row["units"],
                "revenue": money(row["revenue"]),
            }
            for row in units
        ],
    }


def stream_revenue_by_minute(*, stream_id: int) -> list[tuple]:
    """(minute, revenue of the stream's non-cancelled orders placed in it), oldest first: the
    studio's sales-over-time chart."""
    rows = (
        OrderItem.objects.filter(stream_id=stream_id)
        .exclude(order__status=Order.Status.CANCELLED)
        .annotate(minute=TruncMinute("order__created_at"))
        .values("minute")
        .annotate(revenue=Sum("line_total"))
        .order_by("minute")
    )
    return [(row["minute"], money(row["revenue"] or ZERO)) for row in rows]


def unpaid_orders_due_reminder(*, now, hours: int):
    return Order.objects.pending_payment().filter(
        reminder_sent_at__isnull=True, created_at__lte=now - timedelta(hours=hours)
    )


def unpaid_orders_due_cancel(*, now, hours: int):
    return Order.objects.pending_payment().filter(created_at__lte=now - timedelta(hours=hours))


EXPORT_HEADER = [
    "주문번호",
    "주문일시",
    "상태",
    "인스타그램",
    "이메일",
    "입금자명",
    "결제수단",
    "상품명",
    "옵션",
    "단가",
    "수량",
    "금액",
    "상품합계",
    "배송비",
    "사용포인트",
    "결제금액",
    "운송장",
    "받는분",
    "주소1",
    "주소2",
    "도시",
    "주",
    "ZIP",
    "전화",
    "방송",
    "주문일",
]


def orders_created_between(*, first_day: date, last_day: date):
    """Orders placed from `first_day` to `last_day` inclusive, days on the store's calendar."""
    start = store_make_aware(datetime.combine(first_day, time.min))
    end = store_make_aware(datetime.combine(last_day + timedelta(days=1), time.min))
    return Order.objects.filter(created_at__gte=start, created_at__lt=end)


def order_export_item_count(*, orders) -> int:
    """How many rows `order_export_rows` yields for these orders (for a progress bar)."""
    return OrderItem.objects.filter(order__in=orders).count()


def order_export_rows(*, orders):
    """One row per item (money as Decimal, times in the store time zone) for CSV/XLSX; the
    last two columns are the item's show (empty for a store product) and the store-local
    date the order was placed."""
    tz = store_tz()
    qs = (
        orders.select_related("user").prefetch_related("items__stream").order_by("created_at", "id")
    )
    for order in qs.iterator(chunk_size=500):
        address = order.shipping_address
        created = order.created_at.astimezone(tz)
        for item in order.items.all():
            yield [
                order.order_id,
                created.strftime("%Y-%m-%d %H:%M"),
                order.get_status_display(),
                order.user.instagram_id or "",
                order.user.email,
                order.depositor_name,
                order.get_payment_method_display(),
                item.product_name,
                item.option_label,
                item.unit_price,
                item.quantity,
                item.line_total,
                order.subtotal,
                order.shipping_fee,
                order.points_used,
                order.total,
                order.tracking_number,
                address.get("full_name", ""),
                address.get("address1", ""),
                address.get("address2", ""),
                address.get("city", ""),
                address.get("state", ""),
                address.get("zip", ""),
                order.user.phone,
                item.stream.title if item.stream else "",
                created.date().isoformat(),
            ]


# --- Settlement (SPEC §9) -------------------------------------------------------------------
# An order counts on the store-local day its payment was confirmed (`confirmed_at`), whatever
# happened after (shipped, delivered) — unless it was cancelled since: a cancelled order's
# points are refunded and its money returned, so it is no revenue.

SETTLEMENT_DAILY_HEADER = ["날짜", "주문 수", "매출", "배송비", "사용 포인트", "포인트 할인"]
SETTLEMENT_ORDER_HEADER = [
    "주문번호",
    "입금 확인일",
    "입금 확인 시각",
    "방송",
    "인스타그램",
    "입금자명",
    "상태",
    "상품 금액",
    "배송비",
    "사용 포인트",
    "포인트 할인",
    "결제 금액",
]


@dataclass
class Settlement:
    start: date
    end: date
    count: int
    revenue: Decimal
    average: Decimal
    shipping: Decimal
    points_used: int
    points_discount: Decimal
    daily: list[dict]  # every day of the range, oldest first: date, count, revenue, shipping, …
    shows: list[dict]  # stream_id (None = store items), title, orders, units, revenue


def settlement_orders(*, start: date, end: date):
    """Orders whose payment was confirmed from `start` to `end` inclusive (store-local days),
    not cancelled since."""
    begin = store_make_aware(datetime.combine(start, time.min))
    finish = store_make_aware(datetime.combine(end + timedelta(days=1), time.min))
    return Order.objects.filter(confirmed_at__gte=begin, confirmed_at__lt=finish).exclude(
        status=Order.Status.CANCELLED
    )


def settlement_summary(*, start: date, end: date) -> Settlement:
    """Totals, one row per store-local day and one per show, summed in the database (the day
    is `confirmed_at` truncated in the store's zone: AT TIME ZONE on PostgreSQL)."""
    orders = settlement_orders(start=start, end=end)
    totals = orders.aggregate(
        count=Count("id"),
        revenue=Sum("total"),
        shipping=Sum("shipping_fee"),
        points_used=Sum("points_used"),
        points_discount=Sum("points_discount"),
    )
    by_day = {
        row["day"]: row
        for row in orders.annotate(day=TruncDate("confirmed_at", tzinfo=store_tz()))
        .values("day")
        .annotate(
            count=Count("id"),
            revenue=Sum("total"),
            shipping=Sum("shipping_fee"),
            points_used=Sum("points_used"),
            points_discount=Sum("points_discount"),
        )
        .order_by("day")
    }
    daily = []
    day = start
    while day <= end:
        row = by_day.get(day, {})
        daily.append(
            {
                "date": day,
                "count": row.get("count", 0),
                "revenue": money(row.get("revenue") or ZERO),
                "shipping": money(row.get("shipping") or ZERO),
                "points_used": row.get("points_used") or 0,
                "points_discount": money(row.get("points_discount") or ZERO),
            }
        )
        day += timedelta(days=1)
    shows = [
        {
            "stream_id": row["stream_id"],
            "title": row["stream__title"] or "",
            "orders": row["orders"],
            "units": row["units"],
            "revenue": money(row["revenue"] or ZERO),
        }
        for row in OrderItem.objects.filter(order__in=orders)
        .values("stream_id", "stream__title")
        .annotate(
            orders=Count("order_id", distinct=True),
            units=Sum("quantity"),
            revenue=Sum("line_total"),
        )
        .order_by("-revenue", "stream_id")
    ]
    count = totals["count"]
    revenue = money(totals["revenue"] or ZERO)
    return Settlement(
        start=start,
        end=end,
        count=count,
        revenue=revenue,
        average=money(revenue / count) if count else ZERO,
        shipping=money(totals["shipping"] or ZERO),
        points_used=totals["points_used"] or 0,
        points_discount=money(totals["points_discount"] or ZERO),
        daily=daily,
        shows=shows,
    )


def settlement_daily_rows(*, summary: Settlement):
    for row in summary.daily:
        yield [
            row["date"].isoformat(),
            row["count"],
            row["revenue"],
            row["shipping"],
            row["points_used"],
            row["points_discount"],
        ]
    yield [
        "합계",
        summary.count,
        summary.revenue,
        summary.shipping,
        summary.points_used,
        summary.points_discount,
    ]


def settlement_order_rows(*, start: date, end: date):
    """One row per order of the settlement, oldest confirmation first (times in store time)."""
    tz = store_tz()
    orders = (
        settlement_orders(start=start, end=end)
        .select_related("user")
        .prefetch_related("items__stream")
        .order_by("confirmed_at", "id")
    )
    for order in orders.iterator(chunk_size=500):
        confirmed = order.confirmed_at.astimezone(tz)
        titles = sorted({item.stream.title for item in order.items.all() if item.stream})
        yield [
            order.order_id,
            confirmed.date().isoformat(),
            confirmed.strftime("%H:%M"),
            ", ".join(titles),
            order.user.instagram_id or "",
            order.depositor_name,
            order.get_status_display(),
            order.subtotal,
            order.shipping_fee,
            order.points_used,
            order.points_discount,
            order.total,
        ]
