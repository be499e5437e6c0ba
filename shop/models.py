from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MIN_PRICE = Decimal("0.01")
MAX_STOCK = 9999


class ProductQuerySet(models.QuerySet):
    def visible(self):
        """Not hidden from the store and not past its expiry."""
        now = timezone.now()
        return self.filter(hidden_from_store=False).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )

    def in_store(self):
        """Store page: products of ended broadcasts and stream-less products."""
        return self.visible().filter(Q(stream__isnull=True) | Q(stream__status="OFFLINE"))

    def with_display_price(self):
        return self.annotate(
            display_price=Min("variants__price", filter=Q(variants__status="ACTIVE"))
        )


class Product(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "AVAILABLE", _("판매중")
        SOLD_OUT = "SOLD_OUT", _("품절")

    stream = models.ForeignKey(
        "live.LiveStream",
        verbose_name=_("라이브 방송"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
    )
    name = models.CharField(_("상품명"), max_length=100)
    description = models.TextField(_("설명"), blank=True)
    price = models.DecimalField(
        _("가격"), max_digits=10, decimal_places=2, validators=[MinValueValidator(MIN_PRICE)]
    )
    original_price = models.DecimalField(
        _("정가"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    discount_rate = models.PositiveSmallIntegerField(
        _("할인율(%)"), null=True, blank=True, validators=[MaxValueValidator(99)]
    )
    is_new = models.BooleanField(_("NEW 배지"), default=False)
    sort_order = models.IntegerField(_("정렬 순서"), default=0)
    status = models.CharField(
        _("상태"), max_length=16, choices=Status.choices, default=Status.AVAILABLE
    )
    # A product the admin marked sold out stays sold out even if stock is added.
    manually_sold_out = models.BooleanField(_("수동 품절"), default=False)
    timer_enabled = models.BooleanField(_("장바구니 타이머"), default=True)
    timer_minutes = models.PositiveIntegerField(
        _("타이머(분)"), default=10, validators=[MinValueValidator(1), MaxValueValidator(7200)]
    )
    expires_at = models.DateTimeField(_("판매 종료 시각"), null=True, blank=True)
    hidden_from_store = models.BooleanField(_("스토어에서 숨김"), default=False)
    is_featured = models.BooleanField(_("추천 상품"), default=False)
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("상품")
        verbose_name_plural = _("상품")
        ordering = ["sort_order", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=MIN_PRICE), name="product_price_min"),
            models.CheckConstraint(
                condition=Q(timer_minutes__gte=1, timer_minutes__lte=7200),
                name="product_timer_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(original_price__isnull=True) | Q(original_price__gte=MIN_PRICE),
                name="product_original_price_min",
            ),
        ]
        indexes = [models.Index(fields=["stream", "sort_order"])]

    def __str__(self) -> str:
        return self.name


class ProductImage(models.Model):
    MAX_PER_PRODUCT = 10

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("상품")
    )
    image = models.ImageField(_("이미지"), upload_to="products/")
    sort_order = models.IntegerField(_("정렬 순서"), default=0)
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)

    class Meta:
        verbose_name = _("상품 이미지")
        verbose_name_plural = _("상품 이미지")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.image.name}"


class ProductVariantQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=ProductVariant.Status.ACTIVE)

    def purchasable(self):
        return self.active().filter(product__status=Product.Status.AVAILABLE, stock__gt=F("held"))


