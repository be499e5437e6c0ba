"""In-process runner of `dorami.celery.BEAT_SCHEDULE` for the embedded default (no broker).

Celery beat does this job in production. Here a daemon thread checks the same table every
second and runs due tasks in-process, so cart timers and waitlist promotion behave the same
on a laptop with no Redis.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from celery.schedules import schedule as every
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


class EmbeddedScheduler(threading.Thread):
    def __init__(self, *, tick_seconds: float = 1.0):
        super().__init__(name="dorami-embedded-beat", daemon=True)
        self.tick_seconds = tick_seconds
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def _entries(self):
        from dorami.celery import BEAT_SCHEDULE, app

        app.loader.import_default_modules()
        for name, entry in BEAT_SCHEDULE.items():
            sched = entry["schedule"]
            if isinstance(sched, int | float):
                sched = every(timedelta(seconds=sched))
            yield name, entry["task"], sched, app

    def run(self) -> None:
        entries = list(self._entries())
        last_run = {name: timezone.now() for name, *_ in entries}
        logger.info("embedded scheduler started with %d jobs", len(entries))
        while not self._stop_event.wait(self.tick_seconds):
            for name, task_name, sched, app in entries:
                due, _next = sched.is_due(last_run[name])
                if not due:
                    continue
                last_run[name] = timezone.now()
                task = app.tasks.get(task_name)
                if task is None:
                    logger.error("scheduled task %s is not registered", task_name)
                    continue
                try:
                    task.apply()
                except Exception:
                    logger.exception("scheduled task %s failed", task_name)
                finally:
                    close_old_connections()
