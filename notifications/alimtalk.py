"""Kakao Alimtalk through the provider's HTTP API (base URL, API key and sender key from
settings). Off unless `SystemConfig.alimtalk_enabled`; `notify` checks that."""

from __future__ import annotations

import logging

import requests
from django.conf import settings

from notifications.errors import SendError

logger = logging.getLogger(__name__)

ALIMTALK_CONNECT_TIMEOUT = 3
ALIMTALK_READ_TIMEOUT = 10


def alimtalk_send(*, phone: str, template_code: str, body: str) -> str:
    """Send one Alimtalk message; returns the provider's message id.

    Network errors, timeouts and 5xx raise a retryable `SendError`; 4xx a permanent one."""
    url = settings.ALIMTALK_BASE_URL.rstrip("/") + "/v1/messages"
    try:
        response = requests.post(
            url,
            json={
                "sender_key": settings.ALIMTALK_SENDER_KEY,
                "template_code": template_code,
                "phone": phone,
                "message": body,
            },
            headers={"Authorization": f"Bearer {settings.ALIMTALK_API_KEY}"},
            timeout=(ALIMTALK_CONNECT_TIMEOUT, ALIMTALK_READ_TIMEOUT),
        )
    except requests.RequestException as exc:
        raise SendError(f"alimtalk network error: {exc}", retryable=True) from exc
    status = response.status_code
    if status >= 500 or status == 429:
        raise SendError(f"alimtalk provider error ({status})", retryable=True, status=status)
    if status >= 400:
        raise SendError(
            f"alimtalk refused ({status}): {response.text[:300]}", retryable=False, status=status
        )
    try:
        return str(response.json().get("message_id", ""))
    except ValueError:
        return ""