class ProductVariant(models.Model):
    """Stock lives here. `held` = units in active cart lines; available = stock − held."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("판매중")
        SOLD_OUT = "SOLD_OUT", _("품절")
        HIDDEN = "HIDDEN", _("숨김")

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="variants", verbose_name=_("상품")
    )
    color = models.CharField(_("색상"), max_length=50, blank=True)
    size = models.CharField(_("사이즈"), max_length=50, blank=True)
    price = models.DecimalField(
        _("가격"), max_digits=10, decimal_places=2, validators=[MinValueValidator(MIN_PRICE)]
    )
    stock = models.PositiveIntegerField(
        _("재고"), default=0, validators=[MaxValueValidator(MAX_STOCK)]
    )
    held = models.PositiveIntegerField(_("장바구니 보류"), default=0)
    status = models.CharField(
        _("상태"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    sort_order = models.IntegerField(_("정렬 순서"), default=0)
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    objects = ProductVariantQuerySet.as_manager()

    class Meta:
        verbose_name = _("옵션")
        verbose_name_plural = _("옵션")
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(held__gte=0), name="variant_held_non_negative"),
            models.CheckConstraint(condition=Q(held__lte=F("stock")), name="variant_held_le_stock"),
            models.CheckConstraint(
                condition=Q(stock__gte=0, stock__lte=MAX_STOCK), name="variant_stock_range"
            ),
            models.CheckConstraint(condition=Q(price__gte=MIN_PRICE), name="variant_price_min"),
            models.UniqueConstraint(
                fields=["product", "color", "size"], name="variant_unique_option"
            ),
        ]

    def __str__(self) -> str:
        option = " / ".join(filter(None, [self.color, self.size]))
        return f"{self.product.name} ({option})" if option else self.product.name

    @property
    def available(self) -> int:
        return max(self.stock - self.held, 0)

    @property
    def option_label(self) -> str:
        return " / ".join(filter(None, [self.color, self.size]))


class CartLineQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=CartLine.Status.ACTIVE)

    def holding(self, *, now=None):
        """Lines whose units count as held: active and not past their expiry."""
        now = now or timezone.now()
        return self.active().filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def overdue(self, *, now=None):
        """Active lines past expiry that the periodic job has not released yet."""
        now = now or timezone.now()
        return self.active().filter(expires_at__lte=now)


class CartLine(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("담김")
        EXPIRED = "EXPIRED", _("시간 만료")
        REMOVED = "REMOVED", _("삭제")
        COMPLETED = "COMPLETED", _("주문 완료")
        WITHDRAWN = "WITHDRAWN", _("상품 삭제")  # the seller deleted the product or option

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="cart_lines",
        verbose_name=_("회원"),
    )
    # NULL once the variant is deleted: a WITHDRAWN line stays to tell the shopper what went.
    variant = models.ForeignKey(
        ProductVariant,
        null=True,
        on_delete=models.SET_NULL,
        related_name="lines",
        verbose_name=_("옵션"),
    )
    withdrawn_name = models.CharField(
        _("삭제된 상품명"), max_length=220, blank=True, default="", db_default=""
    )
    quantity = models.PositiveIntegerField(_("수량"))
    status = models.CharField(
        _("상태"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    expires_at = models.DateTimeField(_("만료 시각"), null=True, blank=True, db_index=True)
    waitlist_entry = models.ForeignKey(
        "shop.WaitlistEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("예비번호 신청"),
    )
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    objects = CartLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("장바구니 항목")
        verbose_name_plural = _("장바구니 항목")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cartline_quantity_positive"),
            models.UniqueConstraint(
                fields=["user", "variant"],
                condition=Q(status="ACTIVE"),
                name="cartline_one_active_per_variant",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["variant", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.variant_id}×{self.quantity}"

    def is_expired(self, *, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.EXPIRED or (
            self.expires_at is not None and self.expires_at <= now
        )


class WaitlistEntry(models.Model):
    """예비번호: one entry per user and product; promoted in number order as units free up."""

    class Status(models.TextChoices):
        WAITING = "WAITING", _("대기 중")
        PROMOTED = "PROMOTED", _("구매 가능")
        FULFILLED = "FULFILLED", _("주문 완료")
        EXPIRED = "EXPIRED", _("기한 만료")
        CANCELLED = "CANCELLED", _("취소")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        verbose_name=_("회원"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="waitlist", verbose_name=_("상품")
    )
    variant = models.ForeignKey(
        ProductVariant, on_delete=models.CASCADE, related_name="waitlist", verbose_name=_("옵션")
    )
    quantity = models.PositiveSmallIntegerField(
        _("수량"), validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    number = models.PositiveIntegerField(_("예비번호"))
    status = models.CharField(
        _("상태"), max_length=16, choices=Status.choices, default=Status.WAITING
    )
    promoted_at = models.DateTimeField(_("승격 시각"), null=True, blank=True)
    promotion_expires_at = models.DateTimeField(_("승격 만료 시각"), null=True, blank=True)
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    class Meta:
        verbose_name = _("예비번호")
        verbose_name_plural = _("예비번호")
        ordering = ["product", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=10), name="waitlist_quantity_range"
            ),
            models.UniqueConstraint(fields=["product", "number"], name="waitlist_number_unique"),
            models.UniqueConstraint(
                fields=["user", "product"],
                condition=Q(status__in=["WAITING", "PROMOTED"]),
                name="waitlist_one_open_entry_per_product",
            ),
        ]
        indexes = [models.Index(fields=["variant", "status", "number"])]

    def __str__(self) -> str:
        return f"#{self.number} {self.user_id}→{self.product_id}"
