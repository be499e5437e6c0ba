import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="dorami.tasks.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Record that the periodic scheduler is alive (read by `manage.py doctor`)."""
    now = timezone.now().isoformat()
    cache.set("dorami:beat:last", now, timeout=60 * 60)
    return now
