"""Celery application and the one place the periodic schedule is declared."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dorami.settings")

app = Celery("dorami")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
    "points-expire-daily": {
        "task": "points.tasks.points_expire",
        "schedule": crontab(hour=10, minute=15),  # 02:15 in California (UTC schedule)
    },
}

app.conf.beat_schedule = BEAT_SCHEDULE

__all__ = ["BEAT_SCHEDULE", "app", "crontab"]
