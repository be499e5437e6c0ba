"""Seller-side catalog writes: stock, sold-out, hide/delete, duplicate, option grids."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core.services import audit_log_record
from shop import realtime
from shop.models import MAX_STOCK, CartLine, Product, ProductImage, ProductVariant, WaitlistEntry
from shop.services import inventory
from shop.services.errors import (
    InsufficientStock,
    InvalidQuantity,
    InvalidStock,
    ProductNotFound,
    StockBelowHeld,
    VariantUnavailable,
)


def _audit(actor, action: str, obj, before=None, after=None) -> None:
    if actor is None:
        return
    audit_log_record(actor=actor, action=action, obj=obj, before=before, after=after)


def _stock_clean(value) -> int:
    stock = inventory.int_in_range(value, low=0, high=MAX_STOCK)
    if stock is None:
        raise InvalidStock()
    return stock


@transaction.atomic
def stock_adjust(*, variant_id: int, stock: int, actor=None) -> ProductVariant:
    """Admin sets the stock. Below the held units → refused; an increase promotes the waitlist.
    Locks the variant."""
    stock = _stock_clean(stock)
    now = timezone.now()
    variant = inventory.variant_locked(variant_id=variant_id)
    if variant is None:
        raise VariantUnavailable()
    released = inventory.overdue_release(variant_id=variant.pk, now=now)
    variant.held -= released
    if stock < variant.held:
        raise StockBelowHeld(held=variant.held)
    before = variant.stock
    ProductVariant.objects.filter(pk=variant.pk).update(stock=stock, updated_at=now)
    variant.stock = stock
    _audit(actor, "stock_adjust", variant, {"stock": before}, {"stock": stock})
    if (before == 0) != (stock == 0):
        inventory.product_status_refresh(product_ids=[variant.product_id])
    if stock > before or released:
        inventory.promote(variant_id=variant.pk, now=now)
    inventory.variants_announce(variant_ids=[variant.pk])
    variant.refresh_from_db()
    return variant


@transaction.atomic
def stock_restore(*, items: list[tuple[int, int]]) -> None:
    """Put units back (order cancelled / item decreased): stock +n exactly, then promote."""
    per_variant: dict[int, int] = {}
    for variant_id, quantity in items:
        if quantity < 0:
            raise InvalidQuantity()
        if quantity:
            per_variant[int(variant_id)] = per_variant.get(int(variant_id), 0) + quantity
    now = timezone.now()
    restocked_from_zero = []
    for variant_id in sorted(per_variant):
        row = inventory.variant_restock(variant_id=variant_id, quantity=per_variant[variant_id])
        if row is not None and row.stock == per_variant[variant_id]:
            restocked_from_zero.append(variant_id)
    if restocked_from_zero:
        inventory.product_status_refresh(
            product_ids=ProductVariant.objects.filter(pk__in=restocked_from_zero).values_list(
                "product_id", flat=True
            )
        )
    for variant_id in sorted(per_variant):
        inventory.promote(variant_id=variant_id, now=now)
    inventory.variants_announce(variant_ids=per_variant)


@transaction.atomic
def stock_take(*, variant_id: int, quantity: int) -> None:
    """Sell units straight from available stock (admin raises an order item's quantity)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidQuantity()
    inventory.overdue_expire(variant_id=variant_id, now=timezone.now())
    row = inventory.variant_take(variant_id=variant_id, quantity=quantity)
    if row is None:
        current = inventory.variant_row(variant_id=variant_id)
        if current is None:
            raise VariantUnavailable()
        raise InsufficientStock(available=current.available)
    if row.stock == 0:
        inventory.product_status_refresh(
            product_ids=ProductVariant.objects.filter(pk=variant_id).values_list(
                "product_id", flat=True
            )
        )
    inventory.variants_announce(variant_ids=[variant_id])


def _product_locked(product_id) -> Product:
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise ProductNotFound()
    return product


def _product_holds_release(*, product: Product, now) -> dict[int, int]:
    rows = list(
        CartLine.objects.select_for_update()
        .filter(variant__product=product, status=CartLine.Status.ACTIVE)
        .order_by("pk")
        .values_list(*inventory.LINE_ROW_FIELDS)
    )
    return inventory.lines_release(rows=rows, status=CartLine.Status.EXPIRED, now=now)


def _lines_withdraw(*, lines, name: str, now) -> dict[int, int]:
    """The seller deleted what `lines` (a CartLine queryset) hold: release the active ones and
    mark them, and the expired ones still shown in carts, WITHDRAWN with the product's name,
    so the cart says what was removed. Returns {variant_id: units released}."""
    rows = list(
        lines.filter(status=CartLine.Status.ACTIVE)
        .select_for_update()
        .order_by("pk")
        .values_list(*inventory.LINE_ROW_FIELDS)
    )
    released = inventory.lines_release(rows=rows, status=CartLine.Status.WITHDRAWN, now=now)
    # An expired line keeps its updated_at: it leaves the cart when it would have anyway.
    lines.filter(status__in=[CartLine.Status.WITHDRAWN, CartLine.Status.EXPIRED]).update(
        status=CartLine.Status.WITHDRAWN, withdrawn_name=name[:220]
    )
    return released


@transaction.atomic
def product_mark_sold_out(*, product_id: int, sold_out: bool, actor=None) -> Product:
    """Manual sold-out (stays sold out whatever the stock) releases every hold of the product;
    reopening restores the automatic status and promotes the waitlist."""
    now = timezone.now()
    product = _product_locked(product_id)
    before = product.status
    product.manually_sold_out = sold_out
    if sold_out:
        product.status = Product.Status.SOLD_OUT
        product.save(update_fields=["manually_sold_out", "status", "updated_at"])
        released = _product_holds_release(product=product, now=now)
        inventory.variants_announce(variant_ids=released)
        realtime.announce_product_sold_out(product=product)
    else:
        product.save(update_fields=["manually_sold_out", "updated_at"])
        inventory.product_status_refresh(product_ids=[product.pk])
        product.refresh_from_db()
        variant_ids = list(product.variants.values_list("pk", flat=True))
        for variant_id in sorted(variant_ids):
            inventory.promote(variant_id=variant_id, now=now)
        inventory.variants_announce(variant_ids=variant_ids)
    realtime.announce_product_updated(product=product)
    _audit(
        actor,
        "product_sold_out" if sold_out else "product_reopen",
        product,
        {"status": before},
        {"status": product.status},
    )
    return product


@transaction.atomic
def product_hide(*, product_id: int, hidden: bool, actor=None) -> Product:
    """Hide from the store (releases every hold) or show again."""
    now = timezone.now()
    product = _product_locked(product_id)
    product.hidden_from_store = hidden
    product.save(update_fields=["hidden_from_store", "updated_at"])
    if hidden:
        released = _product_holds_release(product=product, now=now)
        inventory.variants_announce(variant_ids=released)
        realtime.announce_product_deleted(product_id=product.pk, stream_id=product.stream_id)
    else:
        realtime.announce_product_updated(product=product)
    _audit(actor, "product_hide" if hidden else "product_show", product)
    return product


@transaction.atomic
def product_delete(*, product_id: int, actor=None) -> bool:
    """Delete a product after releasing its holds and closing its waitlist. Returns False when
    orders still point at it and it was hidden instead."""
    now = timezone.now()
    product = _product_locked(product_id)
    lines = CartLine.objects.filter(variant__product=product)
    _lines_withdraw(lines=lines, name=product.name, now=now)
    WaitlistEntry.objects.filter(
        product=product, status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.PROMOTED]
    ).update(status=WaitlistEntry.Status.CANCELLED, updated_at=now)
    stream_id, pk = product.stream_id, product.pk
    _audit(actor, "product_delete", product)
    try:
        with transaction.atomic():
            product.delete()
        deleted = True
    except ProtectedError:
        product.hidden_from_store = True
        product.save(update_fields=["hidden_from_store", "updated_at"])
        deleted = False
    realtime.announce_product_deleted(product_id=pk, stream_id=stream_id)
    return deleted


