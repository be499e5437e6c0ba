"""Web push subscriptions, message templates and the send log (SPEC §8)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ALIMTALK_MAX_BODY = 1000  # the provider refuses longer Alimtalk bodies
PUSH_MAX_BODY = 1000  # browsers truncate long notification bodies anyway


class Kind(models.TextChoices):
    LIVE_STARTED = "live_started", _("라이브 시작")
    ORDER_PLACED = "order_placed", _("주문 접수")
    ORDER_CONFIRMED = "order_confirmed", _("방송 주문 확인")
    CART_EXPIRING = "cart_expiring", _("장바구니 만료 임박")
    PAYMENT_REMINDER = "payment_reminder", _("입금 안내")
    PAYMENT_CONFIRMED = "payment_confirmed", _("입금 확인")
    AUTO_CANCELLED = "auto_cancelled", _("미입금 자동 취소")
    SHIPPED = "shipped", _("발송 완료")
    WAITLIST_PROMOTED = "waitlist_promoted", _("예비번호 승격")


# Kinds a shopper may switch off one by one on the preferences page (the live alert is
# `User.live_alert_opt_in`). The others are about an order or a hold the shopper has to act
# on: they follow only the channel switches (push on/off, 알림톡 on/off).
OPTIONAL_KINDS: tuple[str, ...] = (Kind.ORDER_CONFIRMED, Kind.CART_EXPIRING)


class Channel(models.TextChoices):
    PUSH = "PUSH", _("웹 푸시")
    ALIMTALK = "ALIMTALK", _("알림톡")


# The variables a template of each kind may use; `notify(context=...)` supplies them.
KIND_VARIABLES: dict[str, tuple[str, ...]] = {
    Kind.LIVE_STARTED: ("name", "stream_title", "url"),
    Kind.ORDER_PLACED: (
        "name",
        "order_id",
        "total",
        "deadline",
        "payment_method",
        "bank_name",
        "bank_account_number",
        "bank_account_holder",
        "zelle_email",
        "zelle_recipient_name",
        "url",
    ),
    Kind.ORDER_CONFIRMED: ("name", "stream_title", "order_ids", "order_count", "total", "url"),
    Kind.CART_EXPIRING: ("name", "product_name", "minutes", "url"),
    Kind.PAYMENT_REMINDER: (
        "name",
        "order_id",
        "total",
        "deadline",
        "bank_name",
        "bank_account_number",
        "bank_account_holder",
        "url",
    ),
    Kind.AUTO_CANCELLED: ("name", "order_id", "total", "reason", "url"),
    Kind.PAYMENT_CONFIRMED: ("name", "order_id", "total", "points_earned", "url"),
    Kind.SHIPPED: ("name", "order_id", "carrier", "tracking_number", "url"),
    Kind.WAITLIST_PROMOTED: ("name", "product_name", "minutes", "url"),
}

# Sample values for the admin preview, one per variable of every kind.
SAMPLE_CONTEXT: dict[str, str] = {
    "name": "김도라미",
    "stream_title": "금요 라이브",
    "url": "https://dorami.example/my/orders/D2612030001/",
    "order_id": "D2612030001",
    "total": "$58.00",
    "deadline": "12월 4일 오후 3:00",
    "bank_name": "국민은행",
    "bank_account_number": "123-45-6789",
    "bank_account_holder": "도라미",
    "payment_method": "계좌이체",
    "zelle_email": "pay@dorami.example",
    "zelle_recipient_name": "Dorami LLC",
    "order_ids": "D2612030001, D2612030002",
    "order_count": "2",
    "reason": "입금 기한 24시간 경과 자동 취소",
    "points_earned": "290",
    "product_name": "라이브 니트",
    "minutes": "10",
    "carrier": "USPS",
    "tracking_number": "9400111899223100000000",
}

# Push text used when no template of the kind is stored (push needs no provider approval).
DEFAULT_PUSH_TEXT: dict[str, tuple[str, str]] = {
    Kind.LIVE_STARTED: ("라이브 시작", "{{stream_title}} 방송이 시작되었습니다."),
    Kind.ORDER_PLACED: (
        "주문 접수",
        "주문 {{order_id}}({{total}})이 접수되었습니다. {{deadline}}까지 입금해 주세요.",
    ),
    Kind.ORDER_CONFIRMED: (
        "주문 확인",
        "{{stream_title}} 방송 주문 {{order_count}}건({{total}}): {{order_ids}}",
    ),
    Kind.CART_EXPIRING: ("장바구니", "{{product_name}} 담아두기가 {{minutes}}분 후 끝납니다."),
    Kind.PAYMENT_REMINDER: (
        "입금 안내",
        "주문 {{order_id}}({{total}})의 입금 기한은 {{deadline}}입니다.",
    ),
    Kind.AUTO_CANCELLED: (
        "주문 취소",
        "입금 기한이 지나 주문 {{order_id}}({{total}})이 취소되었습니다.",
    ),
    Kind.PAYMENT_CONFIRMED: (
        "입금 확인",
        "주문 {{order_id}}의 입금이 확인되었습니다. {{points_earned}}P가 적립되었습니다.",
    ),
    Kind.SHIPPED: (
        "발송 완료",
        "주문 {{order_id}}이 발송되었습니다. {{carrier}} 운송장 {{tracking_number}}",
    ),
    Kind.WAITLIST_PROMOTED: (
        "예비번호 순서",
        "{{product_name}}을 {{minutes}}분 안에 주문하실 수 있습니다.",
    ),
}


def template_variables(text: str) -> set[str]:
    return set(VARIABLE_RE.findall(text))


def template_render(text: str, context: dict) -> str:
    """Replace each `{{var}}` by `context[var]` (missing ones become empty)."""
    return VARIABLE_RE.sub(lambda m: str(context.get(m.group(1), "")), text)


class PushSubscriptionQuerySet(models.QuerySet):
    def for_stream(self, stream_id: int | None):
        """Subscriptions that want a message about `stream_id` (all-shows ones always do)."""
        if stream_id is None:
            return self
        return self.filter(models.Q(stream__isnull=True) | models.Q(stream_id=stream_id))


class PushSubscription(models.Model):
    """One browser (device) of a user; `stream` empty = every show."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name=_("회원"),
    )
    endpoint = models.URLField(_("엔드포인트"), max_length=1000, unique=True)
    p256dh = models.CharField(_("p256dh 키"), max_length=200)
    auth = models.CharField(_("auth 키"), max_length=100)
    stream = models.ForeignKey(
        "live.LiveStream",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="push_subscriptions",
        verbose_name=_("방송(비우면 전체)"),
    )
    user_agent = models.CharField(_("브라우저"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("등록일"), auto_now_add=True)
    last_success_at = models.DateTimeField(_("마지막 성공"), null=True, blank=True)

    objects = PushSubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("푸시 구독")
        verbose_name_plural = _("푸시 구독")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.endpoint[:40]}"


