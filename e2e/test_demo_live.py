"""A newcomer's first show: `manage.py demo_live` without video, and the home countdown."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from playwright.sync_api import expect

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
