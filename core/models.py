from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from core import legal

CONFIG_CACHE_KEY = "adminpanel:systemconfig"
DEFAULT_MAX_PER_USER = 5  # units of one option per shopper (SystemConfig.max_per_user)


class SystemConfig(models.Model):
    """The seller's numbers, editable in the admin. One row (pk=1); read with `get_config()`."""

    # Shipping (SPEC §5)
    shipping_fee_ca = models.DecimalField(
        _("캘리포니아 배송비"), max_digits=8, decimal_places=2, default=Decimal("8.00")
    )
    shipping_fee_other = models.DecimalField(
        _("기타 주 배송비"), max_digits=8, decimal_places=2, default=Decimal("10.00")
    )
    # Cart and waitlist (SPEC §4)
    default_cart_timer_minutes = models.PositiveIntegerField(
        _("기본 장바구니 타이머(분)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(7200)],
    )
    waitlist_promotion_minutes = models.PositiveIntegerField(
        _("예비번호 승격 유지 시간(분)"), default=10, validators=[MinValueValidator(1)]
    )
    # Units of one option (variant) one shopper may hold at a time — cart adds, quantity
    # changes and waitlist promotions alike — so no account can script-hold a hot item.
    max_per_user = models.PositiveIntegerField(
        _("1인당 최대 수량(옵션별, 비우면 제한 없음)"),
        null=True,
        blank=True,
        default=DEFAULT_MAX_PER_USER,
        validators=[MinValueValidator(1)],
    )
    low_stock_threshold = models.PositiveIntegerField(_("품절 임박 기준(개)"), default=4)
    # Payment (SPEC §5)
    bank_transfer_enabled = models.BooleanField(_("계좌이체 사용"), default=True)
    bank_name = models.CharField(_("은행명"), max_length=100, blank=True, default="")
    bank_account_number = models.CharField(_("계좌번호"), max_length=100, blank=True, default="")
    bank_account_holder = models.CharField(_("예금주"), max_length=100, blank=True, default="")
    zelle_enabled = models.BooleanField(_("Zelle 사용"), default=True)
    zelle_email = models.CharField(_("Zelle 이메일/전화"), max_length=200, blank=True, default="")
    zelle_recipient_name = models.CharField(
        _("Zelle 수취인"), max_length=100, blank=True, default=""
    )
    payment_deadline_hours = models.PositiveIntegerField(_("입금 기한(시간)"), default=24)
    unpaid_reminder_hours = models.PositiveIntegerField(_("미입금 알림(시간)"), default=6)
    auto_cancel_hours = models.PositiveIntegerField(
        _("미입금 자동 취소(시간, 0=사용 안 함)"), default=24
    )
    # Points (SPEC §6)
    points_enabled = models.BooleanField(_("포인트 사용"), default=True)
    points_earn_rate_percent = models.DecimalField(
        _("적립률(%)"), max_digits=5, decimal_places=2, default=Decimal("5.00")
    )
    points_min_use = models.PositiveIntegerField(_("최소 사용 포인트"), default=1000)
    points_max_use_percent = models.PositiveIntegerField(
        _("최대 사용 비율(%)"), default=50, validators=[MaxValueValidator(100)]
    )
    points_expiry_months = models.PositiveIntegerField(
        _("포인트 유효기간(개월, 0=무기한)"), default=12
    )
    # Notifications and chat
    alimtalk_enabled = models.BooleanField(_("알림톡 사용"), default=False)
    chat_rate_limit_count = models.PositiveIntegerField(_("채팅 제한(메시지 수)"), default=20)
    chat_rate_limit_seconds = models.PositiveIntegerField(_("채팅 제한(초)"), default=10)
    # Business info and notice box
    business_name = models.CharField(_("상호"), max_length=200, blank=True, default="Dorami")
    business_registration = models.CharField(
        _("사업자 등록번호"), max_length=100, blank=True, default=""
    )
    business_address = models.CharField(_("사업장 주소"), max_length=300, blank=True, default="")
    contact_email = models.CharField(_("문의 이메일"), max_length=200, blank=True, default="")
    contact_phone = models.CharField(_("문의 전화"), max_length=50, blank=True, default="")
    business_owner = models.CharField(_("대표자"), max_length=100, blank=True, default="")
    contact_hours = models.CharField(
        _("고객센터 운영 시간"), max_length=200, blank=True, default="평일 오전 10시 ~ 오후 6시"
    )
    # Legal pages (/terms/, /privacy/): plain text, paragraphs kept as typed.
    terms_text = models.TextField(_("이용약관"), blank=True, default=legal.default_terms_text)
    privacy_text = models.TextField(
        _("개인정보 처리방침"), blank=True, default=legal.default_privacy_text
    )
    notice_text = models.TextField(_("공지 문구"), blank=True, default="")
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    class Meta:
        db_table = "adminpanel_systemconfig"  # the table made before the model moved to core
        verbose_name = _("시스템 설정")
        verbose_name_plural = _("시스템 설정")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="systemconfig_singleton"),
            models.CheckConstraint(
                condition=models.Q(shipping_fee_ca__gte=0, shipping_fee_other__gte=0),
                name="systemconfig_shipping_fee_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return str(_("시스템 설정"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(CONFIG_CACHE_KEY)


def get_config() -> SystemConfig:
    """The singleton, cached briefly; created with defaults on first use."""
    config = cache.get(CONFIG_CACHE_KEY)
    if config is None:
        config, _created = SystemConfig.objects.get_or_create(pk=1)
        cache.set(CONFIG_CACHE_KEY, config, timeout=30)
    return config


NOTICES_CACHE_KEY = "core:notices"


def notices_cache_clear() -> None:
    """Forget the cached list of active notices, now and again once the write commits (so a
    reader between the two cannot keep the old list)."""
    cache.delete(NOTICES_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(NOTICES_CACHE_KEY))


class NoticeQuerySet(models.QuerySet):
    def shown(self):
        return self.filter(is_active=True)

    # Bulk writes (the admin's list_editable and bulk delete) skip save()/delete().
    def update(self, **kwargs):
        notices_cache_clear()
        return super().update(**kwargs)

    def delete(self):
        notices_cache_clear()
        return super().delete()


class Notice(models.Model):
    class Kind(models.TextChoices):
        IMPORTANT = "IMPORTANT", _("중요")
        GENERAL = "GENERAL", _("일반")

    kind = models.CharField(_("구분"), max_length=16, choices=Kind.choices, default=Kind.GENERAL)
    title = models.CharField(_("제목"), max_length=200)
    body = models.TextField(_("내용"), blank=True)
    is_active = models.BooleanField(_("게시"), default=True)
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        db_table = "adminpanel_notice"
        verbose_name = _("공지")
        verbose_name_plural = _("공지")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        notices_cache_clear()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        notices_cache_clear()
        return result


class NoticeDismissal(models.Model):
    """An IMPORTANT notice (or the notice box text) a logged-in shopper closed: it stays closed
    on every device. `key` is the banner's key ("n<id>", "c<hash of the text>")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("회원"),
    )
    key = models.CharField(_("공지 키"), max_length=40)
    created_at = models.DateTimeField(_("닫은 시각"), auto_now_add=True)

    class Meta:
        verbose_name = _("닫은 공지")
        verbose_name_plural = _("닫은 공지")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="noticedismissal_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"


class AuditLog(models.Model):
    """Every admin write: who, what, which object, before/after. Read-only in the admin."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("작업자"),
    )
    action = models.CharField(_("작업"), max_length=64)
    object_type = models.CharField(_("대상 종류"), max_length=100)
    object_id = models.CharField(_("대상 ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("대상"), max_length=200, blank=True)
    before = models.JSONField(_("변경 전"), null=True, blank=True)
    after = models.JSONField(_("변경 후"), null=True, blank=True)
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True, db_index=True)

    class Meta:
        db_table = "adminpanel_auditlog"
        verbose_name = _("감사 로그")
        verbose_name_plural = _("감사 로그")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.object_repr or self.object_id}"
