"""Web push channel: pywebpush with the VAPID keys from settings."""

from __future__ import annotations

import base64
import json
import logging
import threading
from functools import lru_cache

import requests
from django.conf import settings
from django.utils import timezone
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from notifications.errors import SendError, SubscriptionGone
from notifications.models import PushSubscription

logger = logging.getLogger(__name__)

PUSH_TIMEOUT_SECONDS = 10
PUSH_TTL_SECONDS = 24 * 3600

_local = threading.local()


def push_session() -> requests.Session:
    """This thread's keep-alive HTTP session: messages to the same push service reuse one
    connection instead of opening one (TCP, and TLS in production) per message. Made lazily,
    so each forked worker process and each worker thread gets its own."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def vapid_keys_generate() -> tuple[str, str]:
    """(public, private): the 65-byte uncompressed public point the browser's
    `applicationServerKey` takes, and the raw 32-byte private value pywebpush signs with."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(public), b64url(private)


@lru_cache(maxsize=4)
def _vapid(private_key: str) -> Vapid:
    """The parsed signing key, once per process (pywebpush would parse it per message)."""
    return Vapid.from_string(private_key=private_key)


def push_configured() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def push_send(*, subscription: PushSubscription, payload: dict) -> None:
    """Deliver `payload` (title/body/url) to one browser and note its last success.

    404/410 deletes the subscription and raises `SubscriptionGone`; 5xx and network errors
    raise a retryable `SendError`; other 4xx a permanent one."""
    push_post(subscription=subscription, payload=payload)
    PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())


def push_post(*, subscription: PushSubscription, payload: dict) -> None:
    """`push_send` without the success write (a batch records its successes in one UPDATE);
    the pooled session of `push_session`."""
    try:
        webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(payload, ensure_ascii=False),
            vapid_private_key=_vapid(settings.VAPID_PRIVATE_KEY),
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=PUSH_TTL_SECONDS,
            timeout=PUSH_TIMEOUT_SECONDS,
            requests_session=push_session(),
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            subscription.delete()
            raise SubscriptionGone(f"push subscription gone ({status})", status=status) from exc
        if status is None or status >= 500 or status == 429:
            raise SendError(
                f"push service error ({status})", retryable=True, status=status
            ) from exc
        raise SendError(f"push refused ({status})", retryable=False, status=status) from exc
    except requests.RequestException as exc:
        raise SendError(f"push network error: {exc}", retryable=True) from exc
