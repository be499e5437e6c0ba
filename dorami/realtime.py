"""Project-level realtime transport: group names, sequence numbers, send-after-commit.

Apps never talk to the channel layer directly; each app's own `realtime.py` builds its event
payloads and calls `send_event`. The send is deferred with `transaction.on_commit`, so no
listener ever sees a row that is not committed, and a rolled-back transaction announces nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

STORE_GROUP = "store"  # events about products that belong to no stream
STAFF_GROUP = "staff"  # seller studio / admin listeners


def room_group(stream_id: int | str) -> str:
    return f"live.{stream_id}"


def user_group(user_id: int | str) -> str:
    return f"user.{user_id}"


def next_sequence(group: str) -> int:
    """Per-group increasing sequence number (Redis INCR in production)."""
    key = f"rt:seq:{group}"
    cache.add(key, 0, timeout=None)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=None)
        return 1


def current_sequence(group: str) -> int:
    return int(cache.get(f"rt:seq:{group}") or 0)


def build_message(*, group: str, event: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "room.event", "event": event, "seq": next_sequence(group), "data": data}


def publish(*, group: str, event: str, data: dict[str, Any]) -> None:
    """Send now. Use `send_event` from services; this is for code outside a transaction."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = build_message(group=group, event=event, data=data)
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a realtime hiccup must never fail the business write that caused it
        logger.exception("realtime publish failed group=%s event=%s", group, event)


def send_event(*, group: str, event: str, data: dict[str, Any], using: str | None = None) -> None:
    """Announce `event` to `group` once the surrounding transaction commits."""
    transaction.on_commit(lambda: publish(group=group, event=event, data=data), using=using)