@transaction.atomic
def product_save(*, product: Product) -> Product:
    """Create or update a product (admin form) and announce it. Turning on the manual sold-out
    or hiding releases the product's holds; turning the sold-out off reopens it. (The admin
    form audits the save itself: `AuditedModelAdmin`.)"""
    now = timezone.now()
    created = product._state.adding or product.pk is None
    before = None
    if not created:
        before = (
            Product.objects.select_for_update()
            .filter(pk=product.pk)
            .values("hidden_from_store", "manually_sold_out")
            .first()
        )
    if product.manually_sold_out:
        product.status = Product.Status.SOLD_OUT
    product.save()
    if created or before is None:
        inventory.product_status_refresh(product_ids=[product.pk])
        realtime.announce_product_added(product=product)
        return product
    released: dict[int, int] = {}
    closing = (product.hidden_from_store and not before["hidden_from_store"]) or (
        product.manually_sold_out and not before["manually_sold_out"]
    )
    if closing:
        released = _product_holds_release(product=product, now=now)
    if before["manually_sold_out"] and not product.manually_sold_out:
        inventory.product_status_refresh(product_ids=[product.pk])
        product.refresh_from_db()
        for variant_id in sorted(product.variants.values_list("pk", flat=True)):
            inventory.promote(variant_id=variant_id, now=now)
    inventory.variants_announce(variant_ids=released)
    if product.manually_sold_out and not before["manually_sold_out"]:
        realtime.announce_product_sold_out(product=product)
    realtime.announce_product_updated(product=product)
    return product


