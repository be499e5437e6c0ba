"""Reads shared by the live pages, the room-state endpoint and the consumer."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.permissions import ACCOUNT_STATE_FIELDS
from core.statements import Statement
from dorami.realtime import REDIS_DOWN, room_group, room_sequence
from live.models import ChatMessage, ChatSanction, LiveStream, public_id_valid
from live.presence import viewer_count
from live.realtime import stream_payload
from orders.models import Order, OrderItem
from orders.selectors import stream_sales
from orders.shipping import StreamRule

logger = logging.getLogger(__name__)


def stream_by_public_id(public_id: str) -> LiveStream | None:
    """The stream a shopper URL or socket path names. Only the public id finds a stream."""
    if not public_id_valid(public_id):
        return None
    found = _stream_by_public_id(public_id=public_id)
    return found[0] if found else None


_stream_by_public_id = Statement(
    lambda public_id: LiveStream.objects.filter(public_id=public_id).order_by("pk")[:1],
    public_id="str",
)


def player_urls(stream: LiveStream) -> dict:
    """Where the player (`static/js/player.js`) plays the stream: HTTP-FLV, HLS fallback. The
    live page and the studio's preview use the same ones."""
    return {
        "flv_url": f"/live/live/{stream.public_id}.flv",
        "hls_url": f"/hls/{stream.public_id}.m3u8",
    }


def current_stream() -> LiveStream | None:
    """The LIVE stream, else the next scheduled one."""
    live = LiveStream.objects.live().order_by("-started_at").first()
    return live or LiveStream.objects.upcoming().first()


def next_stream(*, after: LiveStream) -> LiveStream | None:
    """The next scheduled show after `after` (the ended page points to it)."""
    return (
        LiveStream.objects.upcoming()
        .exclude(pk=after.pk)
        .filter(scheduled_at__gt=timezone.now())
        .order_by("scheduled_at")
        .first()
    )


def _carousel_statements() -> tuple[Statement, Statement, Statement]:
    from shop.models import Product, ProductImage, ProductVariant

    def products(stream_id):
        return Product.objects.filter(stream_id=stream_id, hidden_from_store=False).order_by(
            "sort_order", "id"
        )

    def variants(stream_id):
        return (
            ProductVariant.objects.filter(product__stream_id=stream_id)
            .filter(product__hidden_from_store=False)
            .exclude(status=ProductVariant.Status.HIDDEN)
            .order_by("sort_order", "id")
        )

    def images(stream_id):
        return ProductImage.objects.filter(
            product__stream_id=stream_id, product__hidden_from_store=False
        ).order_by("sort_order", "id")

    return (
        Statement(products, stream_id="int"),
        Statement(variants, stream_id="int"),
        Statement(images, stream_id="int"),
    )


_carousel: tuple[Statement, Statement, Statement] | None = None


def stream_products(stream: LiveStream, *, product_id: int | None = None) -> list:
    """Carousel: the stream's visible products, each with `live_variants` (not hidden),
    `live_images` and the card's price, units and sold-out state (3 prebuilt statements, see
    core.statements: the live page reads this on every view); with `product_id`, that one
    product's card data ([] if it is not on the carousel)."""
    from shop.models import Product

    global _carousel
    if _carousel is None:
        _carousel = _carousel_statements()
    read_products, read_variants, read_images = _carousel
    products = read_products(stream_id=stream.pk)
    if product_id is not None:
        products = [product for product in products if product.pk == product_id]
    if not products:
        return []
    variants: dict[int, list] = {product.pk: [] for product in products}
    for variant in read_variants(stream_id=stream.pk):
        if variant.product_id in variants:
            variants[variant.product_id].append(variant)
    images: dict[int, list] = {product.pk: [] for product in products}
    for image in read_images(stream_id=stream.pk):
        if image.product_id in images:
            images[image.product_id].append(image)
    for product in products:
        product.live_variants = variants[product.pk]
        product.live_images = images[product.pk]
        active = [v for v in product.live_variants if v.status == "ACTIVE"]
        available = sum(v.available for v in active)
        product.live_price = min(v.price for v in active) if active else product.price
        product.live_available = available
        product.live_sold_out = product.status == Product.Status.SOLD_OUT or available == 0
        # the card's data-variant-stock: "id:units,…" (0 for an option not on sale)
        product.live_variant_stock = ",".join(
            f"{v.pk}:{v.available if v.status == 'ACTIVE' else 0}" for v in product.live_variants
        )
        # Everything the carousel card shows of the product (live/watch.html#product-card, with
        # the featured product and the low-stock threshold): the key of its rendered fragment.
        cover = product.live_images[0].image.name if product.live_images else ""
        product.card_key = repr(
            (
                product.pk,
                product.name,
                str(product.live_price),
                product.live_available,
                product.live_sold_out,
                product.live_variant_stock,
                cover,
            )
        )
    return products


