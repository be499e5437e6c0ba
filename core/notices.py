"""What shoppers are told: the active notices and the seller's notice box text, read from the
cache (home, store and the live page are hot; nothing here queries per request in the common
case), and which of them a person has closed.

A banner has a `key`: ``n<id>`` for a `Notice`, ``c<hash>`` for `SystemConfig.notice_text` (so
editing the text shows it again). Closing an IMPORTANT notice is stored per user
(`NoticeDismissal`, on every device); closing a GENERAL one, or anything closed by a guest, is
kept in the browser's `NOTICE_COOKIE`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from core.models import NOTICES_CACHE_KEY, Notice, NoticeDismissal, get_config

NOTICE_COOKIE = "dorami_notices"
COOKIE_MAX_KEYS = 30  # the most recent closes a browser remembers
NOTICES_TIMEOUT = 300  # seconds; every write clears the cache anyway
DISMISSED_TIMEOUT = 60 * 60 * 24


@dataclass(frozen=True)
class ShopperNotice:
    key: str
    kind: str  # Notice.Kind
    title: str
    body: str = ""

    @property
    def important(self) -> bool:
        return self.kind == Notice.Kind.IMPORTANT


def _active_notices() -> list[ShopperNotice]:
    notices = cache.get(NOTICES_CACHE_KEY)
    if notices is None:
        rows = (
            Notice.objects.shown()
            .order_by("-created_at")
            .values_list("pk", "kind", "title", "body")
        )
        notices = [ShopperNotice(f"n{pk}", kind, title, body) for pk, kind, title, body in rows]
        cache.set(NOTICES_CACHE_KEY, notices, timeout=NOTICES_TIMEOUT)
    return notices


def box_notice() -> ShopperNotice | None:
    """The seller's notice box (SystemConfig.notice_text) as a GENERAL notice, if set."""
    text = (get_config().notice_text or "").strip()
    if not text:
        return None
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return ShopperNotice(f"c{digest}", Notice.Kind.GENERAL, text)


def shopper_notices() -> list[ShopperNotice]:
    """Every notice shown to shoppers: IMPORTANT first, then the notice box, then GENERAL."""
    notices = _active_notices()
    box = box_notice()
    important = [n for n in notices if n.important]
    general = [n for n in notices if not n.important]
    return important + ([box] if box else []) + general


def notice_by_key(key: str) -> ShopperNotice | None:
    return next((n for n in shopper_notices() if n.key == key), None)


def ticker_text() -> str:
    """The live page's ticker line: the notice box text and the active notices' titles."""
    return "  ·  ".join(n.title for n in shopper_notices())


def dismissed_cache_key(user_id: int) -> str:
    return f"core:notices-dismissed:{user_id}"


def dismissed_by_user(user_id: int) -> frozenset[str]:
    keys = cache.get(dismissed_cache_key(user_id))
    if keys is None:
        rows = NoticeDismissal.objects.filter(user_id=user_id).values_list("key", flat=True)
        keys = frozenset(rows)
        cache.set(dismissed_cache_key(user_id), keys, timeout=DISMISSED_TIMEOUT)
    return keys


def dismissed_in_cookie(value: str) -> list[str]:
    return [key for key in (value or "").split(".") if key][-COOKIE_MAX_KEYS:]


def cookie_with(value: str, key: str) -> str:
    keys = [k for k in dismissed_in_cookie(value) if k != key] + [key]
    return ".".join(keys[-COOKIE_MAX_KEYS:])


def visible_notices(request) -> list[ShopperNotice]:
    """The banners this person has not closed. No query when there is nothing to show; one
    cache read per logged-in user otherwise."""
    notices = shopper_notices()
    if not notices:
        return []
    closed = set(dismissed_in_cookie(request.COOKIES.get(NOTICE_COOKIE, "")))
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and any(n.important for n in notices):
        closed |= dismissed_by_user(user.pk)
    return [n for n in notices if n.key not in closed]
