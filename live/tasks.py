"""Celery tasks of the live app: idempotent wrappers around `live.services.stream`."""

from __future__ import annotations

from celery import shared_task

from live.services import stream as stream_services


@shared_task(name="live.tasks.stream_finalize_offline", ignore_result=True)
def stream_finalize_offline_task(*, stream_id: int) -> str | None:
    """Countdown task scheduled by `stream_unpublish`; a no-op after a republish."""
    stream = stream_services.stream_finalize_offline(stream_id=stream_id)
    return stream.status if stream is not None else None


@shared_task(name="live.tasks.streams_finalize_due", ignore_result=True)
def streams_finalize_due_task() -> list[int]:
    """Periodic safety net: finalize streams whose unpublish grace has elapsed."""
    return stream_services.streams_finalize_due()


@shared_task(name="live.tasks.media_reconcile", ignore_result=True)
def media_reconcile_task() -> list[int]:
    """Periodic: OFFLINE for LIVE streams the media server lost 2 minutes ago."""
    return stream_services.media_reconcile()
