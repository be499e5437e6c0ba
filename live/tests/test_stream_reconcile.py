"""Reconcile job: a LIVE stream the media server has not had for 2 minutes turns OFFLINE.

Presence comes from heartbeat webhooks (`media_last_seen_at`) and from the SRS HTTP API
(`/api/v1/streams/`), here a small fake SRS on a local port.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from live.models import LiveStream
from live.services.stream import media_reconcile, stream_create, stream_publish
from live.tasks import media_reconcile_task


@pytest.fixture(autouse=True)
def _no_api(settings):
    settings.MEDIA_SERVER_API_URL = ""
    settings.MEDIA_RECONCILE_AFTER_SECONDS = 120


def make_live_stream(title="라이브", seen_ago: timedelta | None = None) -> LiveStream:
    stream = stream_create(title=title)
    stream_publish(
        public_id=stream.public_id, publish_key=stream.publish_key, client_ip="127.0.0.1"
    )
    if seen_ago is not None:
        at = timezone.now() - seen_ago
        LiveStream.objects.filter(pk=stream.pk).update(media_last_seen_at=at, last_publish_at=at)
    stream.refresh_from_db()
    return stream


class FakeSRS:
    """Answers GET /api/v1/streams/ like SRS 5 with the configured stream names."""

    def __init__(self):
        self.names: list[str] = []
        self.status = 200
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append(self.path)
                if not self.path.startswith("/api/v1/streams/"):
                    self.send_response(404)
                    self.end_headers()
                    return
                body = {
                    "code": 0,
                    "server": "vid-fake",
                    "streams": [
                        {
                            "id": f"vid-{i}",
                            "name": name,
                            "vhost": "__defaultVhost__",
                            "app": "live",
                            "url": f"/live/{name}",
                            "clients": 1,
                            "publish": {"active": True, "cid": f"c{i}"},
                        }
                        for i, name in enumerate(fake.names)
                    ],
                }
                payload = json.dumps(body).encode() if fake.status == 200 else b"oops"
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_srs(settings):
    fake = FakeSRS()
    settings.MEDIA_SERVER_API_URL = fake.url
    yield fake
    fake.close()


# --- Heartbeat path -------------------------------------------------------------------------


def test_stream_without_heartbeat_for_two_minutes_goes_offline(db):
    lost = make_live_stream("끊긴 방송", seen_ago=timedelta(minutes=2, seconds=5))
    healthy = make_live_stream("정상 방송", seen_ago=timedelta(seconds=30))

    ended = media_reconcile()

    assert ended == [lost.pk]
    lost.refresh_from_db()
    healthy.refresh_from_db()
    assert lost.status == LiveStream.Status.OFFLINE
    assert lost.ended_at is not None
    assert healthy.status == LiveStream.Status.LIVE


def test_stream_seen_just_under_two_minutes_ago_stays_live(db):
    stream = make_live_stream(seen_ago=timedelta(minutes=1, seconds=50))

    assert media_reconcile() == []
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE


def test_reconcile_task_is_idempotent(db):
    stream = make_live_stream(seen_ago=timedelta(minutes=5))

    first = media_reconcile_task.apply().get()
    second = media_reconcile_task.apply().get()

    assert first == [stream.pk]
    assert second == []


def test_reconcile_leaves_pending_and_offline_streams_alone(db):
    pending = stream_create(title="예정")
    LiveStream.objects.filter(pk=pending.pk).update(
        media_last_seen_at=timezone.now() - timedelta(hours=1)
    )

    assert media_reconcile() == []
    pending.refresh_from_db()
    assert pending.status == LiveStream.Status.PENDING


# --- SRS API path ---------------------------------------------------------------------------


def test_stream_listed_by_srs_stays_live_without_heartbeats(db, fake_srs):
    listed = make_live_stream("SRS에 있음", seen_ago=timedelta(minutes=10))
    missing = make_live_stream("SRS에 없음", seen_ago=timedelta(minutes=10))
    fake_srs.names = [listed.public_id, "someone-elses-stream"]

    ended = media_reconcile()

    assert ended == [missing.pk]
    listed.refresh_from_db()
    assert listed.status == LiveStream.Status.LIVE
    assert timezone.now() - listed.media_last_seen_at < timedelta(seconds=5)
    assert fake_srs.requests and fake_srs.requests[0].startswith("/api/v1/streams/")


def test_stream_missing_from_srs_keeps_its_two_minutes(db, fake_srs):
    recent = make_live_stream(seen_ago=timedelta(seconds=20))
    fake_srs.names = []

    assert media_reconcile() == []
    recent.refresh_from_db()
    assert recent.status == LiveStream.Status.LIVE


def test_srs_api_error_skips_the_round(db, fake_srs, caplog):
    stream = make_live_stream(seen_ago=timedelta(minutes=10))
    fake_srs.status = 500

    assert media_reconcile() == []
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE
    assert "media.reconcile_skipped" in caplog.text


def test_srs_unreachable_skips_the_round(db, settings):
    stream = make_live_stream(seen_ago=timedelta(minutes=10))
    fake = FakeSRS()
    settings.MEDIA_SERVER_API_URL = fake.url
    fake.close()  # nothing listens there any more

    assert media_reconcile() == []
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE
