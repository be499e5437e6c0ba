"""Reads shared by pages, consumers and other apps (orders reads the cart through here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.statements import Statement
from shop.forms import id_clean
from shop.models import CartLine, Product, ProductImage, ProductVariant, WaitlistEntry
from shop.services.errors import CartEmpty, CartItemsExpired, CartItemsRemoved

CENT = Decimal("0.01")
RECENT_RELEASED = timedelta(hours=24)


def checkout_lines(*, user, line_ids: list[int] | None = None) -> list[CartLine]:
    """The shopper's ACTIVE, unexpired lines (or exactly the selected ones) for checkout.

    CART_EMPTY when there is nothing; CART_ITEMS_REMOVED when the seller deleted a selected
    product; CART_ITEMS_EXPIRED when a selected line is expired, gone or someone else's.
    Both are checked again under lock by `holds_convert_to_sale`."""
    now = timezone.now()
    qs = CartLine.objects.filter(user=user).select_related("variant__product__stream")
    if line_ids is None:
        lines = list(qs.filter(status=CartLine.Status.ACTIVE).order_by("pk"))
        if not lines:
            raise CartEmpty()
        if any(line.variant_id is None for line in lines):
            raise CartItemsRemoved()
        if any(line.is_expired(now=now) for line in lines):
            raise CartItemsExpired()
        return lines
    cleaned = {id_clean(pk) for pk in line_ids}
    if None in cleaned:
        raise CartItemsExpired()
    wanted = sorted(cleaned)
    if not wanted:
        raise CartEmpty()
    lines = list(qs.filter(pk__in=wanted).order_by("pk"))
    if any(_withdrawn(line) for line in lines):
        raise CartItemsRemoved()
    if len(lines) != len(wanted) or any(
        line.status != CartLine.Status.ACTIVE or line.is_expired(now=now) for line in lines
    ):
        raise CartItemsExpired()
    return lines


def _withdrawn(line: CartLine) -> bool:
    """The seller deleted the line's product or option (the variant may be gone too)."""
    return line.status == CartLine.Status.WITHDRAWN or line.variant_id is None


def _first_image(product_ref: str) -> Subquery:
    """The product's first image path (by sort order), `product_ref` naming its id outside."""
    return Subquery(
        ProductImage.objects.filter(product_id=OuterRef(product_ref))
        .order_by("sort_order", "id")
        .values("image")[:1]
    )


# --- cart page ---------------------------------------------------------------------------


@dataclass
class CartRow:
    line: CartLine
    expired: bool
    sold_out: bool
    unit_price: Decimal
    subtotal: Decimal
    withdrawn: bool = False  # the seller deleted the product: shown once, never payable

    @property
    def payable(self) -> bool:
        return not self.expired and not self.sold_out and not self.withdrawn

    @property
    def seconds_left(self) -> int | None:
        if self.line.expires_at is None or self.expired:
            return None
        return max(int((self.line.expires_at - timezone.now()).total_seconds()), 0)


@dataclass
class CartView:
    rows: list[CartRow] = field(default_factory=list)

    @property
    def payable_rows(self) -> list[CartRow]:
        return [row for row in self.rows if row.payable]

    @property
    def subtotal(self) -> Decimal:
        return sum((row.subtotal for row in self.payable_rows), Decimal("0.00")).quantize(CENT)

    @property
    def item_count(self) -> int:
        return sum(row.line.quantity for row in self.payable_rows)

    @property
    def has_problems(self) -> bool:
        return any(not row.payable for row in self.rows)

    @property
    def stream_ids(self) -> set[int]:
        return {row.line.variant.product.stream_id for row in self.payable_rows} - {None}


def cart_view(*, user, now: datetime | None = None) -> CartView:
    """Active lines plus recently released ones (flagged, removable)."""
    now = now or timezone.now()
    lines = (
        CartLine.objects.filter(user=user)
        .filter(
            Q(status=CartLine.Status.ACTIVE)
            | Q(
                status__in=[CartLine.Status.EXPIRED, CartLine.Status.WITHDRAWN],
                updated_at__gte=now - RECENT_RELEASED,
            )
        )
        .select_related("variant__product")
        .annotate(first_image=_first_image("variant__product_id"))
        .order_by("-created_at", "-id")
    )
    rows = []
    for line in lines:
        if _withdrawn(line):
            zero = Decimal("0.00")
            rows.append(CartRow(line, False, False, zero, zero, withdrawn=True))
            continue
        variant, product = line.variant, line.variant.product
        expired = line.status == CartLine.Status.EXPIRED or line.is_expired(now=now)
        sold_out = (
            variant.status != ProductVariant.Status.ACTIVE
            or product.status != Product.Status.AVAILABLE
            or product.hidden_from_store
        ) and line.status != CartLine.Status.ACTIVE
        unit = variant.price.quantize(CENT)
        rows.append(
            CartRow(
                line=line,
                expired=expired and not sold_out,
                sold_out=sold_out,
                unit_price=unit,
                subtotal=(unit * line.quantity).quantize(CENT),
            )
        )
    return CartView(rows=rows)


_holding_line_ids = Statement(
    lambda user_id, now: (
        CartLine.objects.holding(now=now).filter(user_id=user_id).order_by().values_list("pk")
    ),
    tuples=True,
    user_id="int",
    now="datetime",
)


