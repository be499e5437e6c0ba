"""Cart lines and stock holds (SPEC §4): add, change, remove, clear, expire, sell."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from shop import realtime
from shop.models import MAX_STOCK, CartLine, Product, ProductVariant, WaitlistEntry
from shop.services import inventory
from shop.services.errors import (
    AddUnconfirmed,
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
    VariantUnavailable,
)

ACTIVE = CartLine.Status.ACTIVE
DEADLOCK = "40P01"  # PostgreSQL's deadlock_detected


def quantity_clean(value) -> int:
    """1…9999 from an int or a digit string; anything else → InvalidQuantity."""
    quantity = inventory.int_in_range(value, low=1, high=MAX_STOCK)
    if quantity is None:
        raise InvalidQuantity()
    return quantity


def _expiry(product, now: datetime) -> datetime | None:
    """When a line held now expires (`product`: anything with timer_enabled/timer_minutes)."""
    return now + timedelta(minutes=product.timer_minutes) if product.timer_enabled else None


def _max_per_user() -> int | None:
    return inventory.config().max_per_user or None


def _line_upsert(*, user_id: int, variant_id: int, quantity: int, expires_at, now) -> tuple:
    """Insert the ACTIVE line or add to it (one statement; the partial unique index arbitrates
    concurrent adds of the same shopper). An overdue line is never topped up: None then.
    Returns (id, quantity, created_at) or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO shop_cartline (user_id, variant_id, quantity, status, expires_at, "
            "created_at, updated_at) VALUES (%s, %s, %s, 'ACTIVE', %s, %s, %s) "
            "ON CONFLICT (user_id, variant_id) WHERE status = 'ACTIVE' DO UPDATE SET "
            "quantity = shop_cartline.quantity + EXCLUDED.quantity, "
            "expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at "
            "WHERE shop_cartline.expires_at IS NULL OR shop_cartline.expires_at > %s "
            "RETURNING id, quantity, created_at",
            [user_id, variant_id, quantity, expires_at, now, now, now],
        )
        return cursor.fetchone()


def _add_refusal(*, variant_id: int, now: datetime) -> Exception:
    """Why a hold failed: the variant/product is not on sale, or not enough is available.
    (Plain SQL: in a sell-out rush most requests end here.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v.status, v.stock, v.held, p.status, p.hidden_from_store, "
            "CASE WHEN p.expires_at IS NULL OR p.expires_at > %s THEN 1 ELSE 0 END "
            "FROM shop_productvariant v JOIN shop_product p ON p.id = v.product_id "
            "WHERE v.id = %s",
            [now, variant_id],
        )
        row = cursor.fetchone()
    if row is None:
        return VariantUnavailable()
    status, stock, held, product_status, hidden, not_expired = row
    on_sale = (
        status == ProductVariant.Status.ACTIVE
        and product_status == Product.Status.AVAILABLE
        and not hidden
        and not_expired
    )
    return InsufficientStock(available=stock - held) if on_sale else VariantUnavailable()


def _hold_and_line(*, user_id: int, variant_id: int, quantity: int, now: datetime):
    """(hold, (line id, quantity, created_at, expires_at)) or (None, None) when refused."""
    if connection.vendor == "postgresql":
        combined = inventory.variant_hold_with_line(
            variant_id=variant_id, user_id=user_id, quantity=quantity, now=now
        )
        if combined is None:
            return None, None
        hold, line = combined
        if line is not None:
            return hold, line
        # The shopper's own line is overdue (its lazy release was skipped under someone else's
        # lock a moment ago): undo this hold and take the two-step path, which releases it.
        inventory.variant_release(variant_id=variant_id, quantity=quantity)
    hold = inventory.variant_hold_for_sale(variant_id=variant_id, quantity=quantity, now=now)
    if hold is None:
        return None, None
    expires_at = _expiry(hold, now)
    upsert = dict(user_id=user_id, variant_id=variant_id, quantity=quantity, expires_at=expires_at)
    result = _line_upsert(**upsert, now=now)
    if result is None:  # own overdue line: release it (we hold its lock now) and insert anew
        inventory.overdue_expire(variant_id=variant_id, now=now)
        result = _line_upsert(**upsert, now=now)
        current = inventory.variant_row(variant_id=variant_id)
        hold = replace(hold, stock=current.stock, held=current.held)
    return hold, (*result, expires_at)


@dataclass(frozen=True)
class AddRequest:
    """One shopper's add, as typed (quantity and variant id are cleaned by the service)."""

    user: object
    variant_id: object
    quantity: object = 1