def _stock_list(products: list) -> list[dict]:
    return [
        {
            "product_id": product.pk,
            "status": product.status,
            "sold_out": product.live_sold_out,
            "available": product.live_available,
            "variants": [
                {
                    "variant_id": v.pk,
                    "stock": v.stock,
                    "available": v.available,
                    "status": v.status,
                }
                for v in product.live_variants
            ],
        }
        for product in products
    ]


def room_position(stream: LiveStream) -> dict:
    """The room's `seq` and `epoch`, and whether its realtime link (Redis) is up. While Redis
    is down: seq 0 and no epoch, so the first event after it is back makes the page refetch."""
    try:
        seq, epoch = room_sequence(room_group(stream.pk))
    except REDIS_DOWN:
        logger.warning("room sequence unavailable stream_id=%s redis down", stream.pk)
        return {"seq": 0, "epoch": "", "realtime": "degraded"}
    return {"seq": seq, "epoch": epoch, "realtime": "ok"}


def live_room_state(*, stream: LiveStream) -> dict:
    """Everything a client needs after a gap or a reconnect. The seq is read first, so every
    event after it is either reflected here or arrives later with a higher seq. While Redis is
    down `viewers` is null and `realtime` is "degraded" (the rest comes from the database)."""
    from live.services.chat import history_read

    position = room_position(stream)
    products = stream_products(stream)
    return {
        **stream_payload(stream),
        **position,
        "viewers": viewer_count(stream.pk),
        "notice": stream.notice_text,
        "featured_product_id": stream.featured_product_id,
        "products": _stock_list(products),
        "messages": history_read(stream_id=stream.pk),
    }


# --- Consumer join --------------------------------------------------------------------------
_join_cache: dict[str, tuple[float, dict | None]] = {}
JOIN_CACHE_SECONDS = 2.0


def join_context(*, public_id: str, user_id: int | None) -> dict | None:
    """What a socket needs to join: the stream and, for a user, whether they are banned.

    Guests' lookups are cached in-process for 2 s so a reconnect storm costs no queries.
    """
    context = cached_join_context(public_id)
    if context is False:
        stream = stream_by_public_id(public_id)
        context = None if stream is None else {"stream_id": stream.pk, "status": stream.status}
        if len(_join_cache) > 1000:
            _join_cache.clear()
        _join_cache[public_id] = (time.monotonic() + JOIN_CACHE_SECONDS, context)
    if context is None or not user_id:
        return context
    account = account_state(stream_id=context["stream_id"], user_id=user_id)
    return {**context, "account": account, "banned": bool(account and account["banned"])}


