"""Celery tasks of the shop: idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task

from shop import services


@shared_task(name="shop.tasks.holds_expire", ignore_result=True)
def holds_expire() -> int:
    """Every minute (BEAT_SCHEDULE): release overdue holds, promote waitlists. A late or doubled
    run is harmless: each line is released exactly once."""
    return services.holds_expire()