def cart_add(*, user, variant_id: int, quantity: int) -> CartLine:
    """Hold `quantity` units and put them in the shopper's cart (summed with an existing line).

    One conditional UPDATE on the variant row decides (it also checks the product is on sale);
    overdue lines of the variant are released first, so an expired line never counts as a hold
    even when the periodic job is late. Hot path: plain SQL, no read before the UPDATE."""
    cleaned = [_add_clean(AddRequest(user, variant_id, quantity))]
    try:
        (result,) = _adds_commit_retrying(cleaned)
    except _CommitUnknown as unknown:
        raise unknown.__cause__ from None  # as before batches: the database's own error
    if isinstance(result, Exception):
        raise result
    return result


def _adds_commit_retrying(cleaned: list) -> list[CartLine | ShopError]:
    """`_adds_commit`, once more if PostgreSQL broke a deadlock by aborting it (rolled back).
    An add can meet one when another add's lazy expiry has just locked this shopper's own
    overdue line (SKIP LOCKED) and waits for the variant this add holds."""
    try:
        return _adds_commit(cleaned)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != DEADLOCK:
            raise
    return _adds_commit(cleaned)


def cart_add_batch(*, requests: Sequence[AddRequest]) -> list[CartLine | ShopError]:
    """Many shoppers' adds in ONE transaction: one commit and one lock of each hot variant row
    per batch instead of per add (group commit; the cart fast lane sends what arrived while
    the previous batch ran). Same rules and SQL as `cart_add`, in arrival order per variant;
    each result is that add's line or its ShopError, in the order of `requests`.

    If the transaction fails before its commit, each add is retried in its own transaction;
    an add that fails again (rolled back) gets its exception as its result. If the commit
    itself fails, nobody knows whether it happened: those adds get `AddUnconfirmed`, never
    a retry (that could add twice)."""
    cleaned = [_add_clean(request) for request in requests]
    try:
        return _adds_commit(cleaned)
    except _CommitUnknown:
        return [_unconfirmed(item) for item in cleaned]
    except Exception:
        if len(cleaned) == 1:
            raise
    results: list = []
    for item in cleaned:
        try:
            results.extend(_adds_commit_retrying([item]))
        except _CommitUnknown:
            results.append(_unconfirmed(item))
        except Exception as error:  # rolled back: safe to try again elsewhere
            results.append(error)
    return results


class _CommitUnknown(Exception):
    """The COMMIT (or what runs with it) failed: the adds may be in the database."""


def _unconfirmed(item) -> ShopError:
    return item if isinstance(item, ShopError) else AddUnconfirmed()


def _add_clean(request: AddRequest) -> tuple[object, int, int] | ShopError:
    """(user, variant id, quantity), or the ShopError bad input gets."""
    try:
        quantity = quantity_clean(request.quantity)
    except ShopError as error:
        return error
    variant_id = inventory.id_clean(request.variant_id)
    if variant_id is None:
        return VariantUnavailable()
    return request.user, variant_id, quantity


def _adds_commit(cleaned: list) -> list[CartLine | ShopError]:
    """Run the cleaned adds in one transaction. Variants are locked in id order (two batches
    never wait on each other in a cycle); a variant's adds run in arrival order."""
    results: list = [item if isinstance(item, ShopError) else None for item in cleaned]
    todo = sorted(
        (item[1], index, item[0], item[2])
        for index, item in enumerate(cleaned)
        if not isinstance(item, ShopError)
    )
    if not todo:
        return results
    now = timezone.now()
    limit = _max_per_user()
    batch = _Batch(now=now, limit=limit)
    per_variant: dict[int, list] = defaultdict(list)
    for variant_id, index, user, quantity in todo:
        per_variant[variant_id].append((index, user, quantity))
    try:
        _adds_run(batch, per_variant, results)
    except Exception as error:
        if batch.committing:
            raise _CommitUnknown() from error
        raise
    return results