class NotificationTemplate(models.Model):
    name = models.CharField(_("이름"), max_length=100, unique=True)
    kind = models.CharField(_("종류"), max_length=30, choices=Kind.choices)
    channel = models.CharField(_("채널"), max_length=10, choices=Channel.choices)
    provider_template_code = models.CharField(
        _("알림톡 템플릿 코드"), max_length=100, blank=True, default=""
    )
    title = models.CharField(_("제목"), max_length=100, blank=True, default="")
    body = models.TextField(_("본문"), help_text=_("{{변수}} 형식으로 값을 넣습니다."))
    enabled = models.BooleanField(_("사용"), default=True)
    created_at = models.DateTimeField(_("등록일"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정일"), auto_now=True)

    class Meta:
        verbose_name = _("알림 템플릿")
        verbose_name_plural = _("알림 템플릿")
        ordering = ["kind", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "channel"], name="notificationtemplate_kind")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        allowed = set(KIND_VARIABLES.get(self.kind, ()))
        for field in ("title", "body"):
            unknown = sorted(template_variables(getattr(self, field) or "") - allowed)
            if unknown:
                errors.setdefault(field, []).append(
                    _("알 수 없는 변수: %(unknown)s (사용 가능: %(allowed)s)")
                    % {"unknown": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
                )
        limit = ALIMTALK_MAX_BODY if self.channel == Channel.ALIMTALK else PUSH_MAX_BODY
        if len(self.body or "") > limit:
            errors.setdefault("body", []).append(
                _("본문은 %(limit)s자 이하여야 합니다(현재 %(count)s자).")
                % {"limit": limit, "count": len(self.body)}
            )
        if self.channel == Channel.ALIMTALK and not self.provider_template_code:
            errors["provider_template_code"] = [_("알림톡 템플릿에는 템플릿 코드가 필요합니다.")]
        if errors:
            raise ValidationError(errors)

    def render(self, context: dict) -> tuple[str, str]:
        return template_render(self.title, context), template_render(self.body, context)


class NotificationSend(models.Model):
    """One message to one user on one channel; `(dedupe_key, channel)` makes it happen once."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("대기")
        SENT = "SENT", _("발송")
        SKIPPED = "SKIPPED", _("건너뜀")
        FAILED = "FAILED", _("실패")

    dedupe_key = models.CharField(_("중복 방지 키"), max_length=200)
    kind = models.CharField(_("종류"), max_length=30, choices=Kind.choices)
    channel = models.CharField(_("채널"), max_length=10, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_sends",
        verbose_name=_("회원"),
    )
    status = models.CharField(
        _("상태"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("사유"), max_length=200, blank=True, default="")
    error = models.TextField(_("오류"), blank=True, default="")
    title = models.CharField(_("제목"), max_length=200, blank=True, default="")
    body = models.TextField(_("본문"), blank=True, default="")
    url = models.CharField(_("링크"), max_length=500, blank=True, default="")
    template_code = models.CharField(_("템플릿 코드"), max_length=100, blank=True, default="")
    stream_id = models.PositiveBigIntegerField(_("방송 ID"), null=True, blank=True)
    provider_id = models.CharField(_("발송사 ID"), max_length=200, blank=True, default="")
    attempts = models.PositiveIntegerField(_("시도 횟수"), default=0)
    created_at = models.DateTimeField(_("생성일"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정일"), auto_now=True)

    class Meta:
        verbose_name = _("알림 발송 기록")
        verbose_name_plural = _("알림 발송 기록")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key", "channel"], name="notificationsend_dedupe"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.dedupe_key} ({self.channel})"


class NotificationAttempt(models.Model):
    """One try of a send: created SKIPPED when the send could not go out at all, then one row
    per delivery attempt (SENT, FAILED, or RETRY when another try follows)."""

    class Result(models.TextChoices):
        SENT = "SENT", _("발송")
        SKIPPED = "SKIPPED", _("건너뜀")
        FAILED = "FAILED", _("실패")
        RETRY = "RETRY", _("실패(재시도 예정)")

    send = models.ForeignKey(
        NotificationSend,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("발송 기록"),
    )
    number = models.PositiveIntegerField(_("회차"), default=0)
    result = models.CharField(_("결과"), max_length=10, choices=Result.choices)
    error = models.TextField(_("오류/사유"), blank=True, default="")
    provider_id = models.CharField(_("발송사 ID"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("시각"), auto_now_add=True)

    class Meta:
        verbose_name = _("발송 시도")
        verbose_name_plural = _("발송 시도")
        ordering = ["send_id", "number", "id"]
        indexes = [models.Index(fields=["result", "created_at"])]

    def __str__(self) -> str:
        return f"{self.send_id} #{self.number} {self.result}"


class NotificationPreference(models.Model):
    """A shopper's channel switches and optional kinds; no row = everything on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("회원"),
    )
    push_enabled = models.BooleanField(_("웹 푸시 받기"), default=True)
    alimtalk_enabled = models.BooleanField(_("카카오 알림톡 받기"), default=True)
    order_confirmed_enabled = models.BooleanField(_("방송 주문 모아보기"), default=True)
    cart_expiring_enabled = models.BooleanField(_("장바구니 만료 임박"), default=True)
    updated_at = models.DateTimeField(_("수정일"), auto_now=True)

    class Meta:
        verbose_name = _("알림 설정")
        verbose_name_plural = _("알림 설정")
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"{self.user_id}"

    def channel_on(self, channel: str) -> bool:
        return self.push_enabled if channel == Channel.PUSH else self.alimtalk_enabled

    def kind_on(self, kind: str) -> bool:
        if kind == Kind.ORDER_CONFIRMED:
            return self.order_confirmed_enabled
        if kind == Kind.CART_EXPIRING:
            return self.cart_expiring_enabled
        return True
