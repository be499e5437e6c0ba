"""Every write to the points ledger (SPEC §6). 1 point = $0.01.

Invariant: `PointBalance.balance == SUM(PointTransaction.amount)` per user, and credits' unspent
`remaining` sums to the balance. Every change locks the balance row first
(`select_for_update`), so concurrent changes for one user serialise.

Debits consume credits first-in-first-out by expiry (soonest-expiring first, never-expiring
last), so expiry only ever removes points that were really left unspent.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import ServiceError
from core.models import get_config
from core.services import audit_log_record
from points.models import PointBalance, PointTransaction

Kind = PointTransaction.Kind
MIN_REASON_LENGTH = 10
CENT = Decimal("0.01")


class PointsError(ServiceError):
    code = "POINTS_ERROR"
    default_message = "포인트를 처리할 수 없습니다."


class PointsDisabled(PointsError):
    code = "POINTS_DISABLED"
    default_message = "현재 포인트 사용이 중지되어 있습니다."


class PointsBelowMinimum(PointsError):
    code = "POINTS_BELOW_MINIMUM"
    default_message = "포인트는 최소 {minimum:,}P부터 사용할 수 있습니다."


class PointsExceedMax(PointsError):
    code = "POINTS_EXCEED_MAX"
    default_message = "이 주문에는 최대 {maximum:,}P까지 사용할 수 있습니다."


class InsufficientPoints(PointsError):
    code = "INSUFFICIENT_POINTS"
    default_message = "보유 포인트({balance:,}P)가 부족합니다."


class InvalidPointsAmount(PointsError):
    code = "INVALID_POINTS"
    default_message = "포인트는 0 이상의 정수로 입력해 주세요."


class ReasonTooShort(PointsError):
    code = "REASON_TOO_SHORT"
    default_message = "사유를 10자 이상 입력해 주세요."


@dataclass(frozen=True)
class PointsLimits:
    enabled: bool
    balance: int
    minimum: int
    maximum: int  # for this order: min(max %, total − 1 cent, balance)


def points_to_money(points: int) -> Decimal:
    return (Decimal(points) * CENT).quantize(CENT)


def balance_of(*, user) -> int:
    return PointBalance.objects.filter(user=user).values_list("balance", flat=True).first() or 0


def order_max_points(*, order_total: Decimal, config) -> int:
    """At most `points_max_use_percent` of the total, and never the whole positive total."""
    total_cents = int((order_total / CENT).to_integral_value())
    by_percent = math.floor(total_cents * config.points_max_use_percent / 100)
    return max(min(by_percent, total_cents - 1), 0)


def points_limits(*, user, order_total: Decimal, config=None, balance: int | None = None):
    """What the shopper may use on an order whose total before points is `order_total`."""
    config = config or get_config()
    balance = balance_of(user=user) if balance is None else balance
    return PointsLimits(
        enabled=config.points_enabled,
        balance=balance,
        minimum=config.points_min_use,
        maximum=min(order_max_points(order_total=order_total, config=config), balance),
    )


def points_validate_use(*, points: int, order_total: Decimal, balance: int) -> None:
    """Raise the SPEC §6 error for `points` on an order of `order_total` (before points)."""
    if points == 0:
        return
    if not isinstance(points, int) or isinstance(points, bool) or points < 0:
        raise InvalidPointsAmount()
    config = get_config()
    if not config.points_enabled:
        raise PointsDisabled()
    if points < config.points_min_use:
        raise PointsBelowMinimum(minimum=config.points_min_use)
    if points > balance:
        raise InsufficientPoints(balance=balance)
    order_max = order_max_points(order_total=order_total, config=config)
    if points > order_max:
        raise PointsExceedMax(maximum=order_max)


def _locked_balance(*, user) -> PointBalance:
    PointBalance.objects.get_or_create(user=user)
    return PointBalance.objects.select_for_update().get(user=user)


def _consume_credits(*, user, amount: int) -> None:
    """Take `amount` from the unspent remainder of credits, soonest-expiring first."""
    left = amount
    credits = (
        PointTransaction.objects.select_for_update()
        .filter(user=user)
        .credits_with_remaining()
        .order_by(F("expires_at").asc(nulls_last=True), "id")
    )
    for credit in credits:
        if left <= 0:
            break
        take = min(credit.remaining, left)
        credit.remaining -= take
        credit.save(update_fields=["remaining"])
        left -= take


def _record(
    *,
    user,
    kind: str,
    amount: int,
    order=None,
    reason: str = "",
    actor=None,
    expires_at=None,
    balance_row: PointBalance | None = None,
) -> PointTransaction:
    """Apply a signed change under the balance lock and write its ledger row."""
    row = balance_row or _locked_balance(user=user)
    new_balance = row.balance + amount
    if new_balance < 0:
        raise InsufficientPoints(balance=row.balance)
    if amount < 0:
        _consume_credits(user=user, amount=-amount)
    row.balance = new_balance
    row.save(update_fields=["balance", "updated_at"])
    return PointTransaction.objects.create(
        user=user,
        kind=kind,
        amount=amount,
        balance_after=new_balance,
        order=order,
        reason=reason[:300],
        actor=actor,
        expires_at=expires_at if amount > 0 else None,
        remaining=amount if amount > 0 else None,
    )


def points_expiry_at(*, earned_at: datetime, months: int) -> datetime | None:
    """When points earned at `earned_at` expire: the same day and time `months` calendar
    months later on the store's clock (Jan 31 + 1 → Feb 28/29, the month's last day); None
    when `months` is 0 (no expiry)."""
    if not months:
        return None
    local = earned_at.astimezone(ZoneInfo(settings.STORE_TIME_ZONE))
    year, month = divmod(local.month - 1 + months, 12)
    year, month = local.year + year, month + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def _earn_expiry(config):
    return points_expiry_at(earned_at=timezone.now(), months=config.points_expiry_months)


@transaction.atomic
def points_earn(*, user, order, points: int) -> PointTransaction | None:
    """Credit points for a confirmed order (once per order: a unique constraint backs it)."""
    if points <= 0:
        return None
    return _record(
        user=user,
        kind=Kind.EARNED_ORDER,
        amount=points,
        order=order,
        reason=f"{order.order_id} 입금 확인 적립",
        expires_at=_earn_expiry(get_config()),
    )


@transaction.atomic
def points_use(*, user, order, points: int) -> PointTransaction | None:
    """Debit points spent on `order` (validated by the caller with `points_validate_use`)."""
    if points <= 0:
        return None
    return _record(
        user=user,
        kind=Kind.USED_ORDER,
        amount=-points,
        order=order,
        reason=f"{order.order_id} 결제 사용",
    )


@transaction.atomic
def points_refund(
    *, user, order, points: int, actor=None, reason: str = ""
) -> PointTransaction | None:
    """Give back points that were spent on a cancelled (or reduced) order. No expiry."""
    if points <= 0:
        return None
    return _record(
        user=user,
        kind=Kind.REFUND_CANCELLED,
        amount=points,
        order=order,
        reason=reason or f"{order.order_id} 취소 환불",
        actor=actor,
    )


@transaction.atomic
def points_reverse(*, user, order, points: int, actor=None) -> PointTransaction | None:
    """Take back points earned on a cancelled order — only what is still there.

    If the shopper already spent some of them, the balance cannot go negative, so at most the
    current balance is reversed (recorded on the row's reason)."""
    if points <= 0:
        return None
    row = _locked_balance(user=user)
    take = min(points, row.balance)
    if take <= 0:
        return None
    reason = f"{order.order_id} 취소 적립 회수"
    if take < points:
        reason += f" (적립 {points:,}P 중 잔액 {take:,}P만 회수)"
    return _record(
        user=user,
        kind=Kind.REVERSED_CANCELLED,
        amount=-take,
        order=order,
        reason=reason,
        actor=actor,
        balance_row=row,
    )


@transaction.atomic
def points_adjust(*, user, amount: int, reason: str, actor) -> PointTransaction:
    """Staff adjustment: + adds (MANUAL_ADD, expires like earned points), − subtracts.
    An adjustment by staff is also written to the admin audit log."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ReasonTooShort()
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise InvalidPointsAmount("조정 포인트는 0이 아닌 정수여야 합니다.")
    if amount > 0:
        tx = _record(
            user=user,
            kind=Kind.MANUAL_ADD,
            amount=amount,
            reason=reason,
            actor=actor,
            expires_at=_earn_expiry(get_config()),
        )
    else:
        tx = _record(
            user=user, kind=Kind.MANUAL_SUBTRACT, amount=amount, reason=reason, actor=actor
        )
    if actor is not None and actor.is_staff:
        audit_log_record(
            actor=actor,
            action="points.adjust",
            obj=tx,
            after={"user": user.pk, "amount": tx.amount, "reason": tx.reason},
        )
    return tx


@transaction.atomic
def points_expire_user(*, user, now=None) -> int:
    """Expire this user's unspent credits past their expiry; never more than the balance."""
    now = now or timezone.now()
    row = _locked_balance(user=user)
    expired_rows = list(
        PointTransaction.objects.select_for_update().filter(user=user).expirable(now=now)
    )
    due = sum(credit.remaining for credit in expired_rows)
    PointTransaction.objects.filter(pk__in=[credit.pk for credit in expired_rows]).update(
        remaining=0
    )
    amount = min(due, row.balance)
    if amount <= 0:
        return 0
    # The expired credits' remainders are already zeroed above; record the debit directly.
    row.balance -= amount
    row.save(update_fields=["balance", "updated_at"])
    PointTransaction.objects.create(
        user=user,
        kind=Kind.EXPIRED,
        amount=-amount,
        balance_after=row.balance,
        reason=f"유효기간 만료 {amount:,}P",
    )
    return amount


def points_expire(*, now=None) -> dict:
    """Daily job: expire every user's overdue credits (one transaction per user)."""
    now = now or timezone.now()
    user_ids = (
        PointTransaction.objects.expirable(now=now).values_list("user_id", flat=True).distinct()
    )
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(pk__in=list(user_ids))
    total = 0
    count = 0
    for user in users:
        expired = points_expire_user(user=user, now=now)
        if expired:
            total += expired
            count += 1
    return {"users": count, "points": total}
