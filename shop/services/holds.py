"""Stock's one door: the only code that writes `ProductVariant.held` or `ProductVariant.stock`.

- `holds_take(takes=…)`: hold units for shoppers' adds (a batch; `cart_add` is a batch of one),
  `hold_for_entry` the units of a promoted waitlist entry, `line_quantity_set` a line's new
  quantity;
- `holds_release(lines=…, reason=…)`: release ACTIVE lines, then ALWAYS promote the waitlist
  of every variant that got units back and announce it (`overdue_expire` is the same for a
  variant's overdue lines);
- `holds_convert_to_sale`, `stock_adjust`, `stock_restore`, `stock_take`: sales and stock.

"On sale" has one definition, `ProductVariant.objects.on_sale()`; `on_sale_sql` compiles it
into the SQL fragment the hold statements use. The PostgreSQL statements (writable CTEs, FOR
UPDATE) and the SQLite fallback of the embedded default live here and nowhere else.

Lock order, everywhere: variants (pk order) → cart lines (pk order) → waitlist entries. A
release reads which variants its lines belong to, locks those variants, then the lines. Code
holding a variant lock takes other shoppers' line/entry locks only with SKIP LOCKED.

The variant row is the single source of truth: `held` is the sum of the quantities of the
variant's ACTIVE lines. Every change to `held` or `stock` is one conditional UPDATE whose WHERE
clause re-checks the invariant `0 ≤ held ≤ stock` (PostgreSQL re-evaluates it on the newest row
version after waiting for a concurrent writer), with CHECK constraints behind it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.models import get_config
from shop import realtime
from shop.models import CartLine, Product, ProductVariant, WaitlistEntry
from shop.services import waitlist
from shop.services.errors import (
    CartChanged,
    CartEmpty,
    CartItemsExpired,
    CartItemsRemoved,
    InsufficientStock,
    InvalidQuantity,
    LineExpired,
    LineNotFound,
    QuantityLimit,
    ShopError,
    StockBelowHeld,
    VariantUnavailable,
)

ACTIVE = CartLine.Status.ACTIVE

# --- configuration ------------------------------------------------------------------------

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


def max_per_user() -> int | None:
    return config().max_per_user or None


# --- "on sale" ------------------------------------------------------------------------------

_NOW = datetime(2000, 1, 1, tzinfo=UTC)  # stands for `now` in the compiled fragment
_on_sale_compiled: dict[str, tuple[str, dict, tuple[str, ...]]] = {}


def on_sale_sql(*, now: datetime) -> tuple[str, dict]:
    """`ProductVariant.objects.on_sale(now=now)` as a WHERE fragment on `shop_productvariant`
    with named parameters (`%(on_sale_i)s`), for the hold statements. Compiled once per
    database vendor; only `now` changes between calls."""
    compiled = _on_sale_compiled.get(connection.vendor)
    if compiled is None:
        query = ProductVariant.objects.on_sale(now=_NOW).query
        sql, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
        names = [f"on_sale_{index}" for index in range(len(params))]
        fixed = {name: p for name, p in zip(names, params, strict=True) if p != _NOW}
        moving = tuple(name for name, p in zip(names, params, strict=True) if p == _NOW)
        compiled = (sql.replace("%s", "%({})s").format(*names), fixed, moving)
        _on_sale_compiled[connection.vendor] = compiled
    sql, fixed, moving = compiled
    return sql, {**fixed, **dict.fromkeys(moving, now)}


def variant_on_sale(*, variant_id: int, now: datetime) -> bool:
    return ProductVariant.objects.on_sale(now=now).filter(pk=variant_id).exists()


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockRow:
    stock: int
    held: int
    status: str

    @property
    def available(self) -> int:
        return max(self.stock - self.held, 0)


def _returning(sql: str, params) -> StockRow | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return StockRow(*row) if row else None


def variant_row(*, variant_id: int) -> StockRow | None:
    row = ProductVariant.objects.filter(pk=variant_id).values_list("stock", "held", "status")
    row = row.first()
    return StockRow(*row) if row else None


def variant_lock(*, variant_id: int) -> None:
    """Lock the variant row (PostgreSQL; SQLite's write transactions are serial already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM shop_productvariant WHERE id = %s FOR UPDATE", [variant_id]
            )


def variants_lock(*, variant_ids) -> None:
    """Lock the variant rows in pk order (the first step of every release)."""
    ids = sorted({v for v in variant_ids if v is not None})
    if ids and connection.vendor == "postgresql":
        locking = ProductVariant.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        list(locking.values_list("pk", flat=True))


def variant_locked(*, variant_id: int, now: datetime) -> tuple[ProductVariant | None, bool]:
    """The variant (with its product, unlocked) under a row lock, and whether it is on sale."""
    variant = (
        ProductVariant.objects.select_for_update(of=("self",))
        .select_related("product")
        .annotate(
            is_on_sale=Exists(ProductVariant.objects.on_sale(now=now).filter(pk=OuterRef("pk")))
        )
        .filter(pk=variant_id)
        .first()
    )
    return variant, bool(variant and variant.is_on_sale)