@transaction.atomic
def product_duplicate(*, product_id: int, actor=None) -> Product:
    """Copy a product with its variants (stock copied, nothing held) and images, hidden."""
    source = Product.objects.filter(pk=product_id).prefetch_related("variants", "images").first()
    if source is None:
        raise ProductNotFound()
    variants, images = list(source.variants.all()), list(source.images.all())
    copy = Product.objects.get(pk=source.pk)
    copy.pk = None
    copy.name = f"{source.name} (복사본)"[:100]
    copy.hidden_from_store = True
    copy.is_featured = False
    copy.save()
    ProductVariant.objects.bulk_create(
        ProductVariant(
            product=copy,
            color=v.color,
            size=v.size,
            price=v.price,
            stock=v.stock,
            held=0,
            status=v.status,
            sort_order=v.sort_order,
        )
        for v in variants
    )
    ProductImage.objects.bulk_create(
        ProductImage(product=copy, image=image.image.name, sort_order=image.sort_order)
        for image in images
    )
    _audit(actor, "product_duplicate", copy, {"source": source.pk}, None)
    return copy


def _split_options(text: str) -> list[str]:
    return [part.strip() for part in str(text or "").replace("\n", ",").split(",") if part.strip()]


@transaction.atomic
def variants_generate(
    *,
    product_id: int,
    colors: str,
    sizes: str,
    price: Decimal | None = None,
    stock: int = 0,
    actor=None,
) -> list[ProductVariant]:
    """Color × size grid: create every missing combination (existing ones are kept)."""
    product = _product_locked(product_id)
    stock = _stock_clean(stock)
    price = price or product.price
    colors_list, sizes_list = _split_options(colors) or [""], _split_options(sizes) or [""]
    existing = set(product.variants.values_list("color", "size"))
    order = product.variants.count()
    created: list[ProductVariant] = []
    for color in colors_list:
        for size in sizes_list:
            if (color[:50], size[:50]) in existing:
                continue
            created.append(
                ProductVariant(
                    product=product,
                    color=color[:50],
                    size=size[:50],
                    price=price,
                    stock=stock,
                    sort_order=order + len(created),
                )
            )
    ProductVariant.objects.bulk_create(created)
    if created:
        _audit(
            actor,
            "variants_generate",
            product,
            None,
            {
                "variants": [
                    {"color": v.color, "size": v.size, "price": str(v.price), "stock": v.stock}
                    for v in created
                ]
            },
        )
        inventory.product_status_refresh(product_ids=[product.pk])
        realtime.announce_product_updated(product=product)
    return created


VARIANT_EDITABLE = ("color", "size", "price", "status", "sort_order")


@transaction.atomic
def variant_save(
    *,
    product_id: int,
    variant_id: int | None = None,
    stock: int | None = None,
    actor=None,
    **fields,
) -> ProductVariant:
    """Create an option, or update one: plain fields by UPDATE (never a stale `held`), stock
    through `stock_adjust` (held-aware, promotes the waitlist)."""
    unknown = set(fields) - set(VARIANT_EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if variant_id is None:
        variant = ProductVariant.objects.create(
            product_id=product_id, stock=_stock_clean(stock or 0), held=0, **fields
        )
        _audit(actor, "variant_create", variant, None, _variant_fields(variant))
        inventory.product_status_refresh(product_ids=[product_id])
        inventory.variants_announce(variant_ids=[variant.pk])
        return variant
    before = None
    if fields:
        rows = ProductVariant.objects.filter(pk=variant_id, product_id=product_id)
        before = rows.select_for_update().values(*fields).first()
        rows.update(**fields, updated_at=timezone.now())
    if stock is not None:
        stock_adjust(variant_id=variant_id, stock=stock, actor=actor)
    elif "status" in fields:
        inventory.variants_announce(variant_ids=[variant_id])
    variant = ProductVariant.objects.get(pk=variant_id)
    if before is not None:
        _audit(actor, "variant_update", variant, _json_safe(before), _json_safe(fields))
    return variant


def _variant_fields(variant: ProductVariant) -> dict:
    return _json_safe({name: getattr(variant, name) for name in (*VARIANT_EDITABLE, "stock")})


def _json_safe(values: dict) -> dict:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


@transaction.atomic
def product_default_variant_ensure(*, product_id: int) -> None:
    """Every product has at least one option: a plain product gets one default option."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None or product.variants.exists():
        inventory.product_status_refresh(product_ids=[product_id])
        return
    ProductVariant.objects.create(product=product, price=product.price, stock=0)
    inventory.product_status_refresh(product_ids=[product_id])


@transaction.atomic
def variant_delete(*, variant_id: int, actor=None) -> None:
    """Delete an option after releasing its holds and closing its waitlist entries."""
    now = timezone.now()
    variant = ProductVariant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None:
        return
    name = " / ".join(part for part in (variant.product.name, variant.option_label) if part)
    _lines_withdraw(lines=CartLine.objects.filter(variant_id=variant_id), name=name, now=now)
    WaitlistEntry.objects.filter(variant_id=variant_id).delete()
    _audit(actor, "variant_delete", variant)
    product = variant.product
    variant.delete()
    inventory.product_status_refresh(product_ids=[product.pk])
    realtime.announce_product_updated(product=product)
