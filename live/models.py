from __future__ import annotations

import re
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

STREAM_KEY_TTL = timedelta(hours=24)

# The public identifier: lowercase letters and digits without look-alikes (0/o, 1/l), 12 long
# (60 random bits). Never 32 hex, so no public id can be mistaken for a publish key.
PUBLIC_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
PUBLIC_ID_LENGTH = 12
PUBLIC_ID_REGEX = r"[a-z2-9]{12}"  # also in nginx/nginx.conf (FLV/HLS locations)
PUBLIC_ID_PATTERN = rf"^{PUBLIC_ID_REGEX}$"


def new_publish_key() -> str:
    return secrets.token_hex(16)


def new_public_id() -> str:
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


_PUBLIC_ID_RE = re.compile(PUBLIC_ID_PATTERN)


def public_id_valid(value) -> bool:
    return isinstance(value, str) and _PUBLIC_ID_RE.fullmatch(value) is not None


def default_key_expiry():
    return timezone.now() + STREAM_KEY_TTL


class LiveStreamQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status=LiveStream.Status.LIVE)

    def upcoming(self):
        return self.filter(status=LiveStream.Status.PENDING, scheduled_at__isnull=False).order_by(
            "scheduled_at"
        )

    def ended(self):
        return self.filter(status=LiveStream.Status.OFFLINE, started_at__isnull=False)


