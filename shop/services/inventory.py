"""Low-level stock arithmetic shared by the cart, waitlist and catalog services.

Everything here runs inside a caller's transaction. Lock order, everywhere in the shop:
cart lines (pk order) → variants (pk order) → waitlist entries. Code that already holds a
variant lock only takes further line/entry locks with SKIP LOCKED, so it never waits and no
interleaving can deadlock.

The variant row is the single source of truth: `held` is the sum of the quantities of the
variant's ACTIVE lines. Every change to `held` or `stock` is one conditional UPDATE whose WHERE
clause re-checks the invariant `0 ≤ held ≤ stock` (PostgreSQL re-evaluates it on the newest row
version after waiting for a concurrent writer), with CHECK constraints behind it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.models import get_config
from shop import realtime
from shop.models import CartLine, Product, ProductVariant, WaitlistEntry

ACTIVE = CartLine.Status.ACTIVE


@dataclass(frozen=True)
class StockRow:
    stock: int
    held: int
    status: str

    @property
    def available(self) -> int:
        return max(self.stock - self.held, 0)


def _returning(sql: str, params: list) -> StockRow | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return StockRow(*row) if row else None


def variant_hold(*, variant_id: int, quantity: int) -> StockRow | None:
    """held += quantity iff the variant is ACTIVE and has that many available; None otherwise."""
    return _returning(
        "UPDATE shop_productvariant SET held = held + %s, updated_at = %s "
        "WHERE id = %s AND status = 'ACTIVE' AND stock - held >= %s "
        "RETURNING stock, held, status",
        [quantity, timezone.now(), variant_id, quantity],
    )


@dataclass(frozen=True)
class SaleHold:
    """A successful hold for a shopper's add, with what the caller needs of the product."""

    stock: int
    held: int
    status: str
    product_id: int
    product_name: str
    stream_id: int | None
    timer_enabled: bool
    timer_minutes: int


_HOLD_FOR_SALE_SQL = (
    "UPDATE shop_productvariant SET held = held + %s, updated_at = %s "
    "FROM shop_product p WHERE shop_productvariant.id = %s "
    "AND p.id = shop_productvariant.product_id AND shop_productvariant.status = 'ACTIVE' "
    "AND shop_productvariant.stock - shop_productvariant.held >= %s "
    "AND p.status = 'AVAILABLE' AND NOT p.hidden_from_store "
    "AND (p.expires_at IS NULL OR p.expires_at > %s) "
    "RETURNING shop_productvariant.stock, shop_productvariant.held, shop_productvariant.status, "
    "p.id, p.name, p.stream_id, p.timer_enabled, p.timer_minutes"
)
# SQLite (embedded default) cannot return columns of an UPDATE's FROM table: EXISTS + a read.
_HOLD_FOR_SALE_SQL_PORTABLE = (
    "UPDATE shop_productvariant SET held = held + %s, updated_at = %s "
    "WHERE id = %s AND status = 'ACTIVE' AND stock - held >= %s AND EXISTS ("
    "SELECT 1 FROM shop_product p WHERE p.id = shop_productvariant.product_id "
    "AND p.status = 'AVAILABLE' AND NOT p.hidden_from_store "
    "AND (p.expires_at IS NULL OR p.expires_at > %s)) "
    "RETURNING stock, held, status, product_id"
)


def variant_hold_for_sale(*, variant_id: int, quantity: int, now: datetime) -> SaleHold | None:
    """`variant_hold` that also requires the product to be on sale (available, not hidden, not
    past its expiry) — one statement, no read before it. None when any condition fails."""
    params = [quantity, now, variant_id, quantity, now]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_HOLD_FOR_SALE_SQL, params)
            row = cursor.fetchone()
            return SaleHold(*row) if row else None
        cursor.execute(_HOLD_FOR_SALE_SQL_PORTABLE, params)
        row = cursor.fetchone()
    if row is None:
        return None
    product = Product.objects.values_list(
        "id", "name", "stream_id", "timer_enabled", "timer_minutes"
    ).get(pk=row[3])
    return SaleHold(*row[:3], *product)


