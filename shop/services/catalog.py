"""Seller-side catalog writes: stock, sold-out, hide/delete, duplicate, option grids."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core.services import audit_log_record
from shop import realtime
from shop.models import MAX_STOCK, CartLine, Product, ProductImage, ProductVariant, WaitlistEntry
from shop.services import holds, waitlist
from shop.services.errors import (
    InvalidStock,
    ProductNotFound,
    int_within,
)


def _audit(actor, action: str, obj, before=None, after=None) -> None:
    if actor is None:
        return
    audit_log_record(actor=actor, action=action, obj=obj, before=before, after=after)


def _stock_clean(value) -> int:
    if not int_within(value, low=0, high=MAX_STOCK):
        raise InvalidStock()
    return value


@transaction.atomic
def stock_adjust(*, variant_id: int, stock: int, actor=None) -> ProductVariant:
    """Admin sets the stock (`holds.stock_set`: refused below the held units, an increase
    promotes the waitlist), audited."""
    variant, before = holds.stock_set(variant_id=variant_id, stock=_stock_clean(stock))
    _audit(actor, "stock_adjust", variant, {"stock": before}, {"stock": variant.stock})
    return variant


def _product_locked(product_id) -> Product:
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise ProductNotFound()
    return product


def _product_holds_release(*, product: Product, now) -> None:
    holds.holds_release(
        lines=CartLine.objects.filter(variant__product=product),
        reason=CartLine.Status.EXPIRED,
        now=now,
    )


def _lines_withdraw(*, lines, name: str, now) -> None:
    """The seller deletes what `lines` (a CartLine queryset) hold: release the active ones and
    mark them, and the expired ones still shown in carts, WITHDRAWN with the product's name,
    so the cart says what was removed. (The caller closed the waitlist first, so nothing is
    promoted onto what is being deleted.)"""
    holds.holds_release(lines=lines, reason=CartLine.Status.WITHDRAWN, now=now)
    # An expired line keeps its updated_at: it leaves the cart when it would have anyway.
    lines.filter(status__in=[CartLine.Status.WITHDRAWN, CartLine.Status.EXPIRED]).update(
        status=CartLine.Status.WITHDRAWN, withdrawn_name=name[:220]
    )


def _product_reopened(*, product: Product, now) -> None:
    """The product is back on sale (reopened, shown again): its waitlist moves up."""
    holds.variants_announce(variant_ids=waitlist.product_promote(product_id=product.pk, now=now))


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
        _product_holds_release(product=product, now=now)
        realtime.announce_product_sold_out(product=product)
    else:
        product.save(update_fields=["manually_sold_out", "updated_at"])
        holds.product_status_refresh(product_ids=[product.pk])
        product.refresh_from_db()
        _product_reopened(product=product, now=now)
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
        _product_holds_release(product=product, now=now)
        realtime.announce_product_deleted(product_id=product.pk, stream_id=product.stream_id)
    else:
        _product_reopened(product=product, now=now)
        realtime.announce_product_updated(product=product)
    _audit(actor, "product_hide" if hidden else "product_show", product)
    return product


@transaction.atomic
def product_delete(*, product_id: int, actor=None) -> bool:
    """Delete a product after releasing its holds and closing its waitlist. Returns False when
    orders still point at it and it was hidden instead."""
    now = timezone.now()
    product = _product_locked(product_id)
    WaitlistEntry.objects.filter(
        product=product, status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.PROMOTED]
    ).update(status=WaitlistEntry.Status.CANCELLED, updated_at=now)
    lines = CartLine.objects.filter(variant__product=product)
    _lines_withdraw(lines=lines, name=product.name, now=now)
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
        holds.product_status_refresh(product_ids=[product.pk])
        realtime.announce_product_added(product=product)
        return product
    closing = (product.hidden_from_store and not before["hidden_from_store"]) or (
        product.manually_sold_out and not before["manually_sold_out"]
    )
    if closing:
        _product_holds_release(product=product, now=now)
    reopened = before["manually_sold_out"] and not product.manually_sold_out
    if reopened:
        holds.product_status_refresh(product_ids=[product.pk])
        product.refresh_from_db()
    if reopened or (before["hidden_from_store"] and not product.hidden_from_store):
        _product_reopened(product=product, now=now)
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
        holds.product_status_refresh(product_ids=[product.pk])
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
        holds.product_status_refresh(product_ids=[product_id])
        holds.variants_announce(variant_ids=[variant.pk])
        return variant
    before = None
    if fields:
        rows = ProductVariant.objects.filter(pk=variant_id, product_id=product_id)
        before = rows.select_for_update().values(*fields).first()
        rows.update(**fields, updated_at=timezone.now())
    if stock is not None:
        stock_adjust(variant_id=variant_id, stock=stock, actor=actor)
    elif "status" in fields:
        holds.variants_announce(variant_ids=[variant_id])
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
        holds.product_status_refresh(product_ids=[product_id])
        return
    ProductVariant.objects.create(product=product, price=product.price, stock=0)
    holds.product_status_refresh(product_ids=[product_id])


@transaction.atomic
def variant_delete(*, variant_id: int, actor=None) -> None:
    """Delete an option after releasing its holds and closing its waitlist entries."""
    now = timezone.now()
    variant = ProductVariant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None:
        return
    name = " / ".join(part for part in (variant.product.name, variant.option_label) if part)
    WaitlistEntry.objects.filter(variant_id=variant_id).delete()
    _lines_withdraw(lines=CartLine.objects.filter(variant_id=variant_id), name=name, now=now)
    _audit(actor, "variant_delete", variant)
    product = variant.product
    variant.delete()
    holds.product_status_refresh(product_ids=[product.pk])
    realtime.announce_product_updated(product=product)