def account_state(*, stream_id: int, user_id: int) -> dict | None:
    """The user's account columns as they are now (`ACCOUNT_STATE_FIELDS`, for
    `accounts.permissions.account_change`) and their chat sanctions in the stream, in one
    indexed query (None if the user is gone). Every join and chat send makes it, so a socket
    never acts on the user it loaded at its handshake after that user was suspended.

    The statement is built once per database from the models' columns (`_account_sql`): as an
    ORM query (`account_state_query`, the same answer) it was compiled anew for every chat
    message, ≈ 60 % of a message's CPU, which every viewer's delivery shares."""
    user_model = get_user_model()
    alias = router.db_for_read(user_model)
    connection = connections[alias]
    sql = _account_sql.get(alias)
    if sql is None:
        sql = _account_sql[alias] = _account_statement(connection)
    kinds = ChatSanction.Kind
    with connection.cursor() as cursor:
        cursor.execute(sql, [stream_id, kinds.BAN, stream_id, kinds.MUTE, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    fields = [user_model._meta.get_field(name) for name in ACCOUNT_STATE_FIELDS]
    state = {
        field.name: (
            field.from_db_value(value, None, connection)
            if hasattr(field, "from_db_value")
            else value
        )
        for field, value in zip(fields, row, strict=False)
    }
    state["banned"], state["muted"] = bool(row[-2]), bool(row[-1])
    return state


_account_sql: dict[str, str] = {}


def _account_statement(connection) -> str:
    """`account_state_query` as SQL: quoted names from the models' own definitions only; the
    stream, the sanction kinds and the user are parameters."""
    quote = connection.ops.quote_name
    user_meta, sanction_meta = get_user_model()._meta, ChatSanction._meta
    columns = ", ".join(
        "u." + quote(user_meta.get_field(name).column) for name in ACCOUNT_STATE_FIELDS
    )
    pk = "u." + quote(user_meta.pk.column)

    def column(name: str) -> str:
        return "s." + quote(sanction_meta.get_field(name).column)

    exists = (
        f"EXISTS (SELECT 1 FROM {quote(sanction_meta.db_table)} s "  # noqa: S608
        f"WHERE {column('stream')} = %s AND {column('user')} = {pk} AND {column('kind')} = %s)"
    )
    return (
        f"SELECT {columns}, {exists}, {exists} "  # noqa: S608
        f"FROM {quote(user_meta.db_table)} u WHERE {pk} = %s"
    )


def account_state_query(*, stream_id: int, user_id: int) -> dict | None:
    """`account_state` through the ORM (the reference its statement is checked against)."""
    sanctions = ChatSanction.objects.filter(stream_id=stream_id, user_id=OuterRef("pk"))
    return (
        get_user_model()
        .objects.filter(pk=user_id)
        .values(*ACCOUNT_STATE_FIELDS)
        .annotate(
            banned=Exists(sanctions.filter(kind=ChatSanction.Kind.BAN)),
            muted=Exists(sanctions.filter(kind=ChatSanction.Kind.MUTE)),
        )
        .first()
    )


def cached_join_context(public_id: str) -> dict | bool | None:
    """The cached guest context, or False when a database lookup is needed."""
    cached = _join_cache.get(public_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    return False


def stream_shipping_rules(stream_ids: Collection[int]) -> dict[int, StreamRule]:
    """The free-shipping rule of each stream (registered with `orders.stream_rules`)."""
    rows = LiveStream.objects.filter(pk__in=stream_ids).values(
        "id", "free_shipping_mode", "free_shipping_threshold"
    )
    return {
        row["id"]: StreamRule(
            stream_id=row["id"],
            mode=row["free_shipping_mode"],
            threshold=row["free_shipping_threshold"],
        )
        for row in rows
    }


def stream_history(*, stream: LiveStream) -> dict:
    """One show's record for the stream admin and the studio (3 queries): peak viewers and
    duration (kept on the stream), chat messages (all sent; `chat_deleted` of them hidden by
    moderation), and `orders.selectors.stream_sales` — orders, revenue (sum of the show's item
    totals, Decimal, unpaid included, cancelled orders left out) and units per product, with
    each product's share of the units for the bar."""
    chat = ChatMessage.objects.filter(stream=stream).aggregate(
        sent=Count("pk"), deleted=Count("pk", filter=Q(is_deleted=True))
    )
    sales = stream_sales(stream_id=stream.pk)
    units = sum(row["units"] for row in sales["units_by_product"])
    most = max((row["units"] for row in sales["units_by_product"]), default=0)
    products = [
        {**row, "percent": round(row["units"] * 100 / most) if most else 0}
        for row in sales["units_by_product"]
    ]
    return {
        "peak_viewers": stream.peak_viewers,
        "duration_seconds": stream.total_duration_seconds,
        "started_at": stream.started_at,
        "ended_at": stream.ended_at,
        "chat_messages": chat["sent"],
        "chat_deleted": chat["deleted"],
        "orders": sales["orders"],
        "revenue": sales["revenue"],
        "units": units,
        "units_by_product": products,
    }


def streams_with_totals(queryset: QuerySet) -> QuerySet:
    """Each stream with `order_total` (orders not cancelled with an item of the show),
    `revenue_total` (those items' `line_total`, as in `stream_history`) and `chat_total`, as
    correlated subqueries: one query for the broadcast list, each column sortable."""
    items = (
        OrderItem.objects.filter(stream=OuterRef("pk"))
        .exclude(order__status=Order.Status.CANCELLED)
        .order_by()
        .values("stream")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    chat = ChatMessage.objects.filter(stream=OuterRef("pk")).order_by().values("stream")
    return queryset.annotate(
        order_total=Coalesce(
            Subquery(items.annotate(n=Count("order", distinct=True)).values("n")), 0
        ),
        revenue_total=Coalesce(
            Subquery(items.annotate(s=Sum("line_total")).values("s"), output_field=money),
            Value(Decimal("0.00"), output_field=money),
        ),
        chat_total=Coalesce(Subquery(chat.annotate(n=Count("pk")).values("n")), 0),
    )