_HOLD_WITH_LINE_SQL = """
WITH hold AS (
    UPDATE shop_productvariant SET held = held + %(q)s, updated_at = %(now)s
    FROM shop_product p
    WHERE shop_productvariant.id = %(v)s AND p.id = shop_productvariant.product_id
      AND shop_productvariant.status = 'ACTIVE'
      AND shop_productvariant.stock - shop_productvariant.held >= %(q)s
      AND p.status = 'AVAILABLE' AND NOT p.hidden_from_store
      AND (p.expires_at IS NULL OR p.expires_at > %(now)s)
    RETURNING shop_productvariant.stock, shop_productvariant.held, shop_productvariant.status,
      p.id AS product_id, p.name, p.stream_id, p.timer_enabled, p.timer_minutes
), line AS (
    INSERT INTO shop_cartline
      (user_id, variant_id, quantity, status, expires_at, created_at, updated_at)
    SELECT %(u)s, %(v)s, %(q)s, 'ACTIVE',
      CASE WHEN hold.timer_enabled
        THEN %(now)s + make_interval(mins => hold.timer_minutes) END,
      %(now)s, %(now)s
    FROM hold
    ON CONFLICT (user_id, variant_id) WHERE status = 'ACTIVE' DO UPDATE SET
      quantity = shop_cartline.quantity + EXCLUDED.quantity,
      expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
    WHERE shop_cartline.expires_at IS NULL OR shop_cartline.expires_at > %(now)s
    RETURNING id, quantity, created_at, expires_at
)
SELECT hold.stock, hold.held, hold.status, hold.product_id, hold.name, hold.stream_id,
  hold.timer_enabled, hold.timer_minutes, line.id, line.quantity, line.created_at, line.expires_at
FROM hold LEFT JOIN line ON TRUE
"""


