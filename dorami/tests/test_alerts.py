"""Every metric named in ops/alerts.yml exists: in this site's /metrics or a named exporter."""

import re

import pytest
import yaml
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from prometheus_client.parser import text_string_to_metric_families

from dorami.tasks import heartbeat
from live import presence
from live.models import LiveStream
from orders.tests.factories import make_stream

ALERTS = settings.BASE_DIR / "ops" / "alerts.yml"
# Exported by standard exporters, named in the rule file's header comment.
EXPORTERS = {
    "redis_up": "redis_exporter",
    "node_filesystem_avail_bytes": "node_exporter",
    "node_filesystem_size_bytes": "node_exporter",
}
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "by", "without", "on",
    "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "time", "absent",
    "max_over_time", "min_over_time", "avg_over_time", "offset", "clamp_min", "clamp_max",
}  # fmt: skip


def _metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr))
    return words - PROMQL_WORDS


def _rules() -> list[dict]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_alert_rules_cover_the_operations_issue():
    names = {rule["alert"] for rule in _rules()}
    assert {
        "HighServerErrorRate",
        "BeatHeartbeatMissing",
        "CeleryQueueBacklog",
        "RedisDown",
        "LiveViewersDropped",
        "HlsDiskFilling",
    } <= names
    for rule in _rules():
        assert rule["expr"].strip() and rule["labels"]["severity"] in {"page", "warn"}
        assert rule["annotations"]["summary"]


@pytest.fixture
def on_air(db):
    stream = make_stream()
    LiveStream.objects.filter(pk=stream.pk).update(status=LiveStream.Status.LIVE)
    return stream


def test_every_alert_metric_is_exported(client, on_air, settings):
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    heartbeat()
    assert client.get("/api/v1/health/live").status_code == 200  # a counted response
    body = client.get("/metrics").content.decode()
    exported = {
        sample.name for family in text_string_to_metric_families(body) for sample in family.samples
    }
    missing = {}
    for rule in _rules():
        for name in _metric_names(rule["expr"]):
            if name not in exported and name not in EXPORTERS:
                missing.setdefault(rule["alert"], []).append(name)
    assert missing == {}
    for name in EXPORTERS:
        assert f"{EXPORTERS[name]}" in ALERTS.read_text().split("groups:")[0]


def test_state_gauges_read_the_site(client, on_air, settings):
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    from dorami.realtime import sync_redis

    sync_redis().rpush("celery", "a", "b", "c")
    cache.delete("dorami:beat:last")

    def gauges():
        body = client.get("/metrics").content.decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
            if s.name.startswith("dorami_")
        }

    try:
        before = gauges()
        assert before[("dorami_beat_heartbeat_timestamp_seconds", ())] == 0
        assert before[("dorami_celery_queue_length", (("queue", "celery"),))] == 3
        assert before[("dorami_live_streams_live", ())] == 1
        assert before[("dorami_live_websocket_connections", ())] == 0
        async_to_sync(presence.presence_join)(stream_id=on_air.pk, member="u1")
        async_to_sync(presence.presence_join)(stream_id=on_air.pk, member="u1")  # 2nd tab
        after = gauges()
        assert after[("dorami_live_websocket_connections", ())] == 2
        assert after[("dorami_live_viewers", ())] == 1
        heartbeat()
        assert gauges()[("dorami_beat_heartbeat_timestamp_seconds", ())] > 1.7e9
    finally:
        sync_redis().delete("celery")


def test_responses_are_counted_by_status_and_timed_by_view(client, db):
    def samples():
        body = client.get("/metrics").content.decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
        }

    before = samples()
    assert client.get("/api/v1/health/live").status_code == 200
    assert client.get("/no-such-page/").status_code == 404
    after = samples()

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("django_http_responses_total_by_status_total", status="404") == 1
    # the /metrics request of `before` is counted too once it has answered
    assert grew("django_http_responses_total_by_status_total", status="200") == 2
    view = {"view": "health-live", "method": "GET"}
    assert grew("django_http_requests_latency_seconds_by_view_method_count", **view) == 1
    assert (
        grew(
            "django_http_requests_latency_seconds_by_view_method_count",
            view="<unresolved>",
            method="GET",
        )
        == 1
    )