def line_quantities(*, variant_id: int, user_ids, now: datetime) -> dict[int, int]:
    """{user id: units} of the shoppers' unexpired ACTIVE lines of the variant. Read under the
    variant's lock it stays true until commit: every add and promotion takes that lock before
    it writes a line (the per-user cap, `max_per_user`)."""
    users = [int(user_id) for user_id in user_ids]
    if not users:
        return {}
    # `CartLine.objects.holding()` in SQL: on every add of a capped product, where building the
    # ORM query cost more than the rest of the add.
    marks = ", ".join(["%s"] * len(users))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_id, quantity FROM shop_cartline WHERE variant_id = %s "  # noqa: S608
            "AND status = 'ACTIVE' AND (expires_at IS NULL OR expires_at > %s) "
            f"AND user_id IN ({marks})",
            [variant_id, now, *users],
        )
        return dict(cursor.fetchall())


# --- the conditional UPDATEs (private: everything outside this module calls a door) -------


def _variant_hold(*, variant_id: int, quantity: int) -> StockRow | None:
    """held += quantity iff the variant is ACTIVE and has that many available; None otherwise."""
    return _returning(
        "UPDATE shop_productvariant SET held = held + %s, updated_at = %s "
        "WHERE id = %s AND status = 'ACTIVE' AND stock - held >= %s "
        "RETURNING stock, held, status",
        [quantity, timezone.now(), variant_id, quantity],
    )


def _variant_release(*, variant_id: int, quantity: int) -> StockRow | None:
    return _returning(
        "UPDATE shop_productvariant SET held = held - %s, updated_at = %s "
        "WHERE id = %s AND held >= %s RETURNING stock, held, status",
        [quantity, timezone.now(), variant_id, quantity],
    )


def _variant_sell(*, variant_id: int, quantity: int) -> StockRow | None:
    """Turn held units into sold units: stock −n and held −n together."""
    return _returning(
        "UPDATE shop_productvariant SET stock = stock - %s, held = held - %s, updated_at = %s "
        "WHERE id = %s AND held >= %s AND stock >= %s RETURNING stock, held, status",
        [quantity, quantity, timezone.now(), variant_id, quantity, quantity],
    )


def _variant_restock(*, variant_id: int, quantity: int) -> StockRow | None:
    return _returning(
        "UPDATE shop_productvariant SET stock = stock + %s, updated_at = %s "
        "WHERE id = %s RETURNING stock, held, status",
        [quantity, timezone.now(), variant_id],
    )


def _variant_take(*, variant_id: int, quantity: int) -> StockRow | None:
    """stock −n iff that many units are available (not held by anyone)."""
    return _returning(
        "UPDATE shop_productvariant SET stock = stock - %s, updated_at = %s "
        "WHERE id = %s AND stock - held >= %s RETURNING stock, held, status",
        [quantity, timezone.now(), variant_id, quantity],
    )


def _variant_stock_set(*, variant_id: int, stock: int) -> StockRow | None:
    """stock = n iff n ≥ held."""
    return _returning(
        "UPDATE shop_productvariant SET stock = %s, updated_at = %s "
        "WHERE id = %s AND held <= %s RETURNING stock, held, status",
        [stock, timezone.now(), variant_id, stock],
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
    "UPDATE shop_productvariant SET held = held + %(q)s, updated_at = %(now)s "
    "FROM shop_product p WHERE shop_productvariant.id = %(v)s "
    "AND p.id = shop_productvariant.product_id "
    "AND shop_productvariant.stock - shop_productvariant.held >= %(q)s AND {on_sale} "
    "RETURNING shop_productvariant.stock, shop_productvariant.held, shop_productvariant.status, "
    "p.id, p.name, p.stream_id, p.timer_enabled, p.timer_minutes"
)
# SQLite (embedded default) cannot return columns of an UPDATE's FROM table: a read after.
_HOLD_FOR_SALE_SQL_PORTABLE = (
    "UPDATE shop_productvariant SET held = held + %(q)s, updated_at = %(now)s "
    "WHERE id = %(v)s AND stock - held >= %(q)s AND {on_sale} "
    "RETURNING stock, held, status, product_id"
)


def _variant_hold_for_sale(*, variant_id: int, quantity: int, now: datetime) -> SaleHold | None:
    """`_variant_hold` that also requires the variant to be on sale — one statement, no read
    before it. None when any condition fails."""
    on_sale, params = on_sale_sql(now=now)
    params.update(q=quantity, now=now, v=variant_id)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_HOLD_FOR_SALE_SQL.format(on_sale=on_sale), params)
            row = cursor.fetchone()
            return SaleHold(*row) if row else None
        cursor.execute(_HOLD_FOR_SALE_SQL_PORTABLE.format(on_sale=on_sale), params)
        row = cursor.fetchone()
    if row is None:
        return None
    product = Product.objects.values_list(
        "id", "name", "stream_id", "timer_enabled", "timer_minutes"
    ).get(pk=row[3])
    return SaleHold(*row[:3], *product)