class LiveStream(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", _("예정")
        LIVE = "LIVE", _("라이브")
        OFFLINE = "OFFLINE", _("종료")

    class EndReason(models.TextChoices):
        """Why an OFFLINE stream ended (empty while it has not)."""

        SELLER = "SELLER", _("판매자가 방송을 종료했습니다")
        PUBLISHER_LEFT = (
            "PUBLISHER_LEFT",
            _("송출(OBS)이 끊긴 뒤 다시 연결되지 않아 자동으로 종료되었습니다"),
        )
        MEDIA_LOST = "MEDIA_LOST", _("미디어 서버에서 방송이 사라져 자동으로 종료되었습니다")

    class FreeShipping(models.TextChoices):
        DISABLED = "DISABLED", _("사용 안 함")
        UNCONDITIONAL = "UNCONDITIONAL", _("무조건 무료")
        THRESHOLD = "THRESHOLD", _("금액 이상 무료")

    # Secret: OBS and staff only. Never in a URL, page, playlist or frame a shopper can fetch.
    publish_key = models.CharField(
        _("스트림 키"), max_length=32, unique=True, default=new_publish_key
    )
    # Public: every shopper URL, socket path, player URL and media-server stream name.
    public_id = models.CharField(
        _("공개 식별자"),
        max_length=PUBLIC_ID_LENGTH,
        unique=True,
        default=new_public_id,
        editable=False,
    )
    title = models.CharField(_("제목"), max_length=200)
    description = models.TextField(_("설명"), blank=True)
    thumbnail = models.ImageField(_("썸네일"), upload_to="streams/", blank=True)
    scheduled_at = models.DateTimeField(_("예정 시각"), null=True, blank=True)
    status = models.CharField(
        _("상태"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    started_at = models.DateTimeField(_("시작 시각"), null=True, blank=True)
    ended_at = models.DateTimeField(_("종료 시각"), null=True, blank=True)
    total_duration_seconds = models.PositiveIntegerField(_("총 방송 시간(초)"), default=0)
    end_reason = models.CharField(
        _("종료 사유"), max_length=16, choices=EndReason.choices, blank=True, default=""
    )
    peak_viewers = models.PositiveIntegerField(_("최대 시청자"), default=0)
    free_shipping_mode = models.CharField(
        _("무료배송"), max_length=16, choices=FreeShipping.choices, default=FreeShipping.DISABLED
    )
    free_shipping_threshold = models.DecimalField(
        _("무료배송 기준 금액"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("150.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    key_expires_at = models.DateTimeField(_("키 만료 시각"), default=default_key_expiry)
    notice_text = models.CharField(_("방송 공지"), max_length=300, blank=True)
    featured_product = models.ForeignKey(
        "shop.Product",
        verbose_name=_("대표 상품"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Media-server bookkeeping (webhooks, unpublish grace, reconcile).
    last_publish_at = models.DateTimeField(_("마지막 송출 시각"), null=True, blank=True)
    offline_scheduled_at = models.DateTimeField(_("종료 예정 시각"), null=True, blank=True)
    media_last_seen_at = models.DateTimeField(_("미디어 서버 마지막 확인"), null=True, blank=True)
    live_started_notified_at = models.DateTimeField(_("방송 시작 알림 시각"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("만든 사람"),
    )
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    objects = LiveStreamQuerySet.as_manager()

    class Meta:
        verbose_name = _("라이브 방송")
        verbose_name_plural = _("라이브 방송")
        ordering = ["-scheduled_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(publish_key__regex=r"^[0-9a-f]{32}$"),
                name="livestream_key_32_hex",
            ),
            models.CheckConstraint(
                condition=models.Q(public_id__regex=PUBLIC_ID_PATTERN),
                name="livestream_public_id_format",
            ),
            models.CheckConstraint(
                condition=models.Q(free_shipping_threshold__gte=0),
                name="livestream_threshold_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def obs_stream_key(self) -> str:
        """What the seller pastes into OBS's "Stream Key" field (server: RTMP_PUBLIC_URL): the
        media server's stream name is the public id, the secret travels as `?key=`."""
        return f"{self.public_id}?key={self.publish_key}"

    def key_usable(self, now=None) -> bool:
        """The key may publish: always while LIVE, otherwise until `key_expires_at` (24 h after
        creation or the last publish; an ended show's key expires at once)."""
        return self.status == self.Status.LIVE or self.key_expires_at > (now or timezone.now())


class ChatMessage(models.Model):
    stream = models.ForeignKey(
        LiveStream, on_delete=models.CASCADE, related_name="messages", verbose_name=_("라이브 방송")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("회원"),
    )
    display_name = models.CharField(_("표시 이름"), max_length=100)
    # Sent by staff (the seller): shown with the seller's name and a badge.
    is_seller = models.BooleanField(_("셀러 메시지"), default=False)
    body = models.CharField(_("내용"), max_length=500)
    is_deleted = models.BooleanField(_("삭제됨"), default=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("삭제한 사람"),
    )
    deleted_at = models.DateTimeField(_("삭제 시각"), null=True, blank=True)
    created_at = models.DateTimeField(_("생성 시각"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("채팅 메시지")
        verbose_name_plural = _("채팅 메시지")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["stream", "created_at"])]

    def __str__(self) -> str:
        return f"{self.display_name}: {self.body[:30]}"


class ChatSanction(models.Model):
    class Kind(models.TextChoices):
        MUTE = "MUTE", _("채팅 금지")
        BAN = "BAN", _("강퇴")

    stream = models.ForeignKey(
        LiveStream,
        on_delete=models.CASCADE,
        related_name="sanctions",
        verbose_name=_("라이브 방송"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_sanctions",
        verbose_name=_("회원"),
    )
    kind = models.CharField(_("구분"), max_length=8, choices=Kind.choices)
    reason = models.CharField(_("사유"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("만든 사람"),
    )
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)

    class Meta:
        verbose_name = _("채팅 제재")
        verbose_name_plural = _("채팅 제재")
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "user", "kind"], name="chatsanction_unique_per_stream"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.user_id}@{self.stream_id}"


class RestreamTarget(models.Model):
    class Platform(models.TextChoices):
        YOUTUBE = "YOUTUBE", "YouTube"
        INSTAGRAM = "INSTAGRAM", "Instagram"
        TIKTOK = "TIKTOK", "TikTok"
        CUSTOM = "CUSTOM", _("직접 입력")

    name = models.CharField(_("이름"), max_length=100)
    platform = models.CharField(
        _("플랫폼"), max_length=16, choices=Platform.choices, default=Platform.CUSTOM
    )
    rtmp_url = models.CharField(_("RTMP 주소"), max_length=500)
    stream_key = models.CharField(_("스트림 키"), max_length=500, blank=True)
    enabled = models.BooleanField(_("사용"), default=True)
    mute_audio = models.BooleanField(_("음소거"), default=False)
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    class Meta:
        verbose_name = _("리스트리밍 대상")
        verbose_name_plural = _("리스트리밍 대상")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rtmp_url__regex=r"^rtmps?://"), name="restream_url_rtmp"
            )
        ]

    def __str__(self) -> str:
        return self.name


class RestreamSession(models.Model):
    """One FFmpeg relay of one stream to one target; its state is owned by `run_restream`."""

    class State(models.TextChoices):
        IDLE = "IDLE", _("대기")
        CONNECTING = "CONNECTING", _("연결 중")
        ACTIVE = "ACTIVE", _("송출 중")
        FAILED = "FAILED", _("실패")
        STOPPED = "STOPPED", _("중지")

    stream = models.ForeignKey(
        LiveStream,
        on_delete=models.CASCADE,
        related_name="restreams",
        verbose_name=_("라이브 방송"),
    )
    target = models.ForeignKey(
        RestreamTarget, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("대상")
    )
    state = models.CharField(_("상태"), max_length=16, choices=State.choices, default=State.IDLE)
    restart_count = models.PositiveSmallIntegerField(_("재시작 횟수"), default=0)
    pid = models.PositiveIntegerField(_("프로세스 ID"), null=True, blank=True)
    last_error = models.TextField(_("마지막 오류"), blank=True)
    started_at = models.DateTimeField(_("시작 시각"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("중지 시각"), null=True, blank=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    class Meta:
        verbose_name = _("리스트리밍 세션")
        verbose_name_plural = _("리스트리밍 세션")
        constraints = [
            models.UniqueConstraint(fields=["stream", "target"], name="restream_session_unique")
        ]

    def __str__(self) -> str:
        return f"{self.target} ← {self.stream} ({self.get_state_display()})"
