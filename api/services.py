"""Every write of the API app: tokens created, used and revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.models import ApiToken
from core.errors import ServiceError

TOKEN_PREFIX = "drm_"  # noqa: S105 (not a secret) tells a Dorami token apart in a config file or a leaked log
TOKENS_PER_USER = 20
LAST_USED_EVERY = timedelta(minutes=5)  # `last_used_at` is written at most this often


class ApiError(ServiceError):
    code = "API_ERROR"


class TokenLimit(ApiError):
    code = "TOKEN_LIMIT"
    status = 409
    default_message = _(
        "기기 토큰은 최대 {limit}개까지 만들 수 있습니다. 안 쓰는 토큰을 삭제해 주세요."
    )


class TokenNotFound(ApiError):
    code = "TOKEN_NOT_FOUND"
    status = 404
    default_message = _("토큰을 찾을 수 없습니다.")


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for one of `user`'s devices: the row and the token (shown once, never
    stored). Locks the user row so two creations cannot pass the limit together."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user).count() >= TOKENS_PER_USER:
        raise TokenLimit(limit=TOKENS_PER_USER)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=raw[: len(TOKEN_PREFIX) + 4],
        key_hash=token_hash(raw),
        session_version=user.session_version,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, user, token_id: int) -> None:
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise TokenNotFound()


def api_token_user(*, raw: str):
    """The active user a token belongs to, or None (unknown, revoked, logged out everywhere
    since, suspended or deactivated). Notes when it was last used, at most every 5 minutes."""
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(raw.strip())).first()
    if token is None:
        return None
    user = token.user
    if not user.is_active or user.is_suspended or user.session_version != token.session_version:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user
