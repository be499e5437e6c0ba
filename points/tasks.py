"""Celery beat jobs of the points app (see `dorami.celery.BEAT_SCHEDULE`)."""

from __future__ import annotations

from celery import shared_task

from points import services


@shared_task(name="points.tasks.points_expire", ignore_result=True)
def points_expire_task() -> dict:
    """Daily: expire unspent points past their expiry (idempotent)."""
    return services.points_expire()
