from __future__ import annotations

from api.models import ApiToken


def user_tokens(*, user):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
