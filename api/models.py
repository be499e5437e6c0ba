"""Per-device API tokens: a shopper's phone, a seller's integration. Only a hash is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """One device's token. The token itself is shown once, when it is created; the row keeps
    its SHA-256 (`key_hash`) and the first characters (`prefix`) so a person can tell their
    devices apart. A token dies with "log out everywhere" (the user's `session_version`
    moves on) and with its revocation (the row is deleted)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("회원"),
    )
    name = models.CharField(_("기기 이름"), max_length=100)
    prefix = models.CharField(_("토큰 앞자리"), max_length=12)
    key_hash = models.CharField(_("토큰 해시"), max_length=64, unique=True)
    session_version = models.PositiveIntegerField(_("세션 버전"))
    last_used_at = models.DateTimeField(_("마지막 사용"), null=True, blank=True)
    created_at = models.DateTimeField(_("생성 시각"), auto_now_add=True)

    class Meta:
        verbose_name = _("기기 토큰")
        verbose_name_plural = _("기기 토큰")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
