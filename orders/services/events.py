from __future__ import annotations

from orders.models import Order, OrderEvent


def order_event_record(
    *, order: Order, kind: str, message: str, actor=None, data: dict | None = None
) -> OrderEvent:
    """One timeline row per change (who, when, what). Call inside the change's transaction."""
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        message=message[:300],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data or {},
    )
