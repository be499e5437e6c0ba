"""Points ledger (SPEC §6): 1 point = $0.01. Every change is a PointTransaction; the balance row
is a cached sum of the ledger, changed only under a row lock by `points.services`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PointTransactionQuerySet(models.QuerySet):
    def credits_with_remaining(self):
        return self.filter(amount__gt=0, remaining__gt=0)

    def expirable(self, *, now):
        return self.credits_with_remaining().filter(expires_at__isnull=False, expires_at__lte=now)


class PointTransaction(models.Model):
    class Kind(models.TextChoices):
        EARNED_ORDER = "EARNED_ORDER", _("주문 적립")
        USED_ORDER = "USED_ORDER", _("주문 사용")
        REFUND_CANCELLED = "REFUND_CANCELLED", _("취소 환불")
        REVERSED_CANCELLED = "REVERSED_CANCELLED", _("취소 적립 회수")
        MANUAL_ADD = "MANUAL_ADD", _("관리자 지급")
        MANUAL_SUBTRACT = "MANUAL_SUBTRACT", _("관리자 차감")
        EXPIRED = "EXPIRED", _("유효기간 만료")

    CREDIT_KINDS = (Kind.EARNED_ORDER, Kind.REFUND_CANCELLED, Kind.MANUAL_ADD)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("회원"),
        on_delete=models.CASCADE,
        related_name="point_transactions",
    )
    kind = models.CharField(_("구분"), max_length=24, choices=Kind.choices)
    amount = models.IntegerField(_("포인트"))  # signed: + credit, − debit
    balance_after = models.IntegerField(_("변경 후 잔액"))
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("주문"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="point_transactions",
    )
    reason = models.CharField(_("사유"), max_length=300, blank=True)
    # Credits only: when the unspent part expires, and how much of it is still unspent (FIFO).
    expires_at = models.DateTimeField(_("만료 시각"), null=True, blank=True)
    remaining = models.IntegerField(_("미사용 잔량"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("처리자"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("일시"), auto_now_add=True, db_index=True)

    objects = PointTransactionQuerySet.as_manager()

    class Meta:
        verbose_name = _("포인트 내역")
        verbose_name_plural = _("포인트 내역")
        ordering = ["-created_at", "-id"]
        permissions = [("adjust_points", _("포인트 수동 조정"))]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="pointtx_amount_non_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="pointtx_balance_after_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(remaining__isnull=True)
                | Q(remaining__gte=0, remaining__lte=models.F("amount")),
                name="pointtx_remaining_range",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["EARNED_ORDER", "REFUND_CANCELLED", "MANUAL_ADD"], amount__gt=0)
                    | Q(
                        kind__in=["USED_ORDER", "REVERSED_CANCELLED", "MANUAL_SUBTRACT", "EXPIRED"],
                        amount__lt=0,
                    )
                ),
                name="pointtx_sign_matches_kind",
            ),
            # Points are earned once per order, whatever retries or races happen.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="EARNED_ORDER"), name="pointtx_earn_once"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(
                fields=["expires_at"], condition=Q(remaining__gt=0), name="pointtx_expiring"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+,d}P"


class PointBalance(models.Model):
    """Cached ledger sum per user. Locked with select_for_update on every change."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("회원"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="point_balance",
    )
    balance = models.IntegerField(_("잔액"), default=0)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    class Meta:
        verbose_name = _("포인트 잔액")
        verbose_name_plural = _("포인트 잔액")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="pointbalance_non_negative")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}P"
