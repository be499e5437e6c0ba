from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from dorami import backups

BEAT_KEY = "dorami:beat:last"  # read by `manage.py doctor`


@shared_task(name="dorami.tasks.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Record that the periodic scheduler is alive (read by `manage.py doctor`)."""
    now = timezone.now().isoformat()
    cache.set(BEAT_KEY, now, timeout=60 * 60)
    return now


@shared_task(name="dorami.tasks.backup_daily", ignore_result=True)
def backup_daily() -> str:
    """The scheduled `manage.py backup`: dump, verify, store, prune (settings.BACKUP_*)."""
    result = backups.backup_run()
    return result.location
