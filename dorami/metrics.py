"""`/metrics`: request metrics plus the site's state, read at scrape time.

Process metrics (responses by status, latency by view, cart add batches) are counted per
process by `RequestMetricsMiddleware` and the apps, and summed by
prometheus_client's multiprocess mode. State metrics describe the whole site — the beat
heartbeat, the Celery queue, live shows — so they are read once per scrape from Redis/the
database by the collectors registered here (apps add theirs with `register`, e.g.
`live/metrics.py`). `ops/alerts.yml` alerts on these names.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime

import prometheus_client
from django.conf import settings
from django.core.cache import cache
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# The names django-prometheus uses for the same two series (dashboards and ops/alerts.yml).
RESPONSES = prometheus_client.Counter(
    "django_http_responses_total_by_status", "Responses by status code", ["status"]
)
LATENCY = prometheus_client.Histogram(
    "django_http_requests_latency_seconds_by_view_method",
    "Seconds from the request reaching Django to its response, by view and method",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestMetricsMiddleware:
    """Counts every response by status and times it by view: two series per request (the
    nine of django-prometheus's two middleware cost a cart add about 7 % of its CPU)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else "<unresolved>"
        RESPONSES.labels(str(response.status_code)).inc()
        LATENCY.labels(view, request.method).observe(time.perf_counter() - started)
        return response


CELERY_QUEUES = ("celery",)  # every task goes to Celery's default queue (no task routes)
StateReader = Callable[[], Iterable[GaugeMetricFamily]]
_readers: list[StateReader] = []


def register(reader: StateReader) -> StateReader:
    """Add a function yielding gauge families to every scrape (idempotent)."""
    if reader not in _readers:
        _readers.append(reader)
    return reader


class _StateCollector(Collector):
    def collect(self):
        for reader in list(_readers):
            try:
                yield from reader()
            except Exception:  # one broken reader must not hide the others
                logger.exception("metrics reader %s failed", reader.__name__)


_state = prometheus_client.CollectorRegistry(auto_describe=False)
_state.register(_StateCollector())


def _timestamp(value) -> float:
    if not value:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value)).timestamp()


@register
def scheduler_state():
    from dorami.backups import LAST_SUCCESS_KEY
    from dorami.tasks import BEAT_KEY

    yield GaugeMetricFamily(
        "dorami_beat_heartbeat_timestamp_seconds",
        "Unix time of the last dorami.tasks.heartbeat run (0: never; beat is down)",
        value=_timestamp(cache.get(BEAT_KEY)),
    )
    yield GaugeMetricFamily(
        "dorami_backup_last_success_timestamp_seconds",
        "Unix time of the last verified, stored database backup (0: none yet)",
        value=_timestamp(cache.get(LAST_SUCCESS_KEY)),
    )


@register
def celery_queue():
    """Tasks waiting in the Redis broker's queues (LLEN): workers are behind or down."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return
    import redis

    family = GaugeMetricFamily(
        "dorami_celery_queue_length", "Tasks waiting in a Celery queue", labels=["queue"]
    )
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        for queue in CELERY_QUEUES:
            family.add_metric([queue], client.llen(queue))
    except redis.RedisError:
        logger.warning("celery queue length unavailable: broker down")
        return
    finally:
        client.close()
    yield family


def metrics_view(request):
    """django_prometheus's ExportToDjangoView, plus the state collectors."""
    from django_prometheus.exports import ExportToDjangoView

    response = ExportToDjangoView(request)
    response.content = response.content + prometheus_client.generate_latest(_state)
    return response
