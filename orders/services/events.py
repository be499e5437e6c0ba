from __future__ import annotations

from core.services import audit_log_record
from orders.models import Order, OrderEvent


def order_event_record(
    *,
    order: Order,
    kind: str,
    message: str,
    actor=None,
    data: dict | None = None,
    before: dict | None = None,
) -> OrderEvent:
    """One timeline row per change (who, when, what). Call inside the change's transaction.
    A change made by staff is also written to the admin audit log, with `before` (what the
    change replaced) next to the new status and the event's data."""
    actor = actor if getattr(actor, "is_authenticated", False) else None
    event = OrderEvent.objects.create(
        order=order, kind=kind, message=message[:300], actor=actor, data=data or {}
    )
    if actor is not None and actor.is_staff:
        audit_log_record(
            actor=actor,
            action=f"order.{kind.lower()}",
            obj=order,
            before=before,
            after={"status": order.status, "message": message[:300], **(data or {})},
        )
    return event
