from __future__ import annotations

from celery import shared_task

from notifications import services

MAX_RETRIES = 3
BACKOFF_SECONDS = 30  # 30 s, 60 s, 120 s


@shared_task(bind=True, name="notifications.tasks.notification_send", ignore_result=True)
def notification_send(self, send_id: int) -> None:
    """Send one NotificationSend; retried 3 times with exponential backoff on network errors
    and 5xx, never on 4xx. A row that is no longer pending (already SENT) is not re-sent."""
    retries = self.request.retries or 0
    if services.notification_attempt(send_id=send_id, last_try=retries >= MAX_RETRIES):
        raise self.retry(countdown=BACKOFF_SECONDS * 2**retries, max_retries=MAX_RETRIES)


@shared_task(name="notifications.tasks.live_started_fanout", ignore_result=True)
def live_started_fanout(stream_id: int) -> None:
    """Queue the "live started" chunks of one stream (safe to run twice: dedupe keys)."""
    from notifications import fanout

    fanout.live_started_fanout(stream_id=stream_id)


@shared_task(name="notifications.tasks.live_started_chunk", ignore_result=True)
def live_started_chunk(stream_id: int, recipients: list) -> None:
    """One chunk of "live started" recipients, `[user_id, push, alimtalk]` each."""
    from notifications import fanout

    fanout.live_started_chunk(
        stream_id=stream_id,
        recipients=[fanout.Recipient.from_task_arg(item) for item in recipients],
    )


@shared_task(name="notifications.tasks.carts_expiring", ignore_result=True)
def carts_expiring_task() -> int:
    """Every 30 s (BEAT_SCHEDULE): warn shoppers whose held lines run out within 2 minutes."""
    from notifications import triggers

    return triggers.carts_expiring_notify()


@shared_task(name="notifications.tasks.order_confirmations", ignore_result=True)
def order_confirmations_task() -> int:
    """Every minute (BEAT_SCHEDULE): the per-show order confirmation after a show ends."""
    from notifications import triggers

    return triggers.order_confirmations_send()
