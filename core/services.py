from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction

from core.models import AuditLog, NoticeDismissal
from core.notices import dismissed_cache_key


def audit_log_record(
    *,
    actor,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditLog:
    """Record one admin write. Call it inside the transaction of the write it describes."""
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before,
        after=after,
    )


@transaction.atomic
def notice_dismiss(*, user, key: str) -> None:
    """Remember that a logged-in shopper closed the banner `key` (on every device)."""
    NoticeDismissal.objects.get_or_create(user=user, key=key)
    cache.delete(dismissed_cache_key(user.pk))
    transaction.on_commit(lambda: cache.delete(dismissed_cache_key(user.pk)))