# The cart-line upsert, once: insert the ACTIVE line or add to it; the partial unique index
# arbitrates concurrent adds of one shopper. An overdue line is never topped up (no row back).
_LINE_UPSERT_CONFLICT = """
    ON CONFLICT (user_id, variant_id) WHERE status = 'ACTIVE' DO UPDATE SET
      quantity = shop_cartline.quantity + EXCLUDED.quantity,
      expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
    WHERE shop_cartline.expires_at IS NULL OR shop_cartline.expires_at > %(now)s
"""

_HOLD_WITH_LINE_SQL = "".join(
    (
        """
WITH hold AS (
    UPDATE shop_productvariant SET held = held + %(q)s, updated_at = %(now)s
    FROM shop_product p
    WHERE shop_productvariant.id = %(v)s AND p.id = shop_productvariant.product_id
      AND shop_productvariant.stock - shop_productvariant.held >= %(q)s AND {on_sale}
    RETURNING shop_productvariant.stock, shop_productvariant.held, shop_productvariant.status,
      p.id AS product_id, p.name, p.stream_id, p.timer_enabled, p.timer_minutes
), line AS (
    INSERT INTO shop_cartline
      (user_id, variant_id, quantity, status, expires_at, created_at, updated_at)
    SELECT %(u)s, %(v)s, %(q)s, 'ACTIVE',
      CASE WHEN hold.timer_enabled
        THEN %(now)s + make_interval(mins => hold.timer_minutes) END,
      %(now)s, %(now)s
    FROM hold""",
        _LINE_UPSERT_CONFLICT,
        """    RETURNING id, quantity, created_at, expires_at
)
SELECT hold.stock, hold.held, hold.status, hold.product_id, hold.name, hold.stream_id,
  hold.timer_enabled, hold.timer_minutes, line.id, line.quantity, line.created_at, line.expires_at
FROM hold LEFT JOIN line ON TRUE
""",
    )
)

_LINE_UPSERT_SQL = "".join(
    (
        """
INSERT INTO shop_cartline
  (user_id, variant_id, quantity, status, expires_at, created_at, updated_at)
VALUES (%(u)s, %(v)s, %(q)s, 'ACTIVE', %(expires)s, %(now)s, %(now)s)""",
        _LINE_UPSERT_CONFLICT,
        "RETURNING id, quantity, created_at",
    )
)

_HOLD_WITH_LINES_SQL = "".join(
    (
        """
WITH hold AS (
    UPDATE shop_productvariant SET held = held + %(total)s, updated_at = %(now)s
    WHERE id = %(v)s AND stock - held >= %(total)s
    RETURNING stock, held, status
), line AS (
    INSERT INTO shop_cartline
      (user_id, variant_id, quantity, status, expires_at, created_at, updated_at)
    SELECT r.user_id, %(v)s, r.q, 'ACTIVE', %(expires)s, %(now)s, %(now)s
    FROM unnest(%(users)s::bigint[], %(qs)s::integer[]) AS r(user_id, q), hold""",
        _LINE_UPSERT_CONFLICT,
        """    RETURNING user_id, id, quantity, created_at, expires_at
)
SELECT hold.stock, hold.held, hold.status, line.user_id, line.id, line.quantity,
  line.created_at, line.expires_at
FROM hold LEFT JOIN line ON TRUE
""",
    )
)

_SALE_LOCKED_SQL = """
SELECT shop_productvariant.stock, shop_productvariant.held, shop_productvariant.status,
  p.id, p.name, p.stream_id, p.timer_enabled, p.timer_minutes,
  EXISTS (SELECT 1 FROM shop_cartline l WHERE l.variant_id = shop_productvariant.id
          AND l.status = 'ACTIVE' AND l.expires_at <= %(now)s)
FROM shop_productvariant JOIN shop_product p ON p.id = shop_productvariant.product_id
WHERE shop_productvariant.id = %(v)s AND {on_sale}
FOR UPDATE OF shop_productvariant
"""

_REFUSAL_SQL = """
SELECT shop_productvariant.stock, shop_productvariant.held, CASE WHEN {on_sale} THEN 1 ELSE 0 END
FROM shop_productvariant WHERE shop_productvariant.id = %(v)s
"""


def _expiry(product, now: datetime) -> datetime | None:
    """When a line held now expires (`product`: anything with timer_enabled/timer_minutes)."""
    return now + timedelta(minutes=product.timer_minutes) if product.timer_enabled else None