def _adds_run(batch: _Batch, per_variant: dict, results: list) -> None:
    now = batch.now
    with transaction.atomic():
        for variant_id, adds in per_variant.items():  # in variant order: locks in id order
            # Lazy expiry first (a group does it under the lock it takes anyway).
            if not batch.grouped(adds):
                inventory.overdue_expire(variant_id=variant_id, now=now)
            for index, result in batch.add_many(variant_id=variant_id, adds=adds):
                results[index] = result
        batch.announce()
        batch.committing = True  # anything failing from here on is the COMMIT or after it


class _Batch:
    """The adds of one transaction, and what they will announce once it commits: each
    variant's final stock once, and one cart-activity line per product (the first shopper's
    name and how many others), not one event per add."""

    def __init__(self, *, now: datetime, limit: int | None):
        self.now, self.limit = now, limit
        self.refused: dict[int, ShopError] = {}  # variant -> its refusal since its last hold
        self.held: dict[int, inventory.SaleHold] = {}  # variant -> its latest hold
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
        sale, overdue = inventory.variant_sale_locked(variant_id=variant_id, now=self.now)
        # Lazy expiry, under the variant's lock (also when it is not on sale, as for one add).
        if (overdue or sale is None) and inventory.overdue_expire(
            variant_id=variant_id, now=self.now
        ):
            sale, _overdue = inventory.variant_sale_locked(variant_id=variant_id, now=self.now)
        if sale is None:
            self.refused[variant_id] = VariantUnavailable()
            return [(index, VariantUnavailable()) for index, _user, _q in adds]
        owned = {}
        if self.limit is not None:  # under the variant's lock: exact until commit
            users = sorted({user.pk for _index, user, _q in adds})
            owned = inventory.line_quantities(variant_id=variant_id, user_ids=users, now=self.now)
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

    def _hold_run(self, *, variant_id: int, sale: inventory.SaleHold, run: list):
        """One statement for the run: ([(index, line)], the adds to retry one by one)."""
        if not run:
            return [], []
        group = [(user.pk, quantity) for _index, user, quantity in run]
        combined = inventory.variant_hold_with_lines(
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
                row = inventory.variant_release(variant_id=variant_id, quantity=quantity)
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
            inventory.variant_lock(variant_id=variant_id)
            owned = inventory.line_quantities(
                variant_id=variant_id, user_ids=[user.pk], now=self.now
            ).get(user.pk, 0)
            if self.over_limit(owned, quantity):
                return QuantityLimit(limit=self.limit)
        hold, line = _hold_and_line(
            user_id=user.pk, variant_id=variant_id, quantity=quantity, now=self.now
        )
        if hold is None:
            self.refused[variant_id] = error = _add_refusal(variant_id=variant_id, now=self.now)
            return error
        self.refused.pop(variant_id, None)
        return self._line(user, variant_id, hold, line)

    def _record(self, variant_id: int, hold: inventory.SaleHold) -> Product:
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

    def _line(self, user, variant_id: int, hold: inventory.SaleHold, line: tuple) -> CartLine:
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


def _own_line_locked(*, user, line_id) -> CartLine:
    line_id = inventory.id_clean(line_id)
    if line_id is None:
        raise LineNotFound()
    line = (
        CartLine.objects.select_for_update(of=("self",))
        .select_related("variant__product")
        .filter(pk=line_id, user=user)
        .first()
    )
    if line is None or line.status in (CartLine.Status.REMOVED, CartLine.Status.COMPLETED):
        raise LineNotFound()
    return line


@transaction.atomic
def cart_line_update(*, user, line_id: int, quantity: int) -> CartLine:
    """Set a line's quantity (holds or releases the difference) and restart its timer."""
    quantity = quantity_clean(quantity)
    now = timezone.now()
    line = _own_line_locked(user=user, line_id=line_id)
    if line.status != ACTIVE or line.is_expired(now=now):
        raise LineExpired()
    variant, product = line.variant, line.variant.product
    delta = quantity - line.quantity
    if delta > 0:
        if variant.status != ProductVariant.Status.ACTIVE or not inventory.product_is_sellable(
            product, now=now
        ):
            raise VariantUnavailable()
        limit = _max_per_user()
        if limit is not None and quantity > limit:
            raise QuantityLimit(limit=limit)
        inventory.overdue_expire(variant_id=variant.pk, now=now)
        if inventory.variant_hold(variant_id=variant.pk, quantity=delta) is None:
            current = inventory.variant_row(variant_id=variant.pk)
            raise InsufficientStock(available=current.available if current else 0)
    elif delta < 0:
        inventory.variant_release(variant_id=variant.pk, quantity=-delta)
        inventory.promote(variant_id=variant.pk, now=now)
    line.quantity = quantity
    line.expires_at = _expiry(product, now)
    line.save(update_fields=["quantity", "expires_at", "updated_at"])
    if delta:
        inventory.variants_announce(variant_ids=[variant.pk])
    return line


@transaction.atomic
def cart_line_remove(*, user, line_id: int) -> None:
    """Remove a line and release its hold; an expired or withdrawn line is just dismissed."""
    now = timezone.now()
    line = _own_line_locked(user=user, line_id=line_id)
    if line.status in (CartLine.Status.EXPIRED, CartLine.Status.WITHDRAWN):
        CartLine.objects.filter(pk=line.pk).update(status=CartLine.Status.REMOVED, updated_at=now)
        return
    inventory.lines_release(
        rows=[(line.pk, line.variant_id, line.quantity, line.waitlist_entry_id)],
        status=CartLine.Status.REMOVED,
        now=now,
    )
    inventory.promote(variant_id=line.variant_id, now=now)
    inventory.variants_announce(variant_ids=[line.variant_id])


@transaction.atomic
def cart_clear(*, user) -> int:
    """Empty the cart: release every hold, dismiss expired lines. Returns lines released."""
    now = timezone.now()
    rows = list(
        CartLine.objects.select_for_update()
        .filter(user=user, status=ACTIVE)
        .order_by("pk")
        .values_list(*inventory.LINE_ROW_FIELDS)
    )
    released = inventory.lines_release(rows=rows, status=CartLine.Status.REMOVED, now=now)
    CartLine.objects.filter(
        user=user, status__in=[CartLine.Status.EXPIRED, CartLine.Status.WITHDRAWN]
    ).update(status=CartLine.Status.REMOVED, updated_at=now)
    for variant_id in sorted(released):
        inventory.promote(variant_id=variant_id, now=now)
    inventory.variants_announce(variant_ids=released)
    return len(rows)


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
            released += inventory.overdue_expire(variant_id=variant_id, now=now)
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
            if inventory.promote(variant_id=variant_id, now=now):
                inventory.variants_announce(variant_ids=[variant_id])
    return released


@transaction.atomic
def holds_convert_to_sale(*, lines: list[CartLine]) -> None:
    """Sell the held units of `lines` (inside the checkout transaction). Locks the lines, then
    the variants in pk order; re-checks expiry under the lock."""
    if not lines:
        raise CartEmpty()
    now = timezone.now()
    expected = {line.pk: line.quantity for line in lines}
    rows = list(
        CartLine.objects.select_for_update()
        .filter(pk__in=sorted(expected))
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
        row = inventory.variant_sell(variant_id=variant_id, quantity=per_variant[variant_id])
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
        inventory.product_status_refresh(
            product_ids=ProductVariant.objects.filter(pk__in=sold_out_products).values_list(
                "product_id", flat=True
            )
        )
    inventory.variants_announce(variant_ids=per_variant)