def cart_count(*, user) -> int:
    """The header's badge on every page: lines holding units (one prebuilt statement)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return len(_holding_line_ids(user_id=user.pk, now=timezone.now()))


# --- catalog -----------------------------------------------------------------------------


def _with_cover(qs):
    return qs.with_display_price().annotate(
        cover=_first_image("pk"),
        open_variants=Count(
            "variants",
            filter=Q(variants__status="ACTIVE", variants__stock__gt=0),
        ),
    )


def store_products(*, query: str = ""):
    """Store page: ended broadcasts' and stream-less products, searchable."""
    qs = Product.objects.in_store()
    query = (query or "").strip()[:100]
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(description__icontains=query))
    return _with_cover(qs).order_by("sort_order", "-created_at", "-id")


def featured_products(*, limit: int = 8):
    qs = Product.objects.visible().filter(is_featured=True)
    return list(_with_cover(qs).order_by("sort_order", "-created_at")[:limit])


def stream_products(*, stream_id: int):
    """A live room's carousel (the live page reads this)."""
    qs = Product.objects.filter(stream_id=stream_id, hidden_from_store=False)
    return list(_with_cover(qs).order_by("sort_order", "id"))


def product_detail(*, product_id) -> Product | None:
    """Product with images and its visible variants. Overdue lines the periodic job has not
    released yet are not holds (SPEC §4): each variant's `available` counts them as free
    (`overdue_units`), so the page shows what an add would get."""
    product_id = id_clean(product_id)
    if product_id is None:
        return None
    now = timezone.now()
    variants = ProductVariant.objects.exclude(status=ProductVariant.Status.HIDDEN).annotate(
        overdue_units=_overdue_units(now)
    )
    product = (
        Product.objects.visible()
        .filter(pk=product_id)
        .select_related("stream")
        .prefetch_related(Prefetch("variants", queryset=variants), "images")
        .first()
    )
    return product


@dataclass
class ProductPage:
    """What the product page and its options sheet show of one product."""

    product: Product
    variants: list[ProductVariant]  # not hidden, each `available` counting overdue units free
    images: list[ProductImage]

    @property
    def sold_out(self) -> bool:
        return variants_sold_out(self.product, self.variants)


def _overdue_units(now):
    return Coalesce(
        Sum(
            "lines__quantity",
            filter=Q(lines__status=CartLine.Status.ACTIVE, lines__expires_at__lte=now),
        ),
        0,
    )


# The product page's reads as prebuilt statements (core.statements): the same queries as
# `product_detail` (which the API uses, with the stream), without building them per request.
_page_product = Statement(
    lambda product_id, now: Product.objects.visible(now=now).filter(pk=product_id),
    product_id="int",
    now="datetime",
)
_page_variants = Statement(
    lambda product_id, now: (
        ProductVariant.objects.filter(product_id=product_id)
        .exclude(status=ProductVariant.Status.HIDDEN)
        .annotate(overdue_units=_overdue_units(now))
    ),
    product_id="int",
    now="datetime",
)
_page_images = Statement(
    lambda product_id: ProductImage.objects.filter(product_id=product_id), product_id="int"
)


def product_page(*, product_id) -> ProductPage | None:
    """`product_detail` for the pages: the visible product, its options (overdue units
    counted free) and its images, in three prebuilt statements; None if not visible."""
    product_id = id_clean(product_id)
    if product_id is None:
        return None
    now = timezone.now()
    found = _page_product(product_id=product_id, now=now)
    if not found:
        return None
    return ProductPage(
        product=found[0],
        variants=_page_variants(product_id=product_id, now=now),
        images=_page_images(product_id=product_id),
    )


def variants_sold_out(product: Product, variants) -> bool:
    return product.status != Product.Status.AVAILABLE or not any(
        v.status == ProductVariant.Status.ACTIVE and v.available > 0 for v in variants
    )


def product_is_sold_out(product: Product) -> bool:
    return variants_sold_out(product, product.variants.all())


# --- waitlist ----------------------------------------------------------------------------


def waitlist_entries(*, user) -> list[WaitlistEntry]:
    """Open and recent entries, each with `.position` (1 = next) among WAITING entries."""
    entries = list(
        WaitlistEntry.objects.filter(user=user)
        .exclude(status=WaitlistEntry.Status.CANCELLED)
        .select_related("product", "variant")
        .annotate(
            ahead=Coalesce(
                Subquery(
                    WaitlistEntry.objects.filter(
                        product_id=OuterRef("product_id"),
                        status=WaitlistEntry.Status.WAITING,
                        number__lt=OuterRef("number"),
                    )
                    .order_by()
                    .values("product_id")
                    .annotate(n=Count("pk"))
                    .values("n")[:1]
                ),
                0,
            )
        )
        .order_by("-created_at")[:50]
    )
    for entry in entries:
        entry.position = entry.ahead + 1 if entry.status == WaitlistEntry.Status.WAITING else None
    return entries


def waitlist_position(*, entry: WaitlistEntry) -> int | None:
    if entry.status != WaitlistEntry.Status.WAITING:
        return None
    ahead = WaitlistEntry.objects.filter(
        product_id=entry.product_id, status=WaitlistEntry.Status.WAITING, number__lt=entry.number
    ).count()
    return ahead + 1


_open_waitlist_entries = Statement(
    lambda user_id, product_id: WaitlistEntry.objects.filter(
        user_id=user_id,
        product_id=product_id,
        status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.PROMOTED],
    ).order_by("-created_at", "-pk")[:1],
    user_id="int",
    product_id="int",
)


def open_waitlist_entry(*, user, product_id: int) -> WaitlistEntry | None:
    """The shopper's waiting or promoted entry for the product (the product page asks on
    every view: one prebuilt statement)."""
    if not getattr(user, "is_authenticated", False):
        return None
    found = _open_waitlist_entries(user_id=user.pk, product_id=product_id)
    return found[0] if found else None