def variant_hold_with_line(
    *, variant_id: int, user_id: int, quantity: int, now: datetime
) -> tuple[SaleHold, tuple | None] | None:
    """PostgreSQL: the conditional hold and the cart-line upsert in ONE statement, so the hot
    variant row stays locked only for that statement and the commit. None when the hold is
    refused; (hold, None) when the shopper's own line is overdue (caller undoes and retries);
    else (hold, (line id, quantity, created_at, expires_at))."""
    params = {"q": quantity, "now": now, "v": variant_id, "u": user_id}
    with connection.cursor() as cursor:
        cursor.execute(_HOLD_WITH_LINE_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    line = tuple(row[8:]) if row[8] is not None else None
    return SaleHold(*row[:8]), line


_SALE_LOCKED_SQL = """
SELECT v.stock, v.held, v.status, p.id, p.name, p.stream_id, p.timer_enabled, p.timer_minutes,
  EXISTS (SELECT 1 FROM shop_cartline l WHERE l.variant_id = v.id AND l.status = 'ACTIVE'
          AND l.expires_at <= %(now)s)
FROM shop_productvariant v JOIN shop_product p ON p.id = v.product_id
WHERE v.id = %(v)s AND v.status = 'ACTIVE'
  AND p.status = 'AVAILABLE' AND NOT p.hidden_from_store
  AND (p.expires_at IS NULL OR p.expires_at > %(now)s)
FOR UPDATE OF v
"""


def variant_sale_locked(*, variant_id: int, now: datetime) -> tuple[SaleHold | None, bool]:
    """PostgreSQL: lock the variant row and read it if it is on sale (else None), and whether
    it has overdue lines to release first. For a batch of adds: the caller decides how many
    fit, then `variant_hold_with_lines`."""
    with connection.cursor() as cursor:
        cursor.execute(_SALE_LOCKED_SQL, {"v": variant_id, "now": now})
        row = cursor.fetchone()
    return (SaleHold(*row[:8]), row[8]) if row else (None, False)


_HOLD_WITH_LINES_SQL = """
WITH hold AS (
    UPDATE shop_productvariant SET held = held + %(total)s, updated_at = %(now)s
    WHERE id = %(v)s AND stock - held >= %(total)s
    RETURNING stock, held, status
), line AS (
    INSERT INTO shop_cartline
      (user_id, variant_id, quantity, status, expires_at, created_at, updated_at)
    SELECT r.user_id, %(v)s, r.q, 'ACTIVE', %(expires)s, %(now)s, %(now)s
    FROM unnest(%(users)s::bigint[], %(qs)s::integer[]) AS r(user_id, q), hold
    ON CONFLICT (user_id, variant_id) WHERE status = 'ACTIVE' DO UPDATE SET
      quantity = shop_cartline.quantity + EXCLUDED.quantity,
      expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
    WHERE shop_cartline.expires_at IS NULL OR shop_cartline.expires_at > %(now)s
    RETURNING user_id, id, quantity, created_at, expires_at
)
SELECT hold.stock, hold.held, hold.status, line.user_id, line.id, line.quantity,
  line.created_at, line.expires_at
FROM hold LEFT JOIN line ON TRUE
"""


def variant_hold_with_lines(
    *, sale: SaleHold, variant_id: int, adds: list[tuple[int, int]], now: datetime
) -> tuple[SaleHold, dict[int, tuple]] | None:
    """PostgreSQL, under `variant_sale_locked`'s lock: hold the sum of `adds` ((user id,
    quantity), one per shopper) and upsert every shopper's line in ONE statement. Returns the
    new hold and {user id: (line id, quantity, created_at, expires_at)}; a shopper whose own
    line is overdue is missing (the caller releases their units and retries them alone).
    None if the units are not there (the caller computed them from the locked row)."""
    params = {
        "total": sum(quantity for _user, quantity in adds),
        "now": now,
        "v": variant_id,
        "expires": now + timedelta(minutes=sale.timer_minutes) if sale.timer_enabled else None,
        "users": [user_id for user_id, _q in adds],
        "qs": [quantity for _user, quantity in adds],
    }
    with connection.cursor() as cursor:
        cursor.execute(_HOLD_WITH_LINES_SQL, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    stock, held, status = rows[0][:3]
    hold = replace(sale, stock=stock, held=held, status=status)
    return hold, {row[3]: tuple(row[4:]) for row in rows if row[3] is not None}


def variant_lock(*, variant_id: int) -> None:
    """Lock the variant row (PostgreSQL; SQLite's write transactions are serial already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM shop_productvariant WHERE id = %s FOR UPDATE", [variant_id]
            )


def line_quantities(*, variant_id: int, user_ids, now: datetime) -> dict[int, int]:
    """{user id: units} of the shoppers' unexpired ACTIVE lines of the variant. Read under the
    variant's lock it stays true until commit: every add and promotion takes that lock before
    it writes a line (the per-user cap, `max_per_user`)."""
    lines = CartLine.objects.filter(variant_id=variant_id, status=ACTIVE, user_id__in=user_ids)
    lines = lines.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    return dict(lines.values_list("user_id", "quantity"))


def variant_release(*, variant_id: int, quantity: int) -> StockRow | None:
    return _returning(
        "UPDATE shop_productvariant SET held = held - %s, updated_at = %s "
        "WHERE id = %s AND held >= %s RETURNING stock, held, status",
        [quantity, timezone.now(), variant_id, quantity],
    )


def variant_sell(*, variant_id: int, quantity: int) -> StockRow | None:
    """Turn held units into sold units: stock −n and held −n together."""
    return _returning(
        "UPDATE shop_productvariant SET stock = stock - %s, held = held - %s, updated_at = %s "
        "WHERE id = %s AND held >= %s AND stock >= %s RETURNING stock, held, status",
        [quantity, quantity, timezone.now(), variant_id, quantity, quantity],
    )


def variant_restock(*, variant_id: int, quantity: int) -> StockRow | None:
    return _returning(
        "UPDATE shop_productvariant SET stock = stock + %s, updated_at = %s "
        "WHERE id = %s RETURNING stock, held, status",
        [quantity, timezone.now(), variant_id],
    )


def variant_take(*, variant_id: int, quantity: int) -> StockRow | None:
    """stock −n iff that many units are available (not held by anyone)."""
    return _returning(
        "UPDATE shop_productvariant SET stock = stock - %s, updated_at = %s "
        "WHERE id = %s AND stock - held >= %s RETURNING stock, held, status",
        [quantity, timezone.now(), variant_id, quantity],
    )


def variant_row(*, variant_id: int) -> StockRow | None:
    row = ProductVariant.objects.filter(pk=variant_id).values_list("stock", "held", "status")
    row = row.first()
    return StockRow(*row) if row else None


# --- releasing lines ---------------------------------------------------------------------


LineRow = tuple[int, int, int, int | None]  # (line id, variant id, quantity, waitlist entry id)
LINE_ROW_FIELDS = ("pk", "variant_id", "quantity", "waitlist_entry_id")


def lines_release(*, rows: list[LineRow], status: str, now: datetime) -> dict[int, int]:
    """Release ACTIVE lines the caller has locked: status change, held −Σ per variant (pk
    order), and their promoted waitlist entries closed. Returns {variant_id: units released}."""
    if not rows:
        return {}
    CartLine.objects.filter(pk__in=[r[0] for r in rows], status=ACTIVE).update(
        status=status, updated_at=now
    )
    per_variant: dict[int, int] = defaultdict(int)
    for _pk, variant_id, quantity, _entry in rows:
        per_variant[variant_id] += quantity
    for variant_id in sorted(per_variant):
        if variant_release(variant_id=variant_id, quantity=per_variant[variant_id]) is None:
            raise IntegrityError(f"held of variant {variant_id} below its active lines")
    entry_ids = [r[3] for r in rows if r[3]]
    if entry_ids:
        entry_status = (
            WaitlistEntry.Status.EXPIRED
            if status == CartLine.Status.EXPIRED
            else WaitlistEntry.Status.CANCELLED
        )
        WaitlistEntry.objects.filter(pk__in=entry_ids, status=WaitlistEntry.Status.PROMOTED).update(
            status=entry_status, updated_at=now
        )
    return dict(per_variant)


_OVERDUE_SQL = (
    "SELECT id, variant_id, quantity, waitlist_entry_id FROM shop_cartline "
    "WHERE variant_id = %s AND status = 'ACTIVE' AND expires_at <= %s ORDER BY id"
)
_OVERDUE_SQL_LOCKED = _OVERDUE_SQL + " FOR UPDATE SKIP LOCKED"


def _overdue_lines_release(*, variant_id: int, now: datetime) -> tuple[int, int]:
    """Release the variant's overdue lines nobody else is touching right now: (lines, units).
    (Plain SQL: this runs before every add, on the hot path.)"""
    sql = _OVERDUE_SQL
    if connection.features.has_select_for_update_skip_locked:
        sql = _OVERDUE_SQL_LOCKED
    with connection.cursor() as cursor:
        cursor.execute(sql, [variant_id, now])
        rows = cursor.fetchall()
    if not rows:
        return 0, 0
    released = lines_release(rows=rows, status=CartLine.Status.EXPIRED, now=now)
    return len(rows), released.get(variant_id, 0)


def overdue_release(*, variant_id: int, now: datetime) -> int:
    """Release the variant's overdue lines, nothing more: for a caller that recounts the units
    under the variant's lock and promotes itself (`promote`, `stock_adjust`). Returns units."""
    return _overdue_lines_release(variant_id=variant_id, now=now)[1]


def overdue_expire(*, variant_id: int, now: datetime) -> int:
    """Expiry of one variant's overdue lines: release → promote → announce. The periodic job
    and every lazy expiry (before an add, a quantity change, a waitlist join, a stock take)
    come here, so freed units always go to the waitlist first. Returns lines released."""
    lines, _units = _overdue_lines_release(variant_id=variant_id, now=now)
    if lines:
        promote(variant_id=variant_id, now=now)
        variants_announce(variant_ids=[variant_id])
    return lines


# --- waitlist promotion ------------------------------------------------------------------


def variant_locked(*, variant_id: int) -> ProductVariant | None:
    """The variant (with its product, unlocked) under a row lock, or None."""
    return (
        ProductVariant.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(pk=variant_id)
        .first()
    )


MAX_ID = 2**63 - 1  # bigint primary keys


def id_clean(value) -> int | None:
    """A primary key from user input (int or digit string), or None — never a DB error."""
    return int_in_range(value, low=1, high=MAX_ID)


def int_in_range(value, *, low: int, high: int) -> int | None:
    """An int within [low, high] from an int or a plain digit string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdecimal() or len(value) > len(str(high)):
            return None
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def promote(*, variant_id: int, now: datetime) -> list[WaitlistEntry]:
    """Promote the first WAITING entries that fit the available units. Locks the variant."""
    variant = variant_locked(variant_id=variant_id)
    if variant is None:
        return []
    product = variant.product
    if not product_is_sellable(product, now=now) or variant.status != ProductVariant.Status.ACTIVE:
        return []
    variant.held -= overdue_release(variant_id=variant_id, now=now)
    available = variant.stock - variant.held
    if available <= 0:
        return []
    entries = list(
        WaitlistEntry.objects.select_for_update(skip_locked=True)
        .filter(variant_id=variant_id, status=WaitlistEntry.Status.WAITING)
        .order_by("number")
    )
    if not entries:
        return []
    expires_at = now + timedelta(minutes=config().waitlist_promotion_minutes)
    promoted: list[WaitlistEntry] = []
    for entry in entries:
        if available <= 0:
            break
        if entry.quantity > available:
            continue  # the first entries that fit the freed units; this one keeps its number
        if not _promoted_line_put(entry=entry, expires_at=expires_at, now=now):
            continue
        entry.status = WaitlistEntry.Status.PROMOTED
        entry.promoted_at = now
        entry.promotion_expires_at = expires_at
        entry.save(update_fields=["status", "promoted_at", "promotion_expires_at", "updated_at"])
        available -= entry.quantity
        promoted.append(entry)
        realtime.announce_waitlist_promoted(entry=entry, product=product)
    return promoted


def _promoted_line_put(*, entry: WaitlistEntry, expires_at: datetime, now: datetime) -> bool:
    """Put the entry's units in the shopper's cart with a hold (variant lock held by caller).
    False (the entry keeps waiting) when they would take the shopper past `max_per_user`."""
    line = (
        CartLine.objects.select_for_update(skip_locked=True)
        .filter(user_id=entry.user_id, variant_id=entry.variant_id, status=ACTIVE)
        .first()
    )
    if line is not None and line.is_expired(now=now):
        lines_release(
            rows=[(line.pk, line.variant_id, line.quantity, line.waitlist_entry_id)],
            status=CartLine.Status.EXPIRED,
            now=now,
        )
        line = None
    limit = config().max_per_user
    if limit and (line.quantity if line else 0) + entry.quantity > limit:
        return False
    try:
        with transaction.atomic():
            if variant_hold(variant_id=entry.variant_id, quantity=entry.quantity) is None:
                return False
            if line is None:
                CartLine.objects.create(
                    user_id=entry.user_id,
                    variant_id=entry.variant_id,
                    quantity=entry.quantity,
                    expires_at=expires_at,
                    waitlist_entry=entry,
                )
            else:
                line.quantity += entry.quantity
                line.expires_at = expires_at
                line.waitlist_entry = entry
                line.save(update_fields=["quantity", "expires_at", "waitlist_entry", "updated_at"])
    except IntegrityError:  # the shopper's own line is being written right now: next round
        return False
    return True


# --- product status and announcements ----------------------------------------------------

_config_memo: tuple[float, object] | None = None
CONFIG_MEMO_SECONDS = 0.0 if settings.TESTING else 5.0


def config() -> object:
    """`get_config()` memoised in-process for a few seconds: the hot path reads it on every
    add (cap, low-stock threshold), and a cache round trip per read is measurable."""
    global _config_memo

    now = time.monotonic()
    if _config_memo is None or _config_memo[0] <= now:
        _config_memo = (now + CONFIG_MEMO_SECONDS, get_config())
    return _config_memo[1]


def config_memo_clear() -> None:
    global _config_memo
    _config_memo = None


def product_is_sellable(product: Product, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        product.status == Product.Status.AVAILABLE
        and not product.hidden_from_store
        and (product.expires_at is None or product.expires_at > now)
    )


def product_status_refresh(*, product_ids) -> None:
    """Automatic sold-out: no active variant with stock. A manual sold-out is left alone."""
    for product_id in sorted(set(product_ids)):
        has_stock = ProductVariant.objects.filter(
            product_id=product_id, status=ProductVariant.Status.ACTIVE, stock__gt=0
        ).exists()
        status = Product.Status.AVAILABLE if has_stock else Product.Status.SOLD_OUT
        Product.objects.filter(pk=product_id, manually_sold_out=False).exclude(
            status=status
        ).update(status=status, updated_at=timezone.now())


def variants_announce(*, variant_ids) -> None:
    """stock.changed (+ sold out / low stock) for each variant, from its committed-to-be row."""
    ids = sorted(set(variant_ids))
    if not ids:
        return
    for variant in ProductVariant.objects.select_related("product").filter(pk__in=ids):
        realtime.announce_stock(
            product=variant.product,
            variant_id=variant.pk,
            stock=variant.stock,
            held=variant.held,
            status=variant.status,
        )
