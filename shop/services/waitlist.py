"""예비번호 (waitlist): join when short, cancel, promote as units free up (SPEC §4).

The promotion algorithm lives here (`promote`); the hold it takes for a promoted entry is
`holds.hold_for_entry`, and `holds.holds_release` calls `promote` after every release."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from shop import notify_hooks, realtime
from shop.models import MAX_ID, CartLine, Product, ProductVariant, WaitlistEntry
from shop.services import holds
from shop.services.errors import (
    InvalidQuantity,
    QuantityLimit,
    VariantUnavailable,
    WaitlistExists,
    WaitlistNotFound,
    WaitlistNotNeeded,
    int_within,
)

WAITLIST_MAX_QUANTITY = 10
OPEN = (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.PROMOTED)


def promote(*, variant_id: int, now: datetime) -> list[WaitlistEntry]:
    """Promote the first WAITING entries that fit the available units (runs in the caller's
    transaction; announces each promotion, the caller announces the stock). Locks the variant.

    Overdue lines are released first; entries are walked in number order and every entry
    whose quantity fits what is available right now gets its units held in the shopper's
    cart; an entry that does not fit keeps its number and place."""
    variant, on_sale = holds.variant_locked(variant_id=variant_id, now=now)
    if variant is None or not on_sale:
        return []
    released = holds.overdue_release(variant_id=variant_id, now=now)
    available = variant.stock - variant.held + released
    if available <= 0:
        return []
    entries = list(
        WaitlistEntry.objects.select_for_update(skip_locked=True)
        .filter(variant_id=variant_id, status=WaitlistEntry.Status.WAITING)
        .order_by("number")
    )
    if not entries:
        return []
    expires_at = now + timedelta(minutes=holds.config().waitlist_promotion_minutes)
    promoted: list[WaitlistEntry] = []
    for entry in entries:
        if available <= 0:
            break
        if entry.quantity > available:
            continue  # the first entries that fit the freed units; this one keeps its number
        if not holds.hold_for_entry(entry=entry, expires_at=expires_at, now=now):
            continue
        entry.status = WaitlistEntry.Status.PROMOTED
        entry.promoted_at = now
        entry.promotion_expires_at = expires_at
        entry.save(update_fields=["status", "promoted_at", "promotion_expires_at", "updated_at"])
        available -= entry.quantity
        promoted.append(entry)
        realtime.announce_waitlist_promoted(entry=entry, product=variant.product)
        notify_hooks.waitlist_promoted_notify(entry, variant.product)
    return promoted


def product_promote(*, product_id: int, now: datetime) -> list[int]:
    """Promote on every option of a product that has just come back on sale (reopened after a
    manual sold-out, shown again). Returns the product's variant ids (the caller announces)."""
    variant_ids = sorted(
        ProductVariant.objects.filter(product_id=product_id).values_list("pk", flat=True)
    )
    for variant_id in variant_ids:
        promote(variant_id=variant_id, now=now)
    return variant_ids


def waitlist_join(*, user, variant_id: int, quantity: int) -> WaitlistEntry:
    """Take the next number for the product, only when `quantity` exceeds what is available.
    Numbers are unique per product: max + 1, retried on a concurrent collision. With the
    per-user cap (`max_per_user`), what the shopper holds of the variant plus `quantity` must
    fit in it (a promotion puts the units in the cart)."""
    if not int_within(quantity, low=1, high=WAITLIST_MAX_QUANTITY):
        raise InvalidQuantity(f"예비번호 수량은 1~{WAITLIST_MAX_QUANTITY}개 사이여야 합니다")
    limit = holds.max_per_user()
    if limit and quantity > limit:
        raise QuantityLimit(limit=limit)
    if not int_within(variant_id, low=1, high=MAX_ID):
        raise VariantUnavailable()
    now = timezone.now()
    variant = ProductVariant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None or variant.status != ProductVariant.Status.ACTIVE:
        raise VariantUnavailable()
    product = variant.product
    # Joinable: on sale, or sold out automatically (not by the seller's hand).
    joinable = Product.objects.visible(now=now).filter(pk=product.pk, manually_sold_out=False)
    if not joinable.exists():
        raise VariantUnavailable()
    for _attempt in range(10):
        try:
            with transaction.atomic():
                holds.overdue_expire(variant_id=variant_id, now=now)
                row = holds.variant_row(variant_id=variant_id)
                if row.available >= quantity and holds.variant_on_sale(
                    variant_id=variant_id, now=now
                ):
                    raise WaitlistNotNeeded()
                if WaitlistEntry.objects.filter(
                    user=user, product=product, status__in=OPEN
                ).exists():
                    raise WaitlistExists()
                if limit:
                    owned = holds.line_quantities(
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
    the next entry is promoted. Locks the variant, then the entry, then its line."""
    variant_id = (
        WaitlistEntry.objects.filter(pk=entry_id, user=user)
        .values_list("variant_id", flat=True)
        .first()
    )
    if variant_id is None:
        raise WaitlistNotFound()
    holds.variants_lock(variant_ids=[variant_id])
    entry = WaitlistEntry.objects.select_for_update().filter(pk=entry_id, user=user).first()
    if entry is None or entry.status not in OPEN:
        raise WaitlistNotFound()
    was_promoted = entry.status == WaitlistEntry.Status.PROMOTED
    entry.status = WaitlistEntry.Status.CANCELLED
    entry.save(update_fields=["status", "updated_at"])
    if was_promoted:
        # The promoted line goes (with any units merged into it when it was promoted).
        holds.holds_release(
            lines=CartLine.objects.filter(waitlist_entry_id=entry.pk, user=user),
            reason=CartLine.Status.REMOVED,
        )
    return entry


@transaction.atomic
def waitlist_promote(*, variant_id: int) -> list[WaitlistEntry]:
    """Promote the first WAITING entries that fit the available units. Locks the variant."""
    promoted = promote(variant_id=variant_id, now=timezone.now())
    if promoted:
        holds.variants_announce(variant_ids=[variant_id])
    return promoted