def _variant_hold_with_line(
    *, variant_id: int, user_id: int, quantity: int, now: datetime
) -> tuple[SaleHold, tuple | None] | None:
    """PostgreSQL: the conditional hold and the cart-line upsert in ONE statement, so the hot
    variant row stays locked only for that statement and the commit. None when the hold is
    refused; (hold, None) when the shopper's own line is overdue (caller undoes and retries);
    else (hold, (line id, quantity, created_at, expires_at))."""
    on_sale, params = on_sale_sql(now=now)
    params.update(q=quantity, now=now, v=variant_id, u=user_id)
    with connection.cursor() as cursor:
        cursor.execute(_HOLD_WITH_LINE_SQL.format(on_sale=on_sale), params)
        row = cursor.fetchone()
    if row is None:
        return None
    line = tuple(row[8:]) if row[8] is not None else None
    return SaleHold(*row[:8]), line


def _line_upsert(*, user_id: int, variant_id: int, quantity: int, expires_at, now) -> tuple:
    """Returns (id, quantity, created_at), or None when the shopper's own line is overdue."""
    params = dict(u=user_id, v=variant_id, q=quantity, expires=expires_at, now=now)
    with connection.cursor() as cursor:
        cursor.execute(_LINE_UPSERT_SQL, params)
        return cursor.fetchone()


def _variant_sale_locked(*, variant_id: int, now: datetime) -> tuple[SaleHold | None, bool]:
    """PostgreSQL: lock the variant row and read it if it is on sale (else None), and whether
    it has overdue lines to release first. For a batch of adds: the caller decides how many
    fit, then `_variant_hold_with_lines`."""
    on_sale, params = on_sale_sql(now=now)
    params.update(v=variant_id, now=now)
    with connection.cursor() as cursor:
        cursor.execute(_SALE_LOCKED_SQL.format(on_sale=on_sale), params)
        row = cursor.fetchone()
    return (SaleHold(*row[:8]), row[8]) if row else (None, False)


