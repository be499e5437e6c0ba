"""Parsing what the browser posts when it subscribes to web push."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.errors import InvalidSubscription


@dataclass(frozen=True)
class SubscriptionData:
    endpoint: str
    p256dh: str
    auth: str
    stream_id: int | None


def _b64url_len(value, *, name: str) -> int:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise InvalidSubscription(f"{name} 키가 없습니다.")
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidSubscription(f"{name} 키 형식이 올바르지 않습니다.") from exc


def parse_subscription(raw: bytes) -> SubscriptionData:
    """The JSON of `PushSubscription.toJSON()` plus an optional `stream_id`."""
    try:
        data = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSubscription("JSON 형식이 아닙니다.") from exc
    if not isinstance(data, dict):
        raise InvalidSubscription()
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or len(endpoint) > 1000:
        raise InvalidSubscription("endpoint가 없습니다.")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvalidSubscription("endpoint 주소가 올바르지 않습니다.")
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise InvalidSubscription("keys가 없습니다.")
    if _b64url_len(keys.get("p256dh"), name="p256dh") != 65:
        raise InvalidSubscription("p256dh 키 길이가 올바르지 않습니다.")
    if _b64url_len(keys.get("auth"), name="auth") != 16:
        raise InvalidSubscription("auth 키 길이가 올바르지 않습니다.")
    stream_id = data.get("stream_id")
    if stream_id is not None and (
        isinstance(stream_id, bool) or not isinstance(stream_id, int) or stream_id <= 0
    ):
        raise InvalidSubscription("stream_id가 올바르지 않습니다.")
    return SubscriptionData(endpoint, keys["p256dh"], keys["auth"], stream_id)


def parse_endpoint(raw: bytes) -> str:
    try:
        data = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSubscription("JSON 형식이 아닙니다.") from exc
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidSubscription("endpoint가 없습니다.")
    return endpoint


class PreferenceForm(forms.Form):
    """The preferences page: channel switches, then the kinds a shopper may switch off."""

    push_enabled = forms.BooleanField(label=_("웹 푸시"), required=False)
    alimtalk_enabled = forms.BooleanField(label=_("카카오 알림톡"), required=False)
    order_confirmed_enabled = forms.BooleanField(
        label=_("방송 주문 모아보기"),
        required=False,
        help_text=_("방송이 끝나면 그 방송에서 주문한 내역을 한 번에 알려드려요."),
    )
    cart_expiring_enabled = forms.BooleanField(
        label=_("장바구니 만료 임박"),
        required=False,
        help_text=_("담아둔 상품이 2분 후 장바구니에서 빠질 때 알려드려요."),
    )

    CHANNEL_FIELDS = ("push_enabled", "alimtalk_enabled")
    KIND_FIELDS = ("order_confirmed_enabled", "cart_expiring_enabled")
