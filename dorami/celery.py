"""Celery application and the one place the periodic schedule is declared.

Scheduler: Celery's default file scheduler (`celery.beat:PersistentScheduler`) reading
`BEAT_SCHEDULE` below. There is no database scheduler (django-celery-beat is not installed):
job times change in this file, in review, and the same table drives `celery beat`, the embedded
scheduler of `manage.py serve` and `manage.py run_job`.
"""

import os
from zoneinfo import ZoneInfo

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dorami.settings")

app = Celery("dorami")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class store_crontab(crontab):
    """A crontab on the store's wall clock (`STORE_TIME_ZONE`, daylight saving time included):
    `store_crontab(hour=4, minute=30)` runs at 04:30 where the seller is, whatever
    `CELERY_TIMEZONE` (UTC) says. Module-level, so beat can pickle it."""

    @property
    def tz(self):
        from django.conf import settings

        return ZoneInfo(settings.STORE_TIME_ZONE)


# Every periodic job of the product, in one table. Celery beat runs it in production; without a
# broker (the embedded default) `manage.py serve` runs the same table in-process, so cart timers
# behave the same everywhere. Keep entries idempotent: a late or doubled run must be harmless.
BEAT_SCHEDULE: dict[str, dict] = {
    "health-heartbeat": {"task": "dorami.tasks.heartbeat", "schedule": 60.0},
    "cart-holds-expire": {"task": "shop.tasks.holds_expire", "schedule": 60.0},
    "live-finalize-due-offline": {"task": "live.tasks.streams_finalize_due", "schedule": 5.0},
    "live-media-reconcile": {"task": "live.tasks.media_reconcile", "schedule": 30.0},
    "orders-unpaid-reminders": {"task": "orders.tasks.unpaid_reminders", "schedule": 300.0},
    "orders-unpaid-auto-cancel": {"task": "orders.tasks.unpaid_auto_cancel", "schedule": 300.0},
    "notifications-carts-expiring": {
        "task": "notifications.tasks.carts_expiring",
        "schedule": 30.0,
    },
    "notifications-order-confirmations": {
        "task": "notifications.tasks.order_confirmations",
        "schedule": 60.0,
    },
    "points-expire-daily": {
        "task": "points.tasks.points_expire",
        "schedule": store_crontab(hour=2, minute=15),
    },
    "database-backup-daily": {
        "task": "dorami.tasks.backup_daily",
        "schedule": store_crontab(hour=4, minute=30),  # quiet hours, before the seller's day
    },
}

app.conf.beat_schedule = BEAT_SCHEDULE


def schedule_text(schedule) -> str:
    """How `manage.py run_job --list` shows a schedule."""
    if isinstance(schedule, int | float):
        return f"every {schedule:g} s"
    if isinstance(schedule, crontab):
        zone = "store time" if isinstance(schedule, store_crontab) else "UTC"
        fields = repr(schedule).removeprefix("<crontab: ").split(" (")[0]
        return f"cron {fields} ({zone})"
    return str(schedule)


__all__ = ["BEAT_SCHEDULE", "app", "crontab", "schedule_text", "store_crontab"]
