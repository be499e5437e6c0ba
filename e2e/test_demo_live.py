"""A newcomer's first show: `manage.py demo_live` without video, and the home countdown."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from e2e.conftest import ROOT, _database_url
from e2e.test_video import media_stack  # noqa: F401 (fixture: nginx-rtmp + the app)
from live.demo import DEMO_STREAM_TITLE
from live.models import LiveStream


def test_simulated_demo_show_is_live_with_a_clear_placeholder(page, asgi_live_server, settings):
    # given the demo show put on air with simulated webhooks (no ffmpeg, no media server)
    settings.RESTREAM_FFMPEG_BIN = "no-such-ffmpeg-binary"
    call_command("demo_live", "--detach", stdout=io.StringIO())
    stream = LiveStream.objects.get(title=DEMO_STREAM_TITLE)

    # when a viewer opens the live page (its video URLs answer 404: no signal yet)
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")

    # then the page is LIVE and the player waits for the signal instead of a network error
    expect(page.locator("[data-live-badge]")).to_be_visible()
    expect(page.locator("[data-player-message]")).to_have_text(
        "영상 신호를 기다리는 중", timeout=15000
    )
    expect(page.get_by_text("네트워크 오류")).to_have_count(0)


def test_home_counts_down_to_the_store_time(page, asgi_live_server):
    # given a show at 19:00 in California, a day or two from now
    la = ZoneInfo("America/Los_Angeles")
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).astimezone(la).date()
    start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 19, 0, tzinfo=la)
    LiveStream.objects.create(title="목요 저녁 라이브", scheduled_at=start)

    # when a shopper opens the home page
    page.goto(asgi_live_server.url + "/")

    # then it reads 오후 7:00 PST/PDT and the countdown ends at that instant
    expect(page.get_by_test_id("next-stream-at")).to_contain_text("오후 7:00 P")
    countdown = page.locator("[data-countdown-to]")
    expect(countdown).to_contain_text(":")
    text = countdown.inner_text()
    left = start - datetime.now(UTC)
    days, rest = text.split("일 ") if "일 " in text else ("0", text)
    hours, minutes, _seconds = (int(part) for part in rest.split(":"))
    shown = timedelta(days=int(days), hours=hours, minutes=minutes)
    assert abs((left - shown).total_seconds()) < 120, (text, left)


@pytest.mark.video
def test_rtmp_mode_publishes_through_the_media_server(media_stack):  # noqa: F811 (fixture)
    # given a media server (nginx-rtmp) whose webhooks reach the app, and ffmpeg
    stack = media_stack
    from django.conf import settings
    from django.db import connection

    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "DORAMI_TESTING": "1",
        "DB_CONN_MAX_AGE": "0",
        "RESTREAM_INPUT_BASE_URL": f"rtmp://127.0.0.1:{stack['rtmp_port']}/live",
    }
    # when demo_live runs in auto mode for a few seconds
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_live", "--seconds", "6"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # then it chose rtmp, the media server's on_publish made the show LIVE, HLS was written
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mode rtmp" in result.stdout and "LIVE:" in result.stdout, result.stdout
    stream = LiveStream.objects.get(title=DEMO_STREAM_TITLE)
    assert stream.last_publish_at is not None
    assert any(stack["hls"].glob(f"{stream.public_id}*"))
