"""Demo orders for `manage.py seed_demo`: one order in every status for each demo shopper with
a complete profile, placed through the real services (idempotent: keyed by order token)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from core.models import get_config
from orders import services
from orders.models import Order

S = Order.Status
FLOW = [
    (S.PENDING_PAYMENT, 1),
    (S.PAYMENT_CONFIRMED, 1),
    (S.SHIPPED, 1),
    (S.DELIVERED, 1),
    (S.CANCELLED, 1),
]
DEMO_EMAILS = ("minji@dorami.local", "jisoo@dorami.local")


def _variant_with_stock(offset: int):
    from shop.models import Product, ProductVariant

    variants = list(
        ProductVariant.objects.filter(
            status=ProductVariant.Status.ACTIVE,
            product__status=Product.Status.AVAILABLE,
            stock__gt=F("held"),
        ).order_by("product__sort_order", "id")[:20]
    )
    if not variants:
        product, _ = Product.objects.get_or_create(
            name="데모 상품", defaults={"price": Decimal("20.00"), "timer_enabled": False}
        )
        variant, _ = ProductVariant.objects.get_or_create(
            product=product, color="", size="", defaults={"price": Decimal("20.00"), "stock": 50}
        )
        if variant.stock - variant.held < 1:
            ProductVariant.objects.filter(pk=variant.pk).update(stock=F("held") + 50)
        return variant
    return variants[offset % len(variants)]


def _advance(order: Order, target: str, admin) -> None:
    if order.status == target or order.status == S.CANCELLED:
        return
    if target == S.CANCELLED:
        services.order_cancel(order=order.pk, actor=admin, reason="데모: 고객 요청 취소")
        return
    if order.status == S.PENDING_PAYMENT:
        services.payment_confirm(order=order.pk, actor=admin)
    if target in (S.SHIPPED, S.DELIVERED) and Order.objects.get(pk=order.pk).status == (
        S.PAYMENT_CONFIRMED
    ):
        services.order_ship(order=order.pk, tracking_number="1Z999AA10123456784", actor=admin)
    if target == S.DELIVERED:
        services.order_deliver(order=order.pk, actor=admin)


DEMO_PAYMENT_ACCOUNTS = {
    "bank_name": "Hanmi Bank",
    "bank_account_number": "1234-567-890",
    "bank_account_holder": "Dorami LLC",
    "zelle_email": "pay@dorami.local",
    "zelle_recipient_name": "Dorami LLC",
}


def _demo_payment_accounts() -> None:
    """Fill the payment account fields the order-complete page shows, only where blank."""

    config = get_config()
    blank = {k: v for k, v in DEMO_PAYMENT_ACCOUNTS.items() if not getattr(config, k)}
    if blank:
        for key, value in blank.items():
            setattr(config, key, value)
        config.save()


@transaction.atomic
def seed_orders() -> list[Order]:
    from shop.services import cart_add

    _demo_payment_accounts()

    User = get_user_model()
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    created: list[Order] = []
    shoppers = User.objects.filter(email__in=DEMO_EMAILS, profile_completed_at__isnull=False)
    for shopper_index, shopper in enumerate(shoppers.order_by("email")):
        for step, (target, quantity) in enumerate(FLOW):
            key = f"demo-{shopper.pk}-{step}"
            order = Order.objects.filter(user=shopper, idempotency_key=key).first()
            if order is None:
                variant = _variant_with_stock(shopper_index * len(FLOW) + step)
                line = cart_add(user=shopper, variant_id=variant.pk, quantity=quantity)
                order = services.order_place(
                    user=shopper,
                    idempotency_key=key,
                    payment_method=Order.PaymentMethod.BANK_TRANSFER
                    if step % 2 == 0
                    else Order.PaymentMethod.ZELLE,
                    line_ids=[line.pk],
                )
            _advance(order, target, admin)
            created.append(order)
    return created
