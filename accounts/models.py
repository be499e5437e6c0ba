from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from accounts import crypto


class UserQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=User.Status.ACTIVE, is_active=True)

    def live_alert_subscribers(self):
        return self.active().filter(live_alert_opt_in=True)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(crypto.EncryptedAddressMixin, AbstractBaseUser, PermissionsMixin):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("활성")
        SUSPENDED = "SUSPENDED", _("정지")

    email = models.EmailField(_("이메일"), unique=True)
    name = models.CharField(_("이름"), max_length=100, blank=True)
    status = models.CharField(
        _("상태"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    instagram_id = models.CharField(
        _("인스타그램 ID"), max_length=64, null=True, blank=True, unique=True
    )
    depositor_name = models.CharField(_("입금자명"), max_length=100, blank=True)
    phone = models.CharField(_("전화번호"), max_length=20, blank=True)
    # AES-256-GCM ciphertext of the shipping address JSON (accounts.crypto); never plaintext.
    shipping_address_encrypted = models.TextField(_("배송지(암호화)"), blank=True, default="")
    address_key_version = models.PositiveSmallIntegerField(_("주소 암호화 키 버전"), default=0)
    profile_completed_at = models.DateTimeField(_("프로필 완료 시각"), null=True, blank=True)
    live_alert_opt_in = models.BooleanField(_("라이브 시작 알림"), default=False)
    # Bumped to end every session of the user at once (suspension, "log out everywhere").
    session_version = models.PositiveIntegerField(_("세션 버전"), default=0)
    # Set when the shopper deleted the account: the row stays (orders refer to it), emptied.
    deleted_at = models.DateTimeField(_("탈퇴 시각"), null=True, blank=True)
    is_staff = models.BooleanField(_("스태프"), default=False)
    is_active = models.BooleanField(_("활성"), default=True)
    date_joined = models.DateTimeField(_("가입일"), default=timezone.now)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("회원")
        verbose_name_plural = _("회원")
        ordering = ["-date_joined"]
        constraints = [
            models.UniqueConstraint(Lower("instagram_id"), name="user_instagram_id_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=["ACTIVE", "SUSPENDED"]), name="user_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """Chat/banner name: Instagram ID, else name, else 익명."""
        return self.instagram_id or self.name or "익명"

    @property
    def has_complete_profile(self) -> bool:
        return self.profile_completed_at is not None

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    def _get_session_auth_hash(self, secret=None) -> str:
        # Include the session version so bumping it invalidates every session at once.
        key_salt = "dorami.accounts.User.get_session_auth_hash"
        return salted_hmac(
            key_salt,
            f"{self.password}:{self.session_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class UserSession(models.Model):
    """One logged-in browser of a user, for "로그인 기기" on my page: which device, from where,
    last seen when. The session itself is Django's (cached_db); the record keeps its key so the
    shopper can end it — the key is never rendered nor sent anywhere."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="session_records", verbose_name=_("회원")
    )
    session_key = models.CharField(_("세션 키"), max_length=40, unique=True)
    user_agent = models.CharField(_("브라우저"), max_length=300, blank=True, default="")
    ip = models.GenericIPAddressField(_("접속 주소"), null=True, blank=True)
    created_at = models.DateTimeField(_("로그인 시각"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("마지막 접속"), default=timezone.now)

    class Meta:
        verbose_name = _("로그인 기기")
        verbose_name_plural = _("로그인 기기")
        ordering = ["-last_seen_at", "-id"]
        indexes = [models.Index(fields=["user", "-last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.last_seen_at:%Y-%m-%d}"
