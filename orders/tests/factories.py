"""Builders for order tests: streams, products with stock, held cart lines, orders."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db.models import F

from live.models import LiveStream
from orders.models import Order, OrderItem
from orders.services.numbering import order_number_next
from orders.shipping import line_total, money
from shop.models import CartLine, Product, ProductVariant


def make_stream(*, mode: str = "DISABLED", threshold: str = "150.00", **extra) -> LiveStream:
    return LiveStream.objects.create(
        title=extra.pop("title", "테스트 방송"),
        free_shipping_mode=mode,
        free_shipping_threshold=Decimal(threshold),
        **extra,
    )


def make_variant(
    *, price: str = "10.00", stock: int = 10, stream=None, name: str = "니트", **extra
) -> ProductVariant:
    product = Product.objects.create(
        name=name, price=Decimal(price), stream=stream, timer_enabled=False
    )
    return ProductVariant.objects.create(
        product=product, price=Decimal(price), stock=stock, **extra
    )


def hold(*, user, variant: ProductVariant, quantity: int = 1, expires_at=None) -> CartLine:
    """An active cart line with its units held (what `cart_add` leaves behind)."""
    ProductVariant.objects.filter(pk=variant.pk).update(held=F("held") + quantity)
    return CartLine.objects.create(
        user=user, variant=variant, quantity=quantity, expires_at=expires_at
    )


def make_order(
    *,
    user,
    items: list[tuple[ProductVariant, int]],
    status: str = Order.Status.PENDING_PAYMENT,
    shipping_fee: str = "8.00",
    points_used: int = 0,
    sell: bool = True,
) -> Order:
    """An order written directly (no cart), its units taken from stock like checkout does."""
    subtotal = money(sum((line_total(v.price, q) for v, q in items), Decimal("0")))
    discount = money(Decimal(points_used) / 100)
    order = Order(
        order_id=order_number_next(),
        user=user,
        status=status,
        payment_method=Order.PaymentMethod.BANK_TRANSFER,
        subtotal=subtotal,
        shipping_fee=Decimal(shipping_fee),
        points_used=points_used,
        points_discount=discount,
        total=money(subtotal + Decimal(shipping_fee) - discount),
        depositor_name=user.depositor_name or "입금자",
        idempotency_key=uuid.uuid4().hex,
        tracking_number="1Z999" if status in ("SHIPPED", "DELIVERED") else "",
    )
    order.shipping_address = user.shipping_address or {"state": "CA"}
    order.save()
    for variant, quantity in items:
        if sell:
            ProductVariant.objects.filter(pk=variant.pk).update(stock=F("stock") - quantity)
        OrderItem.objects.create(
            order=order,
            variant=variant,
            product=variant.product,
            stream_id=variant.product.stream_id,
            product_name=variant.product.name,
            option_label=variant.option_label,
            unit_price=variant.price,
            quantity=quantity,
            line_total=line_total(variant.price, quantity),
        )
    return order
