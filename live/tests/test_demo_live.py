"""`manage.py demo_live`: the demo show goes LIVE without OBS (simulated webhooks, or ffmpeg)."""

from __future__ import annotations

import io
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dorami.realtime import current_sequence, room_group
from live.demo import DEMO_STREAM_TITLE
from live.models import LiveStream
from live.services.stream import stream_end


def run(*args) -> str:
    out = io.StringIO()
    call_command("demo_live", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _no_media_server(settings):
    """Nothing listens on the RTMP ingest, whatever runs on this machine."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.RESTREAM_INPUT_BASE_URL = f"rtmp://127.0.0.1:{port}/live"
    settings.HLS_ROOT = ""


def test_simulated_publish_puts_the_demo_show_on_air(
    db, client, django_capture_on_commit_callbacks
):
    # when demo_live runs without a media server (the webhook services, called directly)
    with django_capture_on_commit_callbacks(execute=True):
        output = run("--mode", "simulate", "--detach")
    # then the demo broadcast is LIVE, as after a real on_publish, and the room was told
    stream = LiveStream.objects.get(title=DEMO_STREAM_TITLE)
    assert stream.status == LiveStream.Status.LIVE
    assert stream.started_at is not None and stream.live_started_notified_at is not None
    assert current_sequence(room_group(stream.pk)) >= 1
    assert f"/live/{stream.public_id}/" in output
    assert "영상 신호를 기다리는 중" in output
    # and the live page shows the show as live
    page = client.get(f"/live/{stream.public_id}/").content.decode()
    assert 'data-status="LIVE"' in page


def test_the_show_ends_like_obs_stopping(db):
    # when a short simulated show runs to its end
    output = run("--mode", "simulate", "--seconds", "0.2")
    # then the stream is still LIVE, ending after the unpublish grace (a reconnect would resume)
    stream = LiveStream.objects.get(title=DEMO_STREAM_TITLE)
    assert stream.status == LiveStream.Status.LIVE
    assert stream.offline_scheduled_at is not None
    assert stream.offline_scheduled_at > timezone.now()
    assert "stopped" in output


def test_an_ended_demo_show_goes_on_air_again_with_a_new_key(db):
    run("--mode", "simulate", "--detach")
    stream = LiveStream.objects.get(title=DEMO_STREAM_TITLE)
    stream_end(stream=stream)
    old_key = LiveStream.objects.get(pk=stream.pk).publish_key
    # when run again after the seller ended the show (its key expired at once)
    run("--mode", "simulate", "--detach")
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.LIVE
    assert stream.publish_key != old_key


def test_auto_without_ffmpeg_simulates(db, settings):
    settings.RESTREAM_FFMPEG_BIN = "no-such-ffmpeg-binary"
    output = run("--seconds", "0.2")
    assert "mode simulate" in output
    assert LiveStream.objects.get(title=DEMO_STREAM_TITLE).status == LiveStream.Status.LIVE


def test_rtmp_mode_needs_a_media_server(db):
    with pytest.raises(CommandError, match="nothing listens"):
        run("--mode", "rtmp")
    assert not LiveStream.objects.live().exists()


def test_hls_mode_writes_a_test_pattern_the_app_serves(db, settings, tmp_path, client):
    # given ffmpeg and an HLS directory the app serves (the `make run` setup)
    settings.HLS_ROOT = str(tmp_path)
    # when a short show runs in auto mode
    output = run("--seconds", "4")
    # then ffmpeg wrote a playlist under the name the live page plays, served at /hls/
    stream = LiveStream.objects.get(title=DEMO_STREAM_TITLE)
    assert "mode hls" in output
    assert (tmp_path / f"{stream.public_id}.m3u8").is_file()
    playlist = client.get(f"/hls/{stream.public_id}.m3u8")
    assert playlist.status_code == 200
    body = b"".join(playlist.streaming_content).decode()
    assert f"{stream.public_id}-" in body and ".ts" in body
    assert stream.last_publish_at > timezone.now() - timedelta(minutes=1)
