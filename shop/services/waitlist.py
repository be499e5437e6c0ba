"""예비번호 (waitlist): join when short, cancel, promote as units free up (SPEC §4)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from shop.models import CartLine, ProductVariant, WaitlistEntry
from shop.services import inventory
from shop.services.errors import (
    InvalidQuantity,
    QuantityLimit,
    VariantUnavailable,
    WaitlistExists,
    WaitlistNotFound,
    WaitlistNotNeeded,
)

WAITLIST_MAX_QUANTITY = 10
OPEN = (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.PROMOTED)


def _waitlist_quantity(value) -> int:
    quantity = inventory.int_in_range(value, low=1, high=WAITLIST_MAX_QUANTITY)
    if quantity is None:
        raise InvalidQuantity(f"예비번호 수량은 1~{WAITLIST_MAX_QUANTITY}개 사이여야 합니다")
    return quantity


def waitlist_join(*, user, variant_id: int, quantity: int) -> WaitlistEntry:
    """Take the next number for the product, only when `quantity` exceeds what is available.
    Numbers are unique per product: max + 1, retried on a concurrent collision. With the
    per-user cap (`max_per_user`), what the shopper holds of the variant plus `quantity` must
    fit in it (a promotion puts the units in the cart)."""
    quantity = _waitlist_quantity(quantity)
    limit = inventory.config().max_per_user
    if limit and quantity > limit:
        raise QuantityLimit(limit=limit)
    variant_id = inventory.id_clean(variant_id)
    if variant_id is None:
        raise VariantUnavailable()
    now = timezone.now()
    variant = ProductVariant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None or variant.status != ProductVariant.Status.ACTIVE:
        raise VariantUnavailable()
    product = variant.product
    if product.manually_sold_out or product.hidden_from_store:
        raise VariantUnavailable()
    if product.expires_at is not None and product.expires_at <= now:
        raise VariantUnavailable()
    for _attempt in range(10):
        try:
            with transaction.atomic():
                inventory.overdue_expire(variant_id=variant_id, now=now)
                row = inventory.variant_row(variant_id=variant_id)
                if row.available >= quantity and product.status == product.Status.AVAILABLE:
                    raise WaitlistNotNeeded()
                if WaitlistEntry.objects.filter(
                    user=user, product=product, status__in=OPEN
                ).exists():
                    raise WaitlistExists()
                if limit:
                    owned = inventory.line_quantities(
                        variant_id=variant_id, user_ids=[user.pk], now=now
                    ).get(user.pk, 0)
                    if owned + quantity > limit:
                        raise QuantityLimit(limit=limit)
                last = WaitlistEntry.objects.filter(product=product).aggregate(n=Max("number"))["n"]
                return WaitlistEntry.objects.create(
                    user=user,
                    product=product,
                    variant=variant,
                    quantity=quantity,
                    number=(last or 0) + 1,
                )
        except IntegrityError:
            if WaitlistEntry.objects.filter(user=user, product=product, status__in=OPEN).exists():
                raise WaitlistExists() from None
            continue  # another shopper took this number at the same moment: take the next
    raise WaitlistExists("잠시 후 다시 시도해주세요")


@transaction.atomic
def waitlist_cancel(*, user, entry_id: int) -> WaitlistEntry:
    """WAITING → CANCELLED (nobody moves up). PROMOTED → CANCELLED: its cart hold is released and
    the next entry is promoted. Locks the promoted line first, then the entry."""
    entry_id = inventory.id_clean(entry_id)
    if entry_id is None:
        raise WaitlistNotFound()
    now = timezone.now()
    line_ids = list(
        CartLine.objects.filter(
            waitlist_entry_id=entry_id, user=user, status=CartLine.Status.ACTIVE
        )
        .select_for_update()
        .order_by("pk")
        .values_list(*inventory.LINE_ROW_FIELDS)
    )
    entry = WaitlistEntry.objects.select_for_update().filter(pk=entry_id, user=user).first()
    if entry is None or entry.status not in OPEN:
        raise WaitlistNotFound()
    was_promoted = entry.status == WaitlistEntry.Status.PROMOTED
    entry.status = WaitlistEntry.Status.CANCELLED
    entry.save(update_fields=["status", "updated_at"])
    if was_promoted:
        rows = [r for r in line_ids if r[3] == entry.pk]
        # The promoted line goes (with any units merged into it when it was promoted).
        released = inventory.lines_release(rows=rows, status=CartLine.Status.REMOVED, now=now)
        if released:
            inventory.promote(variant_id=entry.variant_id, now=now)
            inventory.variants_announce(variant_ids=[entry.variant_id])
    return entry


@transaction.atomic
def waitlist_promote(*, variant_id: int) -> list[WaitlistEntry]:
    """Promote the first WAITING entries that fit the available units. Locks the variant."""
    promoted = inventory.promote(variant_id=variant_id, now=timezone.now())
    if promoted:
        inventory.variants_announce(variant_ids=[variant_id])
    return promoted
