"""Live-show gauges for `/metrics` (registered in `LiveConfig.ready`), read at scrape time."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from live import presence
from live.models import LiveStream


def live_state():
    stream_ids = list(LiveStream.objects.live().values_list("id", flat=True))
    yield GaugeMetricFamily(
        "dorami_live_streams_live", "Shows on air (status LIVE)", value=len(stream_ids)
    )
    sockets = [presence.socket_count(stream_id) for stream_id in stream_ids]
    viewers = [presence.viewer_count(stream_id) for stream_id in stream_ids]
    if None in sockets or None in viewers:
        return  # Redis is down: no number rather than a false drop to zero
    yield GaugeMetricFamily(
        "dorami_live_websocket_connections",
        "Open live-room websockets of the shows on air, all processes",
        value=sum(sockets),
    )
    yield GaugeMetricFamily(
        "dorami_live_viewers", "Unique viewers of the shows on air", value=sum(viewers)
    )
