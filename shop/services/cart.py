"""Cart lines (SPEC §4): add, change, remove, clear. Every hold goes through `holds`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import OperationalError, transaction
from django.utils import timezone

from shop.models import MAX_ID, MAX_STOCK, CartLine
from shop.services import holds
from shop.services.errors import (
    AddUnconfirmed,
    InvalidQuantity,
    LineNotFound,
    ShopError,
    VariantUnavailable,
    int_within,
)

DEADLOCK = "40P01"  # PostgreSQL's deadlock_detected


@dataclass(frozen=True)
class AddRequest:
    """One shopper's add (`shop.forms.CartAddForm` parses a request's; the batch checks
    their types and ranges, answering each bad one with its own ShopError)."""

    user: object
    variant_id: int
    quantity: int = 1


def cart_add(*, user, variant_id: int, quantity: int) -> CartLine:
    """Hold `quantity` units and put them in the shopper's cart (summed with an existing line).

    One conditional UPDATE on the variant row decides (it also checks the variant is on sale);
    overdue lines of the variant are released first, so an expired line never counts as a hold
    even when the periodic job is late. Hot path: plain SQL, no read before the UPDATE."""
    take = _take(AddRequest(user, variant_id, quantity))
    if isinstance(take, ShopError):
        raise take
    try:
        (result,) = _take_retrying([take])
    except holds.TakeCommitUnknown as unknown:
        raise unknown.__cause__ from None  # as before batches: the database's own error
    if isinstance(result, Exception):
        raise result
    return result


def cart_add_batch(*, requests: Sequence[AddRequest]) -> list[CartLine | ShopError]:
    """Many shoppers' adds in ONE transaction (`holds.holds_take`): one commit and one lock of
    each hot variant row per batch instead of per add (group commit; `shop.batcher` sends
    what arrived while the previous batch ran). Each result is that add's line or its
    ShopError, in the order of `requests`.

    If the transaction fails before its commit, each add is retried in its own transaction;
    an add that fails again (rolled back) gets its exception as its result. If the commit
    itself fails, nobody knows whether it happened: those adds get `AddUnconfirmed`, never
    a retry (that could add twice)."""
    cleaned = [_take(request) for request in requests]
    try:
        return _takes_run(cleaned)
    except holds.TakeCommitUnknown:
        return [_unconfirmed(item) for item in cleaned]
    except Exception:
        if len(cleaned) == 1:
            raise
    results: list = []
    for item in cleaned:
        try:
            results.extend(_takes_run([item], retry=True))
        except holds.TakeCommitUnknown:
            results.append(_unconfirmed(item))
        except Exception as error:  # rolled back: safe to try again elsewhere
            results.append(error)
    return results


def _take(request: AddRequest) -> holds.Take | ShopError:
    """The add as a `holds.Take`, or the ShopError a value of the wrong type or range gets."""
    quantity, variant_id = request.quantity, request.variant_id
    if not int_within(quantity, low=1, high=MAX_STOCK):
        return InvalidQuantity()
    if not int_within(variant_id, low=1, high=MAX_ID):
        return VariantUnavailable()
    return holds.Take(request.user, variant_id, quantity)


def _takes_run(items: list, *, retry: bool = False) -> list[CartLine | ShopError]:
    takes = [item for item in items if not isinstance(item, ShopError)]
    taken = iter(_take_retrying(takes) if retry else holds.holds_take(takes=takes))
    return [item if isinstance(item, ShopError) else next(taken) for item in items]


def _take_retrying(takes: list[holds.Take]) -> list[CartLine | ShopError]:
    """`holds_take`, once more if PostgreSQL broke a deadlock by aborting it (rolled back)."""
    try:
        return holds.holds_take(takes=takes)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != DEADLOCK:
            raise
    return holds.holds_take(takes=takes)


def _unconfirmed(item) -> ShopError:
    return item if isinstance(item, ShopError) else AddUnconfirmed()


@transaction.atomic
def cart_line_update(*, user, line_id: int, quantity: int) -> CartLine:
    """Set a line's quantity (holds or releases the difference) and restart its timer.
    Locks the variant, then the line."""
    if not int_within(quantity, low=1, high=MAX_STOCK):
        raise InvalidQuantity()
    return holds.line_quantity_set(
        user=user, line_id=line_id, quantity=quantity, now=timezone.now()
    )


@transaction.atomic
def cart_line_remove(*, user, line_id: int) -> None:
    """Remove a line and release its hold; an expired or withdrawn line is just dismissed."""
    now = timezone.now()
    line = CartLine.objects.filter(pk=line_id, user=user).first()
    if line is None or line.status in (CartLine.Status.REMOVED, CartLine.Status.COMPLETED):
        raise LineNotFound()
    holds.holds_release(
        lines=CartLine.objects.filter(pk=line.pk), reason=CartLine.Status.REMOVED, now=now
    )
    _dismiss(CartLine.objects.filter(pk=line.pk), now=now)


@transaction.atomic
def cart_clear(*, user) -> int:
    """Empty the cart: release every hold, dismiss expired lines. Returns lines released."""
    now = timezone.now()
    lines = CartLine.objects.filter(user=user)
    released = holds.holds_release(lines=lines, reason=CartLine.Status.REMOVED, now=now)
    _dismiss(lines, now=now)
    return len(released)


def _dismiss(lines, *, now) -> None:
    """Expired and withdrawn lines leave the cart (nothing is held by them)."""
    lines.filter(status__in=[CartLine.Status.EXPIRED, CartLine.Status.WITHDRAWN]).update(
        status=CartLine.Status.REMOVED, updated_at=now
    )