def _variant_hold_with_lines(
    *, sale: SaleHold, variant_id: int, adds: list[tuple[int, int]], now: datetime
) -> tuple[SaleHold, dict[int, tuple]] | None:
    """PostgreSQL, under `_variant_sale_locked`'s lock: hold the sum of `adds` ((user id,
    quantity), one per shopper) and upsert every shopper's line in ONE statement. Returns the
    new hold and {user id: (line id, quantity, created_at, expires_at)}; a shopper whose own
    line is overdue is missing (the caller releases their units and retries them alone).
    None if the units are not there (the caller computed them from the locked row)."""
    params = {
        "total": sum(quantity for _user, quantity in adds),
        "now": now,
        "v": variant_id,
        "expires": _expiry(sale, now),
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


def _add_refusal(*, variant_id: int, now: datetime) -> ShopError:
    """Why a hold failed: the variant is not on sale, or not enough is available.
    (Plain SQL: in a sell-out rush most requests end here.)"""
    on_sale, params = on_sale_sql(now=now)
    params.update(v=variant_id)
    with connection.cursor() as cursor:
        cursor.execute(_REFUSAL_SQL.format(on_sale=on_sale), params)
        row = cursor.fetchone()
    if row is None or not row[2]:
        return VariantUnavailable()
    return InsufficientStock(available=row[0] - row[1])


def _hold_and_line(*, user_id: int, variant_id: int, quantity: int, now: datetime):
    """(hold, (line id, quantity, created_at, expires_at)) or (None, None) when refused."""
    if connection.vendor == "postgresql":
        combined = _variant_hold_with_line(
            variant_id=variant_id, user_id=user_id, quantity=quantity, now=now
        )
        if combined is None:
            return None, None
        hold, line = combined
        if line is not None:
            return hold, line
        # The shopper's own line is overdue (its lazy release was skipped under someone else's
        # lock a moment ago): undo this hold and take the two-step path, which releases it.
        _variant_release(variant_id=variant_id, quantity=quantity)
    hold = _variant_hold_for_sale(variant_id=variant_id, quantity=quantity, now=now)
    if hold is None:
        return None, None
    expires_at = _expiry(hold, now)
    upsert = dict(user_id=user_id, variant_id=variant_id, quantity=quantity, expires_at=expires_at)
    result = _line_upsert(**upsert, now=now)
    if result is None:  # own overdue line: release it (we hold its lock now) and insert anew
        overdue_expire(variant_id=variant_id, now=now)
        result = _line_upsert(**upsert, now=now)
        current = variant_row(variant_id=variant_id)
        hold = replace(hold, stock=current.stock, held=current.held)
    return hold, (*result, expires_at)


# --- taking holds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Take:
    """One shopper's add: `quantity` units of the variant into their cart."""

    user: object
    variant_id: int
    quantity: int


class TakeCommitUnknown(Exception):
    """The COMMIT (or what runs with it) failed: the takes may be in the database."""


def holds_take(*, takes: Sequence[Take]) -> list[CartLine | ShopError]:
    """Hold units for shoppers' adds and put them in their carts, in ONE transaction: each
    result is that take's line or its ShopError, in the order of `takes`. Variants are locked
    in id order (two batches never wait on each other in a cycle); a variant's takes run in
    arrival order; overdue lines are released (and the waitlist promoted) first. The same
    rules for one take as for hundreds: on sale, `stock − held ≥ n`, the per-user cap.

    Raises `TakeCommitUnknown` (cause attached) when the commit itself failed."""
    results: list = [None] * len(takes)
    if not takes:
        return results
    batch = _Batch(now=timezone.now(), limit=max_per_user())
    per_variant: dict[int, list] = defaultdict(list)
    for index, take in sorted(enumerate(takes), key=lambda item: (item[1].variant_id, item[0])):
        per_variant[take.variant_id].append((index, take.user, take.quantity))
    try:
        with transaction.atomic():
            for variant_id, adds in per_variant.items():  # in variant order: locks in id order
                # Lazy expiry first (a group does it under the lock it takes anyway).
                if not batch.grouped(adds):
                    overdue_expire(variant_id=variant_id, now=batch.now)
                for index, result in batch.add_many(variant_id=variant_id, adds=adds):
                    results[index] = result
            batch.announce()
            batch.committing = True  # anything failing from here on is the COMMIT or after it
    except Exception as error:
        if batch.committing:
            raise TakeCommitUnknown() from error
        raise
    return results


class _Batch:
    """The adds of one transaction, and what they will announce once it commits: each
    variant's final stock once, and one cart-activity line per product (the first shopper's
    name and how many others), not one event per add."""

    def __init__(self, *, now: datetime, limit: int | None):
        self.now, self.limit = now, limit
        self.refused: dict[int, ShopError] = {}  # variant -> its refusal since its last hold
        self.held: dict[int, SaleHold] = {}  # variant -> its latest hold
        self.products: dict[int, Product] = {}  # variant -> its product (from the hold)
        self.added: dict[Product, list] = defaultdict(list)  # product -> shoppers who added
        self.committing = False

    def grouped(self, adds: list) -> bool:
        """Whether a variant's adds take the one-statement path (`add_many`)."""
        return len(adds) > 1 and connection.vendor == "postgresql"

    def over_limit(self, owned: int, quantity: int) -> bool:
        return self.limit is not None and owned + quantity > self.limit

    def add_many(self, *, variant_id: int, adds: list[tuple[int, object, int]]):
        """[(index, result)] for a variant's adds [(index, user, quantity)] in arrival order.

        PostgreSQL: lock and read the variant once, then hold for the longest run of adds
        that fits (one shopper once) and write all their lines in ONE statement; the adds
        after that run go one by one (`add`), knowing what is left."""
        if not self.grouped(adds):
            return [(i, self.add(user=u, variant_id=variant_id, quantity=q)) for i, u, q in adds]
        sale, overdue = _variant_sale_locked(variant_id=variant_id, now=self.now)
        # Lazy expiry, under the variant's lock (also when it is not on sale, as for one add).
        if (overdue or sale is None) and overdue_expire(variant_id=variant_id, now=self.now):
            sale, _overdue = _variant_sale_locked(variant_id=variant_id, now=self.now)
        if sale is None:
            self.refused[variant_id] = VariantUnavailable()
            return [(index, VariantUnavailable()) for index, _user, _q in adds]
        owned = {}
        if self.limit is not None:  # under the variant's lock: exact until commit
            users = sorted({user.pk for _index, user, _q in adds})
            owned = line_quantities(variant_id=variant_id, user_ids=users, now=self.now)
        available, run, shoppers, capped = sale.stock - sale.held, [], set(), []
        stop = len(adds)
        for position, (index, user, quantity) in enumerate(adds):
            if user.pk in shoppers:
                stop = position
                break
            if self.over_limit(owned.get(user.pk, 0), quantity):  # holds nothing: skip it
                capped.append((index, QuantityLimit(limit=self.limit)))
                continue
            if quantity > available:
                stop = position
                break
            run.append((index, user, quantity))
            shoppers.add(user.pk)
            available -= quantity
        results, retry = self._hold_run(variant_id=variant_id, sale=sale, run=run)
        results += capped
        rest = adds[stop:]
        if rest and not retry and rest[0][2] > available:  # `available` is exact here
            self.refused[variant_id] = InsufficientStock(available=available)
        for index, user, quantity in retry + rest:
            results.append((index, self.add(user=user, variant_id=variant_id, quantity=quantity)))
        return results

    def _hold_run(self, *, variant_id: int, sale: SaleHold, run: list):
        """One statement for the run: ([(index, line)], the adds to retry one by one)."""
        if not run:
            return [], []
        group = [(user.pk, quantity) for _index, user, quantity in run]
        combined = _variant_hold_with_lines(
            sale=sale, variant_id=variant_id, adds=group, now=self.now
        )
        if combined is None:  # cannot happen under the lock: decide them one by one
            return [], run
        hold, lines = combined
        results, retry = [], []
        for index, user, quantity in run:
            if user.pk in lines:
                results.append((index, self._line(user, variant_id, hold, lines[user.pk])))
            else:  # the shopper's own line is overdue: give the units back, go alone
                row = _variant_release(variant_id=variant_id, quantity=quantity)
                hold = replace(sale, stock=row.stock, held=row.held, status=row.status)
                retry.append((index, user, quantity))
        self._record(variant_id, hold)
        return results, retry

    def add(self, *, user, variant_id: int, quantity: int) -> CartLine | ShopError:
        known = self.refused.get(variant_id)
        if isinstance(known, VariantUnavailable):
            return VariantUnavailable()
        if isinstance(known, InsufficientStock) and quantity > known.available:
            return InsufficientStock(available=known.available)  # this batch's view, no SQL
        if self.over_limit(0, quantity):
            return QuantityLimit(limit=self.limit)
        if self.limit is not None:
            # Read under the variant's lock: a concurrent add of the same shopper waits, then
            # sees this one's line (read before the lock, both could pass the cap).
            variant_lock(variant_id=variant_id)
            owned = line_quantities(variant_id=variant_id, user_ids=[user.pk], now=self.now)
            if self.over_limit(owned.get(user.pk, 0), quantity):
                return QuantityLimit(limit=self.limit)
        hold, line = _hold_and_line(
            user_id=user.pk, variant_id=variant_id, quantity=quantity, now=self.now
        )
        if hold is None:
            self.refused[variant_id] = error = _add_refusal(variant_id=variant_id, now=self.now)
            return error
        self.refused.pop(variant_id, None)
        return self._line(user, variant_id, hold, line)

    def _record(self, variant_id: int, hold: SaleHold) -> Product:
        """Remember the variant's latest hold (announced once, after commit); its product,
        built once per variant from the hold."""
        self.held[variant_id] = hold
        if variant_id not in self.products:
            self.products[variant_id] = Product(
                pk=hold.product_id,
                name=hold.product_name,
                stream_id=hold.stream_id,
                timer_enabled=hold.timer_enabled,
                timer_minutes=hold.timer_minutes,
            )
        return self.products[variant_id]

    def _line(self, user, variant_id: int, hold: SaleHold, line: tuple) -> CartLine:
        """The added line, as the caller gets it."""
        product = self._record(variant_id, hold)
        self.added[product].append(user)
        line_id, line_quantity, created_at, expires_at = line
        variant = ProductVariant(
            pk=variant_id, product=product, stock=hold.stock, held=hold.held, status=hold.status
        )
        return CartLine(
            pk=line_id,
            user=user,
            variant=variant,
            quantity=line_quantity,
            status=ACTIVE,
            expires_at=expires_at,
            created_at=created_at,
            updated_at=self.now,
        )

    def announce(self) -> None:
        for variant_id, hold in sorted(self.held.items()):
            realtime.announce_stock(
                product=self.products[variant_id],
                variant_id=variant_id,
                stock=hold.stock,
                held=hold.held,
                status=hold.status,
            )
        for product, shoppers in self.added.items():
            realtime.announce_cart_activity(
                user=shoppers[0], product=product, others=len(shoppers) - 1
            )


def hold_for_entry(*, entry: WaitlistEntry, expires_at: datetime, now: datetime) -> bool:
    """Put a promoted entry's units in the shopper's cart with a hold (the caller, the
    waitlist's promotion, holds the variant lock and has checked it is on sale). False (the
    entry keeps waiting) when the units are not there or would take the shopper past
    `max_per_user`."""
    line = (
        CartLine.objects.select_for_update(skip_locked=True)
        .filter(user_id=entry.user_id, variant_id=entry.variant_id, status=ACTIVE)
        .first()
    )
    if line is not None and line.is_expired(now=now):
        _lines_release(
            rows=[(line.pk, line.variant_id, line.quantity, line.waitlist_entry_id)],
            status=CartLine.Status.EXPIRED,
            now=now,
        )
        line = None
    limit = max_per_user()
    if limit and (line.quantity if line else 0) + entry.quantity > limit:
        return False
    try:
        with transaction.atomic():
            if _variant_hold(variant_id=entry.variant_id, quantity=entry.quantity) is None:
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


def line_quantity_set(*, user, line_id: int, quantity: int, now: datetime) -> CartLine:
    """Set the shopper's line to `quantity` (holds or releases the difference; a release
    promotes the waitlist) and restart its timer. Locks the variant, then the line."""
    variant_id = (
        CartLine.objects.filter(pk=line_id, user=user).values_list("variant_id", flat=True).first()
    )
    variants_lock(variant_ids=[variant_id])
    line = _own_line_locked(user=user, line_id=line_id)
    if line.status != ACTIVE or line.is_expired(now=now):
        raise LineExpired()
    variant, product = line.variant, line.variant.product
    delta = quantity - line.quantity
    if delta > 0:
        if not variant_on_sale(variant_id=variant.pk, now=now):
            raise VariantUnavailable()
        limit = max_per_user()
        if limit is not None and quantity > limit:
            raise QuantityLimit(limit=limit)
        overdue_expire(variant_id=variant.pk, now=now)
        if _variant_hold(variant_id=variant.pk, quantity=delta) is None:
            current = variant_row(variant_id=variant.pk)
            raise InsufficientStock(available=current.available if current else 0)
    elif delta < 0:
        _variant_release(variant_id=variant.pk, quantity=-delta)
    line.quantity = quantity
    line.expires_at = _expiry(product, now)
    line.save(update_fields=["quantity", "expires_at", "updated_at"])
    if delta < 0:
        waitlist.promote(variant_id=variant.pk, now=now)
    if delta:
        variants_announce(variant_ids=[variant.pk])
    return line


def _own_line_locked(*, user, line_id: int) -> CartLine:
    line = (
        CartLine.objects.select_for_update(of=("self",))
        .select_related("variant__product")
        .filter(pk=line_id, user=user)
        .first()
    )
    if line is None or line.status in (CartLine.Status.REMOVED, CartLine.Status.COMPLETED):
        raise LineNotFound()
    return line


# --- releasing holds ----------------------------------------------------------------------


LineRow = tuple[int, int, int, int | None]  # (line id, variant id, quantity, waitlist entry id)
LINE_ROW_FIELDS = ("pk", "variant_id", "quantity", "waitlist_entry_id")


def holds_release(*, lines, reason: str, now: datetime | None = None) -> list[LineRow]:
    """Release the ACTIVE lines of `lines` (a CartLine queryset) with status `reason`, then
    promote the waitlist of every variant that got units back and announce their stock (after
    commit). Locks the variants (pk order), then the lines. Returns the lines released."""
    now = now or timezone.now()
    with transaction.atomic():
        active = lines.filter(status=ACTIVE)
        variants_lock(variant_ids=active.values_list("variant_id", flat=True).distinct())
        rows = list(
            active.select_for_update(of=("self",)).order_by("pk").values_list(*LINE_ROW_FIELDS)
        )
        released = _lines_release(rows=rows, status=reason, now=now)
        for variant_id in sorted(released):
            waitlist.promote(variant_id=variant_id, now=now)
        variants_announce(variant_ids=released)
    return rows


def _lines_release(*, rows: list[LineRow], status: str, now: datetime) -> dict[int, int]:
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
        if _variant_release(variant_id=variant_id, quantity=per_variant[variant_id]) is None:
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
    Lock order: a plain read first; only if there is something to release, the variant's
    lock, then the lines (SKIP LOCKED). (Plain SQL: this runs before every add.)"""
    with connection.cursor() as cursor:
        cursor.execute(_OVERDUE_SQL, [variant_id, now])
        if not cursor.fetchall():
            return 0, 0
        if connection.features.has_select_for_update_skip_locked:
            variant_lock(variant_id=variant_id)
            cursor.execute(_OVERDUE_SQL_LOCKED, [variant_id, now])
        else:
            cursor.execute(_OVERDUE_SQL, [variant_id, now])
        rows = cursor.fetchall()
    if not rows:
        return 0, 0
    released = _lines_release(rows=rows, status=CartLine.Status.EXPIRED, now=now)
    return len(rows), released.get(variant_id, 0)


def overdue_release(*, variant_id: int, now: datetime) -> int:
    """Release the variant's overdue lines, nothing more: for a caller that recounts the units
    under the variant's lock and promotes itself (the waitlist's `promote`, `stock_adjust`).
    Returns units."""
    return _overdue_lines_release(variant_id=variant_id, now=now)[1]


def overdue_expire(*, variant_id: int, now: datetime) -> int:
    """Expiry of one variant's overdue lines: release → promote → announce. The periodic job
    and every lazy expiry (before an add, a quantity change, a waitlist join, a stock take)
    come here, so freed units always go to the waitlist first. Returns lines released."""
    lines, _units = _overdue_lines_release(variant_id=variant_id, now=now)
    if lines:
        waitlist.promote(variant_id=variant_id, now=now)
        variants_announce(variant_ids=[variant_id])
    return lines


def holds_expire(*, now: datetime | None = None) -> int:
    """Periodic job: release every overdue line exactly once (one transaction per variant),
    promote the waitlist, close promotions whose hold is gone. Returns lines released."""
    now = now or timezone.now()
    variant_ids = sorted(
        set(CartLine.objects.overdue(now=now).values_list("variant_id", flat=True))
    )
    released = 0
    for variant_id in variant_ids:
        with transaction.atomic():
            released += overdue_expire(variant_id=variant_id, now=now)
    # Promotions whose cart hold is gone (line changed hands or vanished) expire on time too.
    held_entry_ids = CartLine.objects.filter(status=ACTIVE, waitlist_entry__isnull=False).values(
        "waitlist_entry_id"
    )
    WaitlistEntry.objects.filter(
        status=WaitlistEntry.Status.PROMOTED, promotion_expires_at__lte=now
    ).exclude(pk__in=held_entry_ids).update(status=WaitlistEntry.Status.EXPIRED, updated_at=now)
    # Self-healing: units available while shoppers wait (e.g. a promotion skipped under a lock).
    waiting = (
        WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)
        .values_list("variant_id", flat=True)
        .distinct()
    )
    for variant_id in sorted(set(waiting)):
        with transaction.atomic():
            if waitlist.promote(variant_id=variant_id, now=now):
                variants_announce(variant_ids=[variant_id])
    return released


# --- sales and stock ----------------------------------------------------------------------


@transaction.atomic
def holds_convert_to_sale(*, lines: list[CartLine]) -> None:
    """Sell the held units of `lines` (inside the checkout transaction). Locks the variants
    (pk order), then the lines; re-checks expiry under the lock."""
    if not lines:
        raise CartEmpty()
    now = timezone.now()
    expected = {line.pk: line.quantity for line in lines}
    chosen = CartLine.objects.filter(pk__in=sorted(expected))
    variants_lock(variant_ids=chosen.values_list("variant_id", flat=True))
    rows = list(
        chosen.select_for_update()
        .order_by("pk")
        .values_list("pk", "variant_id", "quantity", "status", "expires_at", "waitlist_entry_id")
    )
    if any(
        status == CartLine.Status.WITHDRAWN or variant_id is None
        for _pk, variant_id, _q, status, *_r in rows
    ):
        raise CartItemsRemoved()
    if len(rows) != len(expected):
        raise CartItemsExpired()
    for pk, _variant_id, quantity, status, expires_at, _entry in rows:
        if status != ACTIVE or (expires_at is not None and expires_at <= now):
            raise CartItemsExpired()
        if quantity != expected[pk]:
            raise CartChanged()
    per_variant: dict[int, int] = defaultdict(int)
    for _pk, variant_id, quantity, *_rest in rows:
        per_variant[variant_id] += quantity
    sold_out_products = []
    for variant_id in sorted(per_variant):
        row = _variant_sell(variant_id=variant_id, quantity=per_variant[variant_id])
        if row is None:
            raise InsufficientStock(available=0)
        if row.stock == 0:
            sold_out_products.append(variant_id)
    CartLine.objects.filter(pk__in=sorted(expected)).update(
        status=CartLine.Status.COMPLETED, updated_at=now
    )
    entry_ids = [r[5] for r in rows if r[5]]
    if entry_ids:
        WaitlistEntry.objects.filter(pk__in=entry_ids).exclude(
            status=WaitlistEntry.Status.FULFILLED
        ).update(status=WaitlistEntry.Status.FULFILLED, updated_at=now)
    if sold_out_products:
        product_status_refresh(
            product_ids=ProductVariant.objects.filter(pk__in=sold_out_products).values_list(
                "product_id", flat=True
            )
        )
    variants_announce(variant_ids=per_variant)


@transaction.atomic
def stock_set(*, variant_id: int, stock: int) -> tuple[ProductVariant, int]:
    """Set the stock (the seller counted it). Below the held units → StockBelowHeld; more
    units (or overdue lines released) promote the waitlist. Locks the variant. Returns the
    variant as saved and the stock before."""
    now = timezone.now()
    variant, _on_sale = variant_locked(variant_id=variant_id, now=now)
    if variant is None:
        raise VariantUnavailable()
    released = overdue_release(variant_id=variant.pk, now=now)
    variant.held -= released
    if stock < variant.held or _variant_stock_set(variant_id=variant.pk, stock=stock) is None:
        raise StockBelowHeld(held=variant.held)
    before = variant.stock
    if (before == 0) != (stock == 0):
        product_status_refresh(product_ids=[variant.product_id])
    if stock > before or released:
        waitlist.promote(variant_id=variant.pk, now=now)
    variants_announce(variant_ids=[variant.pk])
    variant.refresh_from_db()
    return variant, before


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
        row = _variant_restock(variant_id=variant_id, quantity=per_variant[variant_id])
        if row is not None and row.stock == per_variant[variant_id]:
            restocked_from_zero.append(variant_id)
    if restocked_from_zero:
        product_status_refresh(
            product_ids=ProductVariant.objects.filter(pk__in=restocked_from_zero).values_list(
                "product_id", flat=True
            )
        )
    for variant_id in sorted(per_variant):
        waitlist.promote(variant_id=variant_id, now=now)
    variants_announce(variant_ids=per_variant)


@transaction.atomic
def stock_take(*, variant_id: int, quantity: int) -> None:
    """Sell units straight from available stock (admin raises an order item's quantity)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidQuantity()
    overdue_expire(variant_id=variant_id, now=timezone.now())
    row = _variant_take(variant_id=variant_id, quantity=quantity)
    if row is None:
        current = variant_row(variant_id=variant_id)
        if current is None:
            raise VariantUnavailable()
        raise InsufficientStock(available=current.available)
    if row.stock == 0:
        product_status_refresh(
            product_ids=ProductVariant.objects.filter(pk=variant_id).values_list(
                "product_id", flat=True
            )
        )
    variants_announce(variant_ids=[variant_id])


# --- product status and announcements ----------------------------------------------------


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
