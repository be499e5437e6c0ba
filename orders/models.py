"""Orders (SPEC §5): Order, OrderItem (snapshots), OrderEvent (timeline), OrderSequence (IDs)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts import crypto

ZERO = Decimal("0.00")


class OrderSequence(models.Model):
    """Per-day counter for `ORD-YYYYMMDD-NNNNN` (store-local day). Gap tolerant: a rolled-back
    checkout may burn a number."""

    day = models.DateField(_("날짜"), primary_key=True)
    last = models.PositiveIntegerField(_("마지막 번호"), default=0)

    class Meta:
        verbose_name = _("주문번호 카운터")
        verbose_name_plural = _("주문번호 카운터")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class OrderQuerySet(models.QuerySet):
    def pending_payment(self):
        return self.filter(status=Order.Status.PENDING_PAYMENT)

    def paid(self):
        return self.filter(
            status__in=[
                Order.Status.PAYMENT_CONFIRMED,
                Order.Status.SHIPPED,
                Order.Status.DELIVERED,
            ]
        )


class Order(crypto.EncryptedAddressMixin, models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "PENDING_PAYMENT", _("입금 대기")
        PAYMENT_CONFIRMED = "PAYMENT_CONFIRMED", _("입금 확인")
        SHIPPED = "SHIPPED", _("배송 중")
        DELIVERED = "DELIVERED", _("배송 완료")
        CANCELLED = "CANCELLED", _("주문 취소")

    class PaymentMethod(models.TextChoices):
        BANK_TRANSFER = "BANK_TRANSFER", _("계좌이체")
        ZELLE = "ZELLE", _("Zelle")

    order_id = models.CharField(_("주문번호"), max_length=20, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("회원"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    status = models.CharField(
        _("상태"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT
    )
    payment_method = models.CharField(_("결제 수단"), max_length=16, choices=PaymentMethod.choices)
    subtotal = models.DecimalField(_("상품 금액"), max_digits=12, decimal_places=2)
    shipping_fee = models.DecimalField(_("배송비"), max_digits=10, decimal_places=2, default=ZERO)
    points_used = models.PositiveIntegerField(_("사용 포인트"), default=0)
    points_discount = models.DecimalField(
        _("포인트 할인"), max_digits=12, decimal_places=2, default=ZERO
    )
    total = models.DecimalField(_("결제 금액"), max_digits=12, decimal_places=2)
    points_earned = models.PositiveIntegerField(_("적립 포인트"), default=0)
    depositor_name = models.CharField(_("입금자명"), max_length=100)
    # AES-256-GCM snapshot of the shipping address at checkout; never plaintext in the database.
    shipping_address_encrypted = models.TextField(_("배송지(암호화)"), blank=True, default="")
    address_key_version = models.PositiveSmallIntegerField(_("주소 암호화 키 버전"), default=0)
    # After the shopper deleted their account: the personal snapshot sealed with the archive key
    # (orders/erasure.py), the plain columns above emptied.
    personal_archive = models.TextField(_("탈퇴 회원 보관 정보(암호화)"), blank=True, default="")
    personal_erased_at = models.DateTimeField(_("개인정보 분리 보관 시각"), null=True, blank=True)
    idempotency_key = models.CharField(_("중복 방지 키"), max_length=64)
    payment_deadline = models.DateTimeField(_("입금 기한"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("입금 알림 발송"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("입금 확인 시각"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("발송 시각"), null=True, blank=True)
    tracking_number = models.CharField(_("운송장 번호"), max_length=100, blank=True, default="")
    delivered_at = models.DateTimeField(_("배송 완료 시각"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("취소 시각"), null=True, blank=True)
    cancel_reason = models.CharField(_("취소 사유"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("주문 시각"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("주문")
        verbose_name_plural = _("주문")
        ordering = ["-created_at", "-id"]
        # Money actions get their own permissions: "change order" (ship, deliver, item edits)
        # does not include confirming a payment or cancelling (which refunds points).
        permissions = [
            ("confirm_payment", _("입금 확인")),
            ("cancel_order", _("주문 취소 (포인트 환불 포함)")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], name="order_idempotency_per_user"
            ),
            models.CheckConstraint(
                condition=Q(
                    subtotal__gte=0,
                    shipping_fee__gte=0,
                    points_discount__gte=0,
                    total__gte=0,
                ),
                name="order_money_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "PENDING_PAYMENT",
                        "PAYMENT_CONFIRMED",
                        "SHIPPED",
                        "DELIVERED",
                        "CANCELLED",
                    ]
                ),
                name="order_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["SHIPPED", "DELIVERED"]) | ~Q(tracking_number=""),
                name="order_shipped_has_tracking",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["user", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.order_id


class OrderItem(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("주문")
    )
    variant = models.ForeignKey(
        "shop.ProductVariant",
        verbose_name=_("옵션"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_items",
    )
    product = models.ForeignKey(
        "shop.Product",
        verbose_name=_("상품"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_items",
    )
    stream = models.ForeignKey(
        "live.LiveStream",
        verbose_name=_("라이브 방송"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_items",
    )
    product_name = models.CharField(_("상품명"), max_length=100)
    option_label = models.CharField(_("옵션"), max_length=110, blank=True, default="")
    unit_price = models.DecimalField(_("단가"), max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(_("수량"))
    line_total = models.DecimalField(_("금액"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)

    class Meta:
        verbose_name = _("주문 상품")
        verbose_name_plural = _("주문 상품")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="orderitem_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="orderitem_price_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(line_total__gte=0), name="orderitem_total_non_negative"
            ),
        ]

    def __str__(self) -> str:
        label = (
            f"{self.product_name} ({self.option_label})" if self.option_label else self.product_name
        )
        return f"{label} × {self.quantity}"


class OrderEvent(models.Model):
    class Kind(models.TextChoices):
        CREATED = "CREATED", _("주문 생성")
        PAYMENT_CONFIRMED = "PAYMENT_CONFIRMED", _("입금 확인")
        SHIPPED = "SHIPPED", _("발송")
        DELIVERED = "DELIVERED", _("배송 완료")
        CANCELLED = "CANCELLED", _("주문 취소")
        ITEM_UPDATED = "ITEM_UPDATED", _("상품 수정")
        REMINDER_SENT = "REMINDER_SENT", _("입금 알림")
        POINTS = "POINTS", _("포인트")
        NOTE = "NOTE", _("메모")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("주문")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("처리자"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("구분"), max_length=24, choices=Kind.choices)
    message = models.CharField(_("내용"), max_length=300)
    data = models.JSONField(_("데이터"), default=dict, blank=True)
    created_at = models.DateTimeField(_("일시"), auto_now_add=True)

    class Meta:
        verbose_name = _("주문 이력")
        verbose_name_plural = _("주문 이력")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return str(self.get_kind_display())

    @property
    def detail(self) -> str:
        """The message without the kind's own words in front, for a timeline that shows the
        kind beside it: "주문 생성 (결제 금액 $108.00)" → "결제 금액 $108.00", "입금 확인 ($1.00),
        포인트 5P 적립" → "$1.00, 포인트 5P 적립", "배송 완료" → "", "주문 취소: 단순 변심" →
        "단순 변심"; a message that does not start with them is kept as it is."""
        label = str(self.get_kind_display())
        if not self.message.startswith(label):
            return self.message
        rest = self.message[len(label) :].strip().lstrip(":·-").strip()
        close = rest.find(")") if rest.startswith("(") else -1
        if close > 0:  # "(…)" right after the kind: keep what is inside
            rest = rest[1:close].strip() + rest[close + 1 :]
        return rest.strip()
